# Real mode: tries to change XCR0, as a guest would to leak it into the next run on a reused VM.
# Prints "A", sets CR4.OSXSAVE, runs XSETBV (XCR0 = x87|SSE|AVX), prints "B", halts. femtovm gives the
# guest no XSAVE in CPUID, so KVM refuses the CR4 write (#GP): with an empty IDT the vCPU
# triple-faults after "A". The snapshot code relies on this to skip restoring XCR0.
# Takes no registers.
    .code16
start:
    lidt    idt - start + 0x1000    # absolute address: the image is loaded at 0x1000
    movb    $'A', 0x996
    movl    %cr4, %eax
    orl     $1 << 18, %eax          # CR4.OSXSAVE
    movl    %eax, %cr4
    xorl    %ecx, %ecx              # XCR0
    xorl    %edx, %edx
    movl    $7, %eax
    xsetbv
    movb    $'B', 0x996
    hlt
idt:
    .word   0                       # limit 0
    .long   0                       # base 0
