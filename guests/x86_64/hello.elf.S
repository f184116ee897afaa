# ELF guest, 64-bit long mode (linked at 0x1000): the message comes first, so e_entry (_start)
# is not the first loaded byte. Copies "Hello\n" from RAM to the console 0x996 byte by byte.
# Takes no registers. Ends with hlt.
    .code64
msg:    .asciz  "Hello\n"
        .global _start
_start: lea     msg(%rip), %rsi
1:      mov     (%rsi), %al
        test    %al, %al
        jz      2f
        mov     %al, 0x996
        inc     %rsi
        jmp     1b
2:      hlt
