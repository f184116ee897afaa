// Stores the 32-bit x0 to MMIO 0x900 once, then spins with no exit (`b .`): a coalesced write must
// reach its device while the guest makes no exit. Ends only by a stop or a time limit.
    mov     x1, #0x900
    str     w0, [x1]
1:  b       1b
