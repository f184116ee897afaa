// Interrupt round trips: x0 = N. N times: asks for an interrupt by a store to 0x908 (femtovm's
// `interrupt` native device raises the line there; the C baseline does the same), sleeps in WFI until
// it is taken at VBAR_EL1 + 0x280, where the handler acknowledges at 0x9f8 (the line goes low) and
// counts. Then reports the count to 0x900 and ends with PSCI SYSTEM_OFF. One round trip: the
// request's exit, the interrupt's delivery, the handler and the acknowledge's exit.
    .include "irq.inc"
    irq_start
    mov     x22, #0x908
1:  cmp     x20, x19
    b.hs    2f
    mov     x23, x20
    str     w20, [x22]              // the request: the line goes high
3:  sleep_and_take_irq
    cmp     x20, x23                // not taken yet (WFI may wake early): sleep again
    b.eq    3b
    b       1b
    end_and_irq_entry
    acknowledge
    eret
