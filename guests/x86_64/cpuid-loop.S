# CPUID benchmark guest, real mode: ecx = N. N times CPUID leaf 0, which KVM answers inside the
# kernel (kvm-unit-tests' vmexit "cpuid"). Ends with hlt.
    .code16
    mov     %ecx, %esi
    test    %esi, %esi
    jz      2f
1:  xor     %eax, %eax
    cpuid
    dec     %esi
    jnz     1b
2:  hlt
