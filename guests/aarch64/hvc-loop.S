// Hypercall benchmark guest: x0 = N. N times HVC #0 with x0 = SMCCC_VERSION (0x80000000), a
// function KVM answers inside the kernel: the floor of an exit that never reaches user space
// (kvm-unit-tests' micro-bench "hvc"). Ends with PSCI SYSTEM_OFF.
    mov     x19, x0
    cbz     x19, 2f
1:  movz    x0, #0x8000, lsl #16
    hvc     #0
    subs    x19, x19, #1
    b.ne    1b
2:  movz    x0, #0x0008             // PSCI SYSTEM_OFF
    movk    x0, #0x8400, lsl #16
    hvc     #0
