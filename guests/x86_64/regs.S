# Register round trip, 64-bit long mode: rdx = rax + rbx, rsi = rax - rbx, rdi = rsp;
# other registers untouched. Takes rax, rbx (and rsp). Ends with hlt.
    .code64
    lea     (%rax,%rbx), %rdx
    mov     %rax, %rsi
    sub     %rbx, %rsi
    mov     %rsp, %rdi
    hlt
