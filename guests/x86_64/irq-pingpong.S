# Interrupt round trips, long mode: rcx = N. The IDT of irq-count (vector 0x20 at 0x8000), then N
# times: asks for an interrupt by a store to 0x908 (femtovm's `interrupt` native device raises the
# line there; the C baseline does the same), `sti; hlt` until it is taken, `cli`. The handler
# acknowledges at 0x9f8 (the line goes low), counts and returns with iretq. Reports the count to
# 0x900 and ends with hlt (IF clear). One round trip: the request's exit, the injection, the handler
# and the acknowledge's exit.
    .code64
    .include "irq.inc"
    irq_setup
1:  cmp     %r12, %r13
    jae     2f
    mov     %r13, %r14
    mov     %r13d, 0x908            # the request: the line goes high
3:  sti
    hlt                             # in sti's shadow: the interrupt wakes it
    cli
    cmp     %r13, %r14              # not taken yet: sleep again
    je      3b
    jmp     1b
    report_halt_and_handler

    irq_idtr
