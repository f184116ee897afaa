# Hypercall benchmark guest, real mode: ecx = N. N times VMCALL with eax = 0, a hypercall KVM
# answers inside the kernel (-KVM_ENOSYS in eax; on AMD it first rewrites the instruction to
# VMMCALL) (kvm-unit-tests' vmexit "vmcall"). Ends with hlt.
    .code16
    mov     %ecx, %esi
    test    %esi, %esi
    jz      2f
1:  xor     %eax, %eax
    vmcall
    dec     %esi
    jnz     1b
2:  hlt
