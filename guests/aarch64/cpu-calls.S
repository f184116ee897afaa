// CPU benchmark guest shaped like compiled code (no exits until the end): x0 = N rounds. Each
// round sums 64 doublewords with a recursive divide-and-conquer function: frames pushed and popped
// with pre/post-index STP/LDP, callee-saved registers spilled, leaves that walk their 8 elements with
// post-index loads and bump the last one through LDUR/STUR (so every round's data differs), a NOP
// padding a loop head, CBZ/CBNZ. x9 = the sum of the rounds' sums. The array is filled once with
// post-index stores. Position-independent (adr), so `femtovm bench` also runs it as a Linux program
// under qemu-aarch64, where its final hvc becomes a ret: x30 is kept for it. The array starts at the
// first page boundary past the image (QEMU retranslates a page's code after a store to it); needs
// 4 KiB of RAM past the image and 256 bytes of stack below SP. Ends with PSCI SYSTEM_OFF.
    mov     x21, x30                // the return address (qemu-aarch64)
    adr     x1, array
    add     x1, x1, #0xfff          // up to the next page boundary
    and     x1, x1, #~0xfff
    mov     x20, x1
    mov     x19, x0
    mov     x9, #0
    mov     x2, #64                 // a[i] = 3i + 1
    mov     x3, #1
1:  str     x3, [x1], #8
    add     x3, x3, #3
    subs    x2, x2, #1
    b.ne    1b
    cbz     x19, 9f
2:  mov     x0, x20
    mov     x1, #64
    bl      sum
    add     x9, x9, x0
    sub     x19, x19, #1
    cbnz    x19, 2b
9:  mov     x30, x21
    movz    x0, #0x0008             // PSCI SYSTEM_OFF
    movk    x0, #0x8400, lsl #16
    hvc     #0

// x0 = the sum of the x1 doublewords at x0 (x1 > 0): each half recursively, down to 8 elements.
sum:
    cmp     x1, #8
    b.ls    3f
    stp     x29, x30, [sp, #-48]!
    mov     x29, sp
    stp     x19, x20, [sp, #16]
    str     x21, [sp, #32]
    lsr     x2, x1, #1              // the first half's length
    sub     x20, x1, x2             // the second half: length and start
    add     x19, x0, x2, lsl #3
    mov     x1, x2
    bl      sum
    mov     x21, x0
    mov     x0, x19
    mov     x1, x20
    bl      sum
    add     x0, x0, x21
    ldr     x21, [sp, #32]
    ldp     x19, x20, [sp, #16]
    ldp     x29, x30, [sp], #48
    ret
3:  mov     x2, x0
    mov     x0, #0
    nop                             // as a compiler pads a loop head
4:  ldr     x3, [x2], #8
    add     x0, x0, x3
    subs    x1, x1, #1
    b.ne    4b
    ldur    x3, [x2, #-8]           // bump the last element
    add     x3, x3, #1
    stur    x3, [x2, #-8]
    ret
    .balign 16
array:                              // RAM past the image
