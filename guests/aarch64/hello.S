// Prints "Hello\n" with byte stores to the console 0x996.
// Takes no registers (uses x0, x4, x5). Ends with PSCI SYSTEM_OFF.
    mov     x4, #0x996
    mov     w5, #'H'
    strb    w5, [x4]
    mov     w5, #'e'
    strb    w5, [x4]
    mov     w5, #'l'
    strb    w5, [x4]
    strb    w5, [x4]
    mov     w5, #'o'
    strb    w5, [x4]
    mov     w5, #'\n'
    strb    w5, [x4]
    movz    x0, #0x0008             // PSCI SYSTEM_OFF
    movk    x0, #0x8400, lsl #16
    hvc     #0
