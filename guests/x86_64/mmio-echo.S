# Echo, real mode: reads a byte from MMIO 0x900 again and again and writes each nonzero byte
# to the console 0x996. Takes no registers (uses al). Ends with hlt when it reads 0.
    .code16
1:  mov     0x900, %al
    test    %al, %al
    jz      2f
    mov     %al, 0x996
    jmp     1b
2:  hlt
