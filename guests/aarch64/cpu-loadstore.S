// CPU benchmark guest (no exits until the end): x0 = N. N times: load a word of a 4 KiB array
// just past the image, add the counter, store it back, sum it in x9 (7 instructions per
// iteration). Position-independent (the array is found with adr), so `femtovm bench` also runs it
// as a Linux program under qemu-aarch64. Needs 4 KiB of zeroed RAM past the image. Ends with PSCI
// SYSTEM_OFF.
    adr     x1, array
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
array:                              // 512 doublewords of RAM past the image
