// Access sizes: for S = 1, 2, 4, 8 bytes in turn, loads S bytes from MMIO 0x900, adds 1
// (wrapping within S bytes) and stores S bytes to MMIO 0x908. Takes no registers.
// Ends with PSCI SYSTEM_OFF.
    mov     x1, #0x900
    mov     x2, #0x908
    ldrb    w3, [x1]
    add     w3, w3, #1
    strb    w3, [x2]
    ldrh    w3, [x1]
    add     w3, w3, #1
    strh    w3, [x2]
    ldr     w3, [x1]
    add     w3, w3, #1
    str     w3, [x2]
    ldr     x3, [x1]
    add     x3, x3, #1
    str     x3, [x2]
    movz    x0, #0x0008             // PSCI SYSTEM_OFF
    movk    x0, #0x8400, lsl #16
    hvc     #0
