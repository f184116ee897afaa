// Benchmark guest: x0 = N. Loads 4 bytes from MMIO 0x900 N times (one exit each) and sums what it
// reads in x3; N = 0 loads nothing. Ends with PSCI SYSTEM_OFF.
    mov     x1, #0x900
    mov     x3, #0
    cbz     x0, 2f
1:  ldr     w2, [x1]
    add     x3, x3, x2
    subs    x0, x0, #1
    b.ne    1b
2:  movz    x0, #0x0008             // PSCI SYSTEM_OFF
    movk    x0, #0x8400, lsl #16
    hvc     #0
