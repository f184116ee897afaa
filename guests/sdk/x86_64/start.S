// x86-64 start code: the image's first bytes (at 0x1000), the femto_io header at +0x20. Runs in the
// platform's long mode (identity-mapped, SSE enabled, RSP just below the page tables at the top of RAM).
    .section .text.entry, "ax"
    .code64
    .global _entry
_entry:
    jmp     _start
    .balign 32                      // femto.c's header follows (link.ld)

    .text
    .global _start
_start:
    lea     __bss_start(%rip), %rdi
    lea     __bss_end(%rip), %rcx
    sub     %rdi, %rcx
    xor     %eax, %eax
    rep stosb
    mov     %rsp, %rdi
    and     $-16, %rsp              // the SysV ABI's alignment at a call
    call    femto_main              // does not return

    .global femto_arch_exit
femto_arch_exit:
    hlt
    jmp     femto_arch_exit
