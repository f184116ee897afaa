// aarch64 start code: the image's first bytes (at 0x10000), the femto_io header at +0x20. Runs in
// the platform's default start state (EL1h, MMU on with RAM Normal, FP/SIMD enabled, SP = top of RAM).
    .section .text.entry, "ax"
    .global _entry
_entry:
    b       _start
    .balign 32                      // femto.c's header follows (link.ld)

    .text
    .global _start
_start:
    ldr     x0, =vectors
    msr     vbar_el1, x0
    isb
    ldr     x0, =__bss_start
    ldr     x1, =__bss_end
1:  cmp     x0, x1                  // .bss is 16-aligned and a multiple of 16 (link.ld)
    b.hs    2f
    stp     xzr, xzr, [x0], #16
    b       1b
2:  mov     x0, sp
    bl      femto_main              // does not return

    .global femto_arch_exit
femto_arch_exit:
    movz    x0, #0x0008             // PSCI SYSTEM_OFF
    movk    x0, #0x8400, lsl #16
    hvc     #0
    b       femto_arch_exit

// An exception (a fault in the program) prints its syndrome and ends with status 255.
    .balign 2048
vectors:
    .rept   16
    b       exception
    .balign 128
    .endr
exception:
    mrs     x1, esr_el1
    mrs     x2, elr_el1
    mrs     x3, far_el1
    ldr     x0, =exception_text
    bl      printf
    mov     w0, #255
    bl      exit

    .section .rodata
exception_text:
    .asciz  "femto: exception ESR_EL1 %#lx at ELR_EL1 %#lx (FAR_EL1 %#lx)\n"
