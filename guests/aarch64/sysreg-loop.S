// Trapped system-register benchmark guest (KVM only): x0 = N. N times MRS of ID_AA64PFR0_EL1, an ID
// register KVM traps (HCR_EL2.TID3) and answers inside the kernel. Ends with PSCI SYSTEM_OFF.
    mov     x19, x0
    cbz     x19, 2f
1:  mrs     x1, id_aa64pfr0_el1
    subs    x19, x19, #1
    b.ne    1b
2:  movz    x0, #0x0008             // PSCI SYSTEM_OFF
    movk    x0, #0x8400, lsl #16
    hvc     #0
