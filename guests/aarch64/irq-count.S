// Interrupts: x0 = N. Sleeps in WFI until vm.interrupt() raises the IRQ line, N times, and reports
// the count (32-bit) to MMIO 0x900, then PSCI SYSTEM_OFF. IRQs stay masked except for one instruction
// after each wake (WFI wakes on a pending IRQ even when masked), so the IRQ is taken at the same
// place on every backend. The handler (VBAR_EL1 + 0x280: current EL, SP_EL1) acknowledges by storing
// the count so far to 0x9f8, which lowers the line, counts, and returns with ERET.
    .include "irq.inc"
    irq_start
1:  cmp     x20, x19
    b.hs    2f
    sleep_and_take_irq
    b       1b
    end_and_irq_entry
    acknowledge
    eret
