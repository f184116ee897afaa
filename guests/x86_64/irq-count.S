# Interrupts, long mode: rcx = N. Builds an IDT at 0x8000 whose vector 0x20 gate points at the
# handler, then N times: `sti; hlt` (HLT with IF set waits for vm.interrupt()), `cli`. Reports the
# count (32-bit) to MMIO 0x900 and ends with hlt (IF clear). The handler acknowledges by storing the
# count so far to 0x9f8, which lowers the line, counts, and returns with iretq.
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
1:  cmp     %r12, %r13
    jae     2f
    sti
    hlt                             # in sti's shadow: the interrupt wakes it
    cli
    jmp     1b
2:  mov     %r13d, 0x900
    hlt

handler:
    mov     %r13d, 0x9f8            # acknowledge: the line goes low
    inc     %r13
    iretq

idtr:
    .word   0x21 * 16 - 1
    .quad   0x8000
