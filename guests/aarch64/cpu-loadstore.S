// CPU benchmark guest (no exits until the end): x0 = N. N times: load a word of a 4 KiB array
// past the image, add the counter, store it back, sum it in x9 (7 instructions per
// iteration). Position-independent (the array is found with adr), so `femtovm bench` also runs it
// as a Linux program under qemu-aarch64. The array starts at the first page boundary past the image
// (code and data on separate pages: QEMU retranslates a page's code after a store to it); needs
// 8 KiB of zeroed RAM past the image. Ends with PSCI SYSTEM_OFF.
    adr     x1, array
    add     x1, x1, #0xfff          // up to the next page boundary
    and     x1, x1, #~0xfff
    mov     x9, #0
    cbz     x0, 2f
1:  and     x2, x0, #511
    ldr     x3, [x1, x2, lsl #3]
    add     x3, x3, x0
    str     x3, [x1, x2, lsl #3]
    add     x9, x9, x3
    subs    x0, x0, #1
    b.ne    1b
2:  movz    x0, #0x0008             // PSCI SYSTEM_OFF
    movk    x0, #0x8400, lsl #16
    hvc     #0
    .balign 16
array:                              // RAM past the image
