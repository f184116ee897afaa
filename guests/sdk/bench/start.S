// The cpu bench's compiled-C kernels (bench/cpu.ts): x0 = N iterations in, the kernel's checksum out
// in x9, then PSCI SYSTEM_OFF (`hvc #0`, which the bench's qemu-aarch64 harness turns into a `ret`).
// Position-independent code (ADR, -mcmodel=tiny), so the same bytes run at 0x10000 on the wasm CPU
// and inside QEMU's ELF.
    .section .text.entry, "ax"
    .global _entry
_entry:
    stp     x29, x30, [sp, #-16]!
    bl      kernel
    mov     x9, x0
    ldp     x29, x30, [sp], #16
    movz    x0, #0x0008             // PSCI SYSTEM_OFF
    movk    x0, #0x8400, lsl #16
    hvc     #0
