# Interrupt round trips through an irqfd (irqchip 'kernel' or 'split' with irqfd, KVM only), long
# mode: rcx = N. The IDT of irq-count (vector 0x20 at 0x8000), then N times: asks for an interrupt by
# a store to 0x908 (femtovm's `interrupt` native device signals the VM's irqfd there, an MSI route to
# the LAPIC; the C baseline does the same), `sti; hlt` until it is taken, `cli`. The handler counts
# and writes the LAPIC's EOI register (0xfee000b0): no acknowledge write, an irqfd's interrupt is an
# edge. Reports the count (32-bit) to MMIO 0x900, then waits in `hlt` with IF clear: with the LAPIC in
# KVM that never exits, so the VMM ends the run on the report. One round trip: the request's exit,
# KVM's injection, the handler and its EOI, answered by the LAPIC in the kernel.
    .code64
    .include "irq.inc"
    irq_setup
    mov     $0xfee000b0, %r15d      # the LAPIC's EOI register (above 2 GiB: no 32-bit absolute operand)
    take_interrupts request=1
2:  mov     %r13d, 0x900
4:  hlt
    jmp     4b

handler:
    resume_past_hlt
    inc     %r13
    movl    $0, (%r15)              # end of interrupt: the LAPIC takes the next one
    iretq

    irq_idtr
