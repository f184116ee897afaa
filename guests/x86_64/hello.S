# Real mode (16-bit, at 0x1000): prints "Hello\n" with byte `out`s to port 0x3f8.
# Takes no registers (uses al, dx). Ends with hlt.
    .code16
    mov     $0x3f8, %dx
    mov     $'H', %al
    out     %al, (%dx)
    mov     $'e', %al
    out     %al, (%dx)
    mov     $'l', %al
    out     %al, (%dx)
    out     %al, (%dx)
    mov     $'o', %al
    out     %al, (%dx)
    mov     $'\n', %al
    out     %al, (%dx)
    hlt
