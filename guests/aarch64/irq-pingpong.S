// Interrupt round trips: x0 = N. N times: asks for an interrupt by a store to 0x908 (femtovm's
// `interrupt` native device raises the line there; the C baseline does the same), sleeps in WFI until
// it is taken at VBAR_EL1 + 0x280, where the handler acknowledges at 0x9f8 (the line goes low) and
// counts. Then reports the count to 0x900 and ends with PSCI SYSTEM_OFF. One round trip: the
// request's exit, the interrupt's delivery, the handler and the acknowledge's exit.
    .include "irq.inc"
    irq_start
    request_interrupts
    end_and_irq_entry
    acknowledge
    eret
