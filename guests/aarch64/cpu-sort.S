// CPU benchmark guest, branchy (no exits until the end): x0 = N rounds. Each round fills 64
// doublewords past the image from a 64-bit LCG (same seed each round), insertion-sorts them
// (data-dependent branches), and adds the median (element 32) to x9. Position-independent (adr), so `femtovm
// bench` also runs it as a Linux program under qemu-aarch64. The array starts at the first page
// boundary past the image (code and data on separate pages: QEMU retranslates a page's code after
// a store to it); needs 4 KiB of RAM past the image. Ends with PSCI SYSTEM_OFF.
    adr     x1, array
    add     x1, x1, #0xfff          // up to the next page boundary
    and     x1, x1, #~0xfff
    mov     x9, #0
    movz    x11, #0x7f2d            // multiplier 6364136223846793005
    movk    x11, #0x4c95, lsl #16
    movk    x11, #0xf42d, lsl #32
    movk    x11, #0x5851, lsl #48
    movz    x12, #0xf9b5            // increment 1442695040888963407
    movk    x12, #0x8ac5, lsl #16
    movk    x12, #0xe0ed, lsl #32
    movk    x12, #0x1405, lsl #48
    cbz     x0, 9f
1:  mov     x10, #12345             // LCG seed: every round sorts the same data
    mov     x2, #0                  // fill
2:  madd    x10, x10, x11, x12
    lsr     x3, x10, #33
    str     x3, [x1, x2, lsl #3]
    add     x2, x2, #1
    cmp     x2, #64
    b.ne    2b
    mov     x2, #1                  // insertion sort: x2 = i, x3 = key, x4 = j
3:  ldr     x3, [x1, x2, lsl #3]
    sub     x4, x2, #1
4:  ldr     x5, [x1, x4, lsl #3]
    cmp     x5, x3
    b.ls    5f
    add     x6, x4, #1
    str     x5, [x1, x6, lsl #3]
    subs    x4, x4, #1
    b.pl    4b
5:  add     x6, x4, #1
    str     x3, [x1, x6, lsl #3]
    add     x2, x2, #1
    cmp     x2, #64
    b.ne    3b
    ldr     x3, [x1, #256]          // the median
    add     x9, x9, x3
    subs    x0, x0, #1
    b.ne    1b
9:  movz    x0, #0x0008             // PSCI SYSTEM_OFF
    movk    x0, #0x8400, lsl #16
    hvc     #0
    .balign 16
array:                              // RAM past the image
