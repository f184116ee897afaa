# Benchmark guest, real mode: ecx = N. Stores the 32-bit counter N, N-1, ..., 1 to MMIO 0x900
# (one 4-byte store, one exit each); N = 0 stores nothing. Ends with hlt.
    .code16
    test    %ecx, %ecx
    jz      2f
1:  mov     %ecx, 0x900
    dec     %ecx
    jnz     1b
2:  hlt
