# Interrupt round trips, long mode: rcx = N. The IDT of irq-count (vector 0x20 at 0x8000), then N
# times: asks for an interrupt by a store to 0x908 (femtovm's `interrupt` native device raises the
# line there; the C baseline does the same), `sti; hlt` until it is taken, `cli`. The handler
# acknowledges at 0x9f8 (the line goes low), counts and returns with iretq. Reports the count to
# 0x900 and ends with hlt (IF clear). One round trip: the request's exit, the injection, the handler
# and the acknowledge's exit.
    .code64
    .include "irq.inc"
    irq_setup
    take_interrupts request=1
    report_halt_and_handler

    irq_idtr
