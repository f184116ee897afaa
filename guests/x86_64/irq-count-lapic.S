# Interrupts through an in-kernel LAPIC (irqchip 'kernel' or 'split', KVM only), long mode: rcx = N.
# irq-count with an end of interrupt: the same IDT gate for vector 0x20 and `sti; hlt` N times; the
# handler acknowledges at 0x9f8 (the line goes low), counts, writes the LAPIC's EOI register
# (0xfee000b0), and returns with iretq. Reports the count (32-bit) to MMIO 0x900, then waits in
# `hlt` with IF clear: with the LAPIC in KVM that never exits, so the VMM ends the run on the report.
    .code64
    .include "irq.inc"
    irq_setup
    mov     $0xfee000b0, %r14d      # the LAPIC's EOI register (above 2 GiB: no 32-bit absolute operand)
    take_interrupts
2:  mov     %r13d, 0x900
3:  hlt
    jmp     3b

handler:
    resume_past_hlt
    mov     %r13d, 0x9f8            # acknowledge: the line goes low
    inc     %r13
    movl    $0, (%r14)              # end of interrupt: the LAPIC takes the next one
    iretq

    irq_idtr
