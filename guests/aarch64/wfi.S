// Waits for an interrupt that never comes: WFI in a loop. Ends only by a stop or a time limit.
1:  wfi
    b       1b
