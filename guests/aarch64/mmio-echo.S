// Echo: reads a byte from MMIO 0x900 again and again and writes each nonzero byte to the
// console 0x996. Takes no registers. Ends with PSCI SYSTEM_OFF when it reads 0.
    mov     x1, #0x900
    mov     x2, #0x996
1:  ldrb    w3, [x1]
    cbz     w3, 2f
    strb    w3, [x2]
    b       1b
2:  movz    x0, #0x0008             // PSCI SYSTEM_OFF
    movk    x0, #0x8400, lsl #16
    hvc     #0
