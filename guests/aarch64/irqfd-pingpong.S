// Interrupt round trips through an irqfd (irqchip 'kernel' with irqfd, KVM only): x0 = N. The GIC on
// (gic_on, irq.inc), then N times: asks for an interrupt by a store to 0x908 (femtovm's `interrupt`
// native device signals the VM's irqfd there; the C baseline does the same), sleeps in WFI until it
// is taken at VBAR_EL1 + 0x280, where the handler takes it from the GIC (ICC_IAR1_EL1), counts and
// ends it (ICC_EOIR1_EL1): no acknowledge write, an irqfd's interrupt is an edge. Reports the count to
// 0x900 and ends with PSCI SYSTEM_OFF. One round trip: the request's exit, KVM's injection, the
// handler and its EOI, answered by the vGIC in the kernel.
    .include "irq.inc"
    irq_start
    gic_on
    request_interrupts
    end_and_irq_entry
    mrs     x9, s3_0_c12_c12_0      // ICC_IAR1_EL1: the INTID, now active
    add     x20, x20, #1
    msr     s3_0_c12_c12_1, x9      // ICC_EOIR1_EL1: end of interrupt
    eret
