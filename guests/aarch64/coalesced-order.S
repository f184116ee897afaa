// Coalesced writes just before an exit: stores 1 and 2 to MMIO 0x900 (a coalesced range in the tests),
// then by x0: 0 loads MMIO 0x908 (an exit), stores 3 to 0x900 and powers off; 1 stores to 0x900 with
// writeback (no syndrome: the run fails); 2 powers off at once. Everything before an exit reaches the
// device and the event stream before it.
    mov     x1, #0x900
    mov     x3, #1
    str     w3, [x1]
    mov     x3, #2
    str     w3, [x1]
    cbz     x0, 1f
    cmp     x0, #1
    b.ne    2f
    str     w3, [x1], #4
1:  ldr     w4, [x1, #8]
    mov     x3, #3
    str     w3, [x1]
2:  movz    x0, #0x0008             // PSCI SYSTEM_OFF
    movk    x0, #0x8400, lsl #16
    hvc     #0
