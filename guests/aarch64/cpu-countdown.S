// CPU benchmark guest (no exits until the end): x0 = N. Counts x0 down to 0, two instructions per
// iteration; x9 = N. Position-independent and touches no memory, so `femtovm bench` also runs it as
// a Linux program under qemu-aarch64. Ends with PSCI SYSTEM_OFF.
    mov     x9, x0
    cbz     x0, 2f
1:  subs    x0, x0, #1
    b.ne    1b
2:  movz    x0, #0x0008             // PSCI SYSTEM_OFF
    movk    x0, #0x8400, lsl #16
    hvc     #0
