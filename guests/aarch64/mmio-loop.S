// Benchmark guest: x0 = N. Stores the 32-bit counter N, N-1, ..., 1 to MMIO 0x900 (one 4-byte
// store, one exit each); N = 0 stores nothing. Ends with PSCI SYSTEM_OFF.
    mov     x1, #0x900
    cbz     x0, 2f
1:  str     w0, [x1]
    subs    x0, x0, #1
    b.ne    1b
2:  movz    x0, #0x0008             // PSCI SYSTEM_OFF
    movk    x0, #0x8400, lsl #16
    hvc     #0
