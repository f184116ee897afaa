// ELF guest (linked at 0x10000): the message comes first, so e_entry (_start) is not the first
// loaded byte. Copies "Hello\n" from RAM to the console 0x996 byte by byte. Takes no registers.
// Ends with PSCI SYSTEM_OFF.
msg:    .asciz  "Hello\n"
        .balign 4
        .global _start
_start: adr     x1, msg
        mov     x2, #0x996
1:      ldrb    w3, [x1]
        cbz     w3, 2f
        strb    w3, [x2]
        add     x1, x1, #1
        b       1b
2:      movz    x0, #0x0008         // PSCI SYSTEM_OFF
        movk    x0, #0x8400, lsl #16
        hvc     #0
