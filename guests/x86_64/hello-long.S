# 64-bit long mode (at 0x1000, paging and GDT set up by the VMM): prints "Hello\n" with byte
# stores to the console 0x996. Takes no registers. Ends with hlt.
    .code64
    movb    $'H', 0x996
    movb    $'e', 0x996
    movb    $'l', 0x996
    movb    $'l', 0x996
    movb    $'o', 0x996
    movb    $'\n', 0x996
    hlt
