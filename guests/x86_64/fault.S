# Real mode: loads an empty IDT (limit 0), then `ud2`: #UD cannot be delivered, nor can the #GP
# and #DF that follow, so the vCPU triple-faults and KVM_RUN returns KVM_EXIT_SHUTDOWN.
# Takes no registers.
    .code16
start:
    lidt    idt - start + 0x1000    # absolute address: the image is loaded at 0x1000
    ud2
idt:
    .word   0                       # limit 0
    .long   0                       # base 0
