// A store with writeback to MMIO 0x900: it has no valid syndrome, so KVM cannot decode it and
// KVM_RUN fails (ENOSYS unless KVM_CAP_ARM_NISV_TO_USER is enabled). Takes no registers.
    mov     x0, #0x900
    str     w1, [x0], #4
