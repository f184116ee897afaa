// Exceptions taken to the guest's own vector table and returned from with ERET: SVC #1, BRK #2 and
// an undefined instruction (UDF #3). The synchronous handler stores ESR_EL1, FAR_EL1, ELR_EL1 and
// SPSR_EL1 (8 bytes each) to MMIO 0x900, steps ELR past a BRK or UDF (an SVC's ELR is already past
// it), and ERETs. FAR_EL1 starts at 0 (these exceptions leave it alone). Ends with PSCI SYSTEM_OFF.
    adr     x0, vectors
    msr     vbar_el1, x0
    msr     far_el1, xzr
    isb
    svc     #1
    brk     #2
    udf     #3
    movz    x0, #0x0008             // PSCI SYSTEM_OFF
    movk    x0, #0x8400, lsl #16
    hvc     #0

    .balign 2048
vectors:
    .skip   0x200                   // current EL with SP_EL0: unused
    mov     x9, #0x900              // current EL with SP_ELx, synchronous
    mrs     x10, esr_el1
    str     x10, [x9]
    mrs     x11, far_el1
    str     x11, [x9]
    mrs     x11, elr_el1
    str     x11, [x9]
    mrs     x11, spsr_el1
    str     x11, [x9]
    lsr     x10, x10, #26           // exception class
    cmp     x10, #0x15              // SVC from AArch64
    b.eq    1f
    mrs     x11, elr_el1
    add     x11, x11, #4
    msr     elr_el1, x11
1:  eret
