// Test guest: x0 = N > 0. Stores the 32-bit counter N, N-1, ..., 1 to MMIO 0x900 and then to MMIO
// 0xa00 (two devices whose writes interleave in one coalesced ring). Ends with PSCI SYSTEM_OFF.
    mov     x1, #0x900
    mov     x3, #0xa00
1:  str     w0, [x1]
    str     w0, [x3]
    subs    x0, x0, #1
    b.ne    1b
    movz    x0, #0x0008             // PSCI SYSTEM_OFF
    movk    x0, #0x8400, lsl #16
    hvc     #0
