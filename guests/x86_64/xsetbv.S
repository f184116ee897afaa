# Real mode: changes XCR0, as a guest could to leak it into the next run on a reused VM. Prints "A",
# sets CR4.OSXSAVE, stores XCR0 (XGETBV) to 0x900 as 4 bytes, sets XCR0 = x87|SSE (XSETBV), stores
# it again, prints "B" and halts. Where KVM refuses CR4.OSXSAVE (no XSAVE for the guest) the vCPU triple-faults after
# "A" (empty IDT). Either way a reset VM must do exactly what a fresh one does. Takes no registers.
    .code16
start:
    lidt    idt - start + 0x1000    # absolute address: the image is loaded at 0x1000
    movb    $'A', 0x996
    movl    %cr4, %eax
    orl     $1 << 18, %eax          # CR4.OSXSAVE
    movl    %eax, %cr4
    xorl    %ecx, %ecx              # XCR0
    xgetbv
    movl    %eax, 0x900
    movl    $3, %eax                # x87 | SSE
    xorl    %edx, %edx
    xsetbv
    xgetbv                          # ecx is still 0
    movl    %eax, 0x900
    movb    $'B', 0x996
    hlt
idt:
    .word   0                       # limit 0
    .long   0                       # base 0
