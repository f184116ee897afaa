# Interrupts, long mode: rcx = N. Builds an IDT at 0x8000 whose vector 0x20 gate points at the
# handler, then N times: `sti; hlt` (HLT with IF set waits for vm.interrupt()), `cli`. Reports the
# count (32-bit) to MMIO 0x900 and ends with hlt (IF clear). The handler acknowledges by storing the
# count so far to 0x9f8, which lowers the line, counts, and returns with iretq.
    .code64
    .include "irq.inc"
    irq_setup
    take_interrupts
    report_halt_and_handler

    irq_idtr
