# Real mode: stores the 32-bit ecx to MMIO 0x900 once, then spins with no exit (`jmp .`): a coalesced
# write must reach its device while the guest makes no exit. Ends only by a stop or a time limit.
    .code16
    mov     %ecx, 0x900
1:  jmp     1b
