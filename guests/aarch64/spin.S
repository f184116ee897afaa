// Spins forever without a single exit: for testing time limits and stopping a running vCPU.
// Takes no registers. Never ends by itself.
    b       .
