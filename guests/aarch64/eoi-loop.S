// GIC end-of-interrupt benchmark guest (irqchip 'kernel', KVM only): x0 = N. Turns on the GICv3 CPU
// interface's system registers (ICC_SRE_EL1.SRE), then N times writes the spurious INTID 1023 to
// ICC_EOIR1_EL1, as kvm-unit-tests' arm micro-bench `eoi` does: KVM's vGIC answers it with no exit.
// Ends with PSCI SYSTEM_OFF.
    mov     x19, x0
    mrs     x1, s3_0_c12_c12_5      // ICC_SRE_EL1
    orr     x1, x1, #1
    msr     s3_0_c12_c12_5, x1
    isb
    mov     x2, #1023
    cbz     x19, 2f
1:  msr     s3_0_c12_c12_1, x2      // ICC_EOIR1_EL1
    subs    x19, x19, #1
    b.ne    1b
2:  movz    x0, #0x0008             // PSCI SYSTEM_OFF
    movk    x0, #0x8400, lsl #16
    hvc     #0
