# Port I/O benchmark guest, real mode: ecx = N. N times `out %al,(%dx)` to port 0x80 with al =
# low byte of the counter (N, N-1, ..., 1); N = 0 does none. Ends with hlt.
    .code16
    mov     $0x80, %dx
    test    %ecx, %ecx
    jz      2f
1:  mov     %cl, %al
    out     %al, (%dx)
    dec     %ecx
    jnz     1b
2:  hlt
