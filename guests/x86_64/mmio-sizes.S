# Access sizes, 64-bit long mode: for S = 1, 2, 4, 8 bytes in turn, loads S bytes from MMIO
# 0x900, adds 1 (wrapping within S bytes) and stores S bytes to MMIO 0x908.
# Takes no registers (uses rax). Ends with hlt.
    .code64
    mov     0x900, %al
    add     $1, %al
    mov     %al, 0x908
    mov     0x900, %ax
    add     $1, %ax
    mov     %ax, 0x908
    mov     0x900, %eax
    add     $1, %eax
    mov     %eax, 0x908
    mov     0x900, %rax
    add     $1, %rax
    mov     %rax, 0x908
    hlt
