// Interrupts through the in-kernel GICv3 (irqchip 'kernel', KVM only): x0 = N. Sets the GIC up as a
// kernel would (gic_on, irq.inc). Then as irq-count: sleeps in
// WFI N times; the handler takes the interrupt from the GIC (ICC_IAR1_EL1), acknowledges it at 0x9f8
// (the line goes low), counts, ends it (ICC_EOIR1_EL1) and returns with ERET. Reports N to 0x900,
// then PSCI SYSTEM_OFF.
    .include "irq.inc"
    irq_start
    gic_on
1:  cmp     x20, x19
    b.hs    2f
    sleep_and_take_irq
    b       1b
    end_and_irq_entry
    mrs     x9, s3_0_c12_c12_0      // ICC_IAR1_EL1: the INTID, now active
    acknowledge
    msr     s3_0_c12_c12_1, x9      // ICC_EOIR1_EL1: end of interrupt
    eret
