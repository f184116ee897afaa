// Register round trip: x4 = x0 + x1, x5 = x0 - x1, x6 = sp; other registers untouched.
// Takes x0, x1 (and sp). Ends with PSCI SYSTEM_OFF, and KVM's SMCCC return then overwrites
// x0-x3 (x0 = -6, PSCI INTERNAL_FAILURE; x1-x3 = 0): that is why the results are in x4-x6.
    add     x4, x0, x1
    sub     x5, x0, x1
    mov     x6, sp
    movz    x0, #0x0008             // PSCI SYSTEM_OFF
    movk    x0, #0x8400, lsl #16
    hvc     #0
