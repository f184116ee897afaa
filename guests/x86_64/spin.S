# Spins forever without a single exit (any mode): for testing time limits and stopping a
# running vCPU. Takes no registers. Never ends by itself.
    jmp     .
