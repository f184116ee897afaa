# Benchmark guest, real mode: ecx = N. Loads 4 bytes from MMIO 0x900 N times (one exit each) and
# sums what it reads in ebx; N = 0 loads nothing. Ends with hlt.
    .code16
    xor     %ebx, %ebx
    test    %ecx, %ecx
    jz      2f
1:  mov     0x900, %eax
    add     %eax, %ebx
    dec     %ecx
    jnz     1b
2:  hlt
