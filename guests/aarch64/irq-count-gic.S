// Interrupts through the in-kernel GICv3 (irqchip 'kernel', KVM only): x0 = N. Sets the GIC up as a
// kernel would: the distributor (0x80000000) on with affinity routing, INTID 32 (the SPI
// vm.interrupt() raises) in group 1 and enabled, the redistributor (0x80010000) awake, the CPU
// interface on (ICC_SRE_EL1.SRE, ICC_PMR_EL1 = 0xff, ICC_IGRPEN1_EL1). Then as irq-count: sleeps in
// WFI N times; the handler takes the interrupt from the GIC (ICC_IAR1_EL1), acknowledges it at 0x9f8
// (the line goes low), counts, ends it (ICC_EOIR1_EL1) and returns with ERET. Reports N to 0x900,
// then PSCI SYSTEM_OFF.
    .include "irq.inc"
    irq_start
    movz    x22, #0x8000, lsl #16   // GICD
    mov     w1, #0x12               // GICD_CTLR: ARE, EnableGrp1
    str     w1, [x22]
    mov     w1, #1                  // INTID 32: bit 0 of the second register of each bank
    str     w1, [x22, #0x84]        // GICD_IGROUPR1: group 1
    str     w1, [x22, #0x104]       // GICD_ISENABLER1: enabled
    movz    x23, #0x8001, lsl #16   // GICR (RD_base)
    ldr     w1, [x23, #0x14]        // GICR_WAKER
    bic     w1, w1, #2              // ProcessorSleep off
    str     w1, [x23, #0x14]
    mrs     x1, s3_0_c12_c12_5      // ICC_SRE_EL1
    orr     x1, x1, #1              // SRE: the CPU interface through system registers
    msr     s3_0_c12_c12_5, x1
    isb
    mov     x1, #0xff
    msr     s3_0_c4_c6_0, x1        // ICC_PMR_EL1: every priority passes
    mov     x1, #1
    msr     s3_0_c12_c12_7, x1      // ICC_IGRPEN1_EL1: group 1 on
    isb
1:  cmp     x20, x19
    b.hs    2f
    sleep_and_take_irq
    b       1b
    end_and_irq_entry
    mrs     x9, s3_0_c12_c12_0      // ICC_IAR1_EL1: the INTID, now active
    acknowledge
    msr     s3_0_c12_c12_1, x9      // ICC_EOIR1_EL1: end of interrupt
    eret
