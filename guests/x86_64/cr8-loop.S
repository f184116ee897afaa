# CR8 benchmark guest, long mode, with an in-kernel LAPIC (irqchip 'kernel' or 'split'): rcx = N.
# N times `mov %rax,%cr8` with rax = 0 (the task priority, kvm-unit-tests' vmexit "mov_to_cr8"),
# which KVM answers in the kernel. Then reports 0 to MMIO 0x900 (the run's one exit: with the LAPIC
# in KVM, `hlt` never exits, so the VMM ends the run there) and waits in hlt.
    .code64
    xor     %eax, %eax
    test    %rcx, %rcx
    jz      2f
1:  mov     %rax, %cr8
    dec     %rcx
    jnz     1b
2:  movl    $0, 0x900
3:  hlt
    jmp     3b
