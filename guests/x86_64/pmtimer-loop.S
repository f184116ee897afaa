# ACPI PM timer benchmark guest, real mode: ecx = N. N times `in (%dx),%eax` from port 0xb008, the
# PM timer of QEMU's PC (femtovm's `pm-timer` native device), one exit each to user space; sums what
# it reads in ebx. N = 0 reads nothing. Ends with hlt.
    .code16
    mov     $0xb008, %dx
    xor     %ebx, %ebx
    test    %ecx, %ecx
    jz      2f
1:  in      (%dx), %eax
    add     %eax, %ebx
    dec     %ecx
    jnz     1b
2:  hlt
