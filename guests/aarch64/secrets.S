// Reuse safety: reports the state it starts with, then overwrites all of it with secrets, so a second
// run on a reset VM shows whether anything leaked. Reported as 8-byte stores to MMIO 0x900, in this
// order: x0-x30, SP, NZCV, DAIF, TPIDR_EL0, TPIDRRO_EL0, TPIDR_EL1, SP_EL0, VBAR_EL1, ELR_EL1,
// SPSR_EL1, CPACR_EL1, ESR_EL1, FAR_EL1, and 4 quadwords of RAM at 0x18000. Ends with PSCI SYSTEM_OFF.
    str     x1, [sp, #-16]          // x1 is needed for the address: keep it a moment
    mov     x1, #0x900
    str     x0, [x1]
    ldr     x0, [sp, #-16]
    str     x0, [x1]
    str     x2, [x1]
    str     x3, [x1]
    str     x4, [x1]
    str     x5, [x1]
    str     x6, [x1]
    str     x7, [x1]
    str     x8, [x1]
    str     x9, [x1]
    str     x10, [x1]
    str     x11, [x1]
    str     x12, [x1]
    str     x13, [x1]
    str     x14, [x1]
    str     x15, [x1]
    str     x16, [x1]
    str     x17, [x1]
    str     x18, [x1]
    str     x19, [x1]
    str     x20, [x1]
    str     x21, [x1]
    str     x22, [x1]
    str     x23, [x1]
    str     x24, [x1]
    str     x25, [x1]
    str     x26, [x1]
    str     x27, [x1]
    str     x28, [x1]
    str     x29, [x1]
    str     x30, [x1]
    mov     x0, sp
    str     x0, [x1]
    mrs     x0, nzcv
    str     x0, [x1]
    mrs     x0, daif
    str     x0, [x1]
    mrs     x0, tpidr_el0
    str     x0, [x1]
    mrs     x0, tpidrro_el0
    str     x0, [x1]
    mrs     x0, tpidr_el1
    str     x0, [x1]
    mrs     x0, sp_el0
    str     x0, [x1]
    mrs     x0, vbar_el1
    str     x0, [x1]
    mrs     x0, elr_el1
    str     x0, [x1]
    mrs     x0, spsr_el1
    str     x0, [x1]
    mrs     x0, cpacr_el1
    str     x0, [x1]
    mrs     x0, esr_el1
    str     x0, [x1]
    mrs     x0, far_el1
    str     x0, [x1]
    mov     x2, #0x18000
    ldr     x0, [x2]
    str     x0, [x1]
    ldr     x0, [x2, #8]
    str     x0, [x1]
    ldr     x0, [x2, #16]
    str     x0, [x1]
    ldr     x0, [x2, #24]
    str     x0, [x1]

    movz    x0, #0x5ec2             // the secrets
    movk    x0, #0xe75e, lsl #16
    movk    x0, #0xc2e7, lsl #32
    movk    x0, #0x5ec2, lsl #48
    str     x0, [x2]
    str     x0, [x2, #8]
    str     x0, [x2, #24]
    msr     tpidr_el0, x0
    msr     tpidrro_el0, x0
    msr     tpidr_el1, x0
    msr     sp_el0, x0
    msr     elr_el1, x0
    msr     spsr_el1, x0
    msr     far_el1, x0
    msr     esr_el1, x0
    and     x3, x0, #0xfffff800     // VBAR needs 2 KiB alignment
    msr     vbar_el1, x3
    mov     x3, #0x300000           // CPACR_EL1.FPEN: FP/SIMD no longer trapped
    msr     cpacr_el1, x3
    mov     x3, #0xf0000000
    msr     nzcv, x3
    msr     daifclr, #0x4           // unmask IRQs (none will come)
    mov     sp, x0
    mov     x4, x0
    mov     x5, x0
    mov     x6, x0
    mov     x7, x0
    mov     x8, x0
    mov     x9, x0
    mov     x10, x0
    mov     x11, x0
    mov     x12, x0
    mov     x13, x0
    mov     x14, x0
    mov     x15, x0
    mov     x16, x0
    mov     x17, x0
    mov     x18, x0
    mov     x19, x0
    mov     x20, x0
    mov     x21, x0
    mov     x22, x0
    mov     x23, x0
    mov     x24, x0
    mov     x25, x0
    mov     x26, x0
    mov     x27, x0
    mov     x28, x0
    mov     x29, x0
    mov     x30, x0
    movz    x0, #0x0008             // PSCI SYSTEM_OFF
    movk    x0, #0x8400, lsl #16
    hvc     #0
