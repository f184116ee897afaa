// Interrupts: x0 = N. Sleeps in WFI until vm.interrupt() raises the IRQ line, N times, and reports
// the count (32-bit) to MMIO 0x900, then PSCI SYSTEM_OFF. IRQs stay masked except for one instruction
// after each wake (WFI wakes on a pending IRQ even when masked), so the IRQ is taken at the same
// place on every backend. The handler (VBAR_EL1 + 0x280: current EL, SP_EL1) acknowledges by storing
// the count so far to 0x9f8, which lowers the line, counts, and returns with ERET.
    adr     x1, vectors
    msr     vbar_el1, x1
    mov     x19, x0                 // N
    mov     x20, #0                 // interrupts taken
    mov     x21, #0x900
1:  cmp     x20, x19
    b.hs    2f
    wfi
    msr     daifclr, #2             // a pending IRQ is taken here
    msr     daifset, #2
    b       1b
2:  str     w20, [x21]
    movz    x0, #0x0008             // PSCI SYSTEM_OFF
    movk    x0, #0x8400, lsl #16
    hvc     #0

    .balign 0x800
vectors:
    .skip   0x280
irq:
    mov     x9, #0x9f8
    str     w20, [x9]               // acknowledge: the line goes low
    add     x20, x20, #1
    eret
