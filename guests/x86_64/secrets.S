# Reuse safety (64-bit long mode): reports the state it starts with, then overwrites all of it with
# secrets, so a second run on a reset VM shows whether anything leaked. Reported as 8-byte stores to
# MMIO 0x900 (the x87 control word: 2 bytes), in this order: the 16 general registers, RFLAGS, CR0,
# CR4, DR0, FS/GS selectors, FS.base, GS.base, KernelGSbase,
# and 4 quadwords of RAM at 0x8000. Ends with hlt.
    .code64
    .set    MMIO, 0x900
    movq    %rax, MMIO
    movq    %rbx, MMIO
    movq    %rcx, MMIO
    movq    %rdx, MMIO
    movq    %rsi, MMIO
    movq    %rdi, MMIO
    movq    %rsp, MMIO
    movq    %rbp, MMIO
    movq    %r8, MMIO
    movq    %r9, MMIO
    movq    %r10, MMIO
    movq    %r11, MMIO
    movq    %r12, MMIO
    movq    %r13, MMIO
    movq    %r14, MMIO
    movq    %r15, MMIO
    pushfq
    popq    %rax
    movq    %rax, MMIO
    movq    %cr0, %rax
    movq    %rax, MMIO
    movq    %cr4, %rax
    movq    %rax, MMIO
    movq    %dr0, %rax
    movq    %rax, MMIO
    xorq    %rax, %rax
    movw    %fs, %ax
    movq    %rax, MMIO
    movw    %gs, %ax
    movq    %rax, MMIO
    movl    $0xc0000100, %ecx       # FS.base, GS.base, KernelGSbase
1:  rdmsr
    shlq    $32, %rdx
    orq     %rdx, %rax
    movq    %rax, MMIO
    incl    %ecx
    cmpl    $0xc0000103, %ecx
    jne     1b
    movq    $0x8000, %rbx
    movl    $4, %ecx
2:  movq    (%rbx), %rax
    movq    %rax, MMIO
    addq    $8, %rbx
    loop    2b

    movabsq $0x00007ec2e75ec2e7, %rax   # the secrets (canonical: some go into MSRs)
    movq    %rax, 0x8000
    movq    %rax, 0x8008
    movq    %rax, 0x8018
    movq    %cr4, %rbx
    orq     $0x600, %rbx            # CR4.OSFXSR, OSXMMEXCPT
    movq    %rbx, %cr4
    movq    %rax, %dr0
    movq    %rax, %rdx
    shrq    $32, %rdx
    movl    $0xc0000100, %ecx
3:  wrmsr
    incl    %ecx
    cmpl    $0xc0000103, %ecx
    jne     3b
    movw    $0x10, %cx
    movw    %cx, %fs
    movw    %cx, %gs
    pushq   $0xcd5                  # CF, PF, ZF, SF, DF, OF
    popfq
    movq    %rax, %rbx
    movq    %rax, %rcx
    movq    %rax, %rdx
    movq    %rax, %rsi
    movq    %rax, %rdi
    movq    %rax, %rbp
    movq    %rax, %r8
    movq    %rax, %r9
    movq    %rax, %r10
    movq    %rax, %r11
    movq    %rax, %r12
    movq    %rax, %r13
    movq    %rax, %r14
    movq    %rax, %r15
    movq    %rax, %rsp
    movq    %cr0, %rax
    orq     $0x8, %rax              # CR0.TS: a next run's first x87/SSE instruction would fault
    movq    %rax, %cr0
    hlt
