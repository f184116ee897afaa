/** What a VmPool, its VMs and its runs are set up with, and what runMany returns. */
import type { SwarmTally } from '../shared/swarm-tally';
import type { LoadOptions, MemoryRead, MemoryWrite, RunOptions, VmOptions } from '../shared/vm-types';

export interface PoolOptions {
  /** Threads, so VMs running at once (default: the number of CPUs). */
  maxThreads?: number;
  /** VMs that may wait for a thread before createVm/run fail with ERR_POOL_FULL (default 1024). */
  maxQueue?: number;
  /** Idle threads end after this many ms (default 10 s). */
  idleTimeoutMs?: number;
  /**
   * Hold one idle KVM vCPU from the first KVM VM until close() (default true): while any vCPU exists,
   * KVM creates and destroys the next without patching kernel text (src/host/kvm-anchor.ts; ~1.6×
   * the VMs/s with `reuse: false` on an otherwise idle host).
   */
  kvmAnchor?: boolean;
}

export interface PooledVmOptions extends VmOptions {
  /** Record every MMIO/PIO access for `events()` (default false). Unconsumed events stall the vCPU. */
  events?: boolean;
  /** Event ring capacity in records (a power of two, default 4096). */
  ringCapacity?: number;
}

export interface PooledRunOptions extends RunOptions {
  /** Aborting ends the run with outcome `aborted`. */
  signal?: AbortSignal;
}

/** What VmPool.run and runMany set each VM up with. */
export type OneShotOptions = PooledVmOptions &
  PooledRunOptions & {
    load?: LoadOptions;
    registers?: Record<string, bigint | number>;
    reuse?: boolean;
    /** Guest RAM written before the run (after a warm VM's reset): a run's input. */
    writes?: MemoryWrite[];
    /** Guest RAM read after the run into the result's `reads`: its output. */
    reads?: MemoryRead[];
  };

export interface ManyRunsOptions extends OneShotOptions {
  /** How many runs. */
  count: number;
  /** Runs at once, each lane on its own thread (default: the pool's maxThreads). */
  lanes?: number;
  /**
   * Called about every 100 ms, and once at the end, with the runs ended so far, how many failed, and
   * how many lanes are inside a run right now (a condition to wait on: "the swarm has started").
   */
  onProgress?: (done: number, failed: number, running: number) => void;
}

export interface ManyRunsResult extends SwarmTally {
  /** Runs asked for, and runs that ran: fewer when the signal or close() stopped them. */
  count: number;
  ran: number;
  durationMs: number;
}
