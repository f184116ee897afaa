// What the CPU imports from its host.

/** The virtual counter (CNTVCT_EL0): ticks of CNTFRQ_EL0 since reset. */
@external("env", "counter")
export declare function hostCounter(): u64;
