// The original example, word for word: prints "Hello\n" with byte stores to the console 0x996.
// Takes no registers (uses x4, x5). No end of its own: it runs on into zeroed RAM (`udf #0`),
// the exception vector (VBAR_EL1 = 0) is not RAM, and the vCPU then loops inside KVM with no
// exit at all, so the VMM must stop it (time limit or kick).
    mov     x4, #0x996
    mov     x5, #'H'
    strb    w5, [x4]
    mov     x5, #'e'
    strb    w5, [x4]
    mov     x5, #'l'
    strb    w5, [x4]
    strb    w5, [x4]
    mov     x5, #'o'
    strb    w5, [x4]
    mov     x5, #'\n'
    strb    w5, [x4]
