# Interrupts through an in-kernel LAPIC (irqchip 'kernel' or 'split', KVM only), long mode: rcx = N.
# irq-count with an end of interrupt: the same IDT gate for vector 0x20 and `sti; hlt` N times; the
# handler acknowledges at 0x9f8 (the line goes low), counts, writes the LAPIC's EOI register
# (0xfee000b0), and returns with iretq. Reports the count (32-bit) to MMIO 0x900, then waits in
# `hlt` with IF clear: with the LAPIC in KVM that never exits, so the VMM ends the run on the report.
    .code64
    mov     %rcx, %r12              # N
    xor     %r13d, %r13d            # interrupts taken
    lea     handler(%rip), %rax
    mov     $0x8200, %edi           # the gate of vector 0x20 (16 bytes each) in the IDT at 0x8000
    mov     %ax, (%rdi)             # offset 15:0
    movw    $0x08, 2(%rdi)          # code selector
    movw    $0x8e00, 4(%rdi)        # present, DPL 0, 64-bit interrupt gate, IST 0
    shr     $16, %rax
    mov     %ax, 6(%rdi)            # offset 31:16
    shr     $16, %rax
    mov     %eax, 8(%rdi)           # offset 63:32
    movl    $0, 12(%rdi)
    lidt    idtr(%rip)
    mov     $0xfee000b0, %r14d      # the LAPIC's EOI register (above 2 GiB: no 32-bit absolute operand)
1:  cmp     %r12, %r13
    jae     2f
    sti
    hlt                             # in sti's shadow: the interrupt wakes it
    cli
    jmp     1b
2:  mov     %r13d, 0x900
3:  hlt
    jmp     3b

handler:
    mov     %r13d, 0x9f8            # acknowledge: the line goes low
    inc     %r13
    movl    $0, (%r14)              # end of interrupt: the LAPIC takes the next one
    iretq

idtr:
    .word   0x21 * 16 - 1
    .quad   0x8000
