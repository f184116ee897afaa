/** What a VmPool, its VMs and its runs are set up with, and what runMany returns. */
import { availableParallelism, totalmem } from 'node:os';

import { ConfigError } from '../shared/errors';
import { checkObject, describe, optionalInteger } from '../shared/options';
import type { SwarmTally } from '../shared/swarm-tally';
import type { LoadOptions, MemoryRead, MemoryWrite, RunOptions, VmOptions } from '../shared/vm-types';

export interface PoolOptions {
  /** Threads, so VMs running at once (default: the number of CPUs; at most maxPoolThreads()). */
  maxThreads?: number;
  /** VMs that may wait for a thread before createVm/run fail with ERR_POOL_FULL (default 1024; at least 1). */
  maxQueue?: number;
  /** Idle threads end after this many ms (default 10 s). */
  idleTimeoutMs?: number;
  /**
   * How long a VM's thread may take to leave a run it was asked to stop, or that passed its time
   * limit, or to end a closed VM's task, before it is terminated (JavaScript stuck in a device
   * module): its calls then reject ERR_THREAD_TERMINATED. Default 5000 ms (an emulated machine is slow, not stuck).
   */
  stopGraceMs?: number;
  /**
   * Memory the pool's warm VMs may hold in all, bytes (a warm VM costs about twice its RAM: touched
   * RAM and snapshot), shared out among the threads. Default: an eighth of the machine's memory, at
   * most 2 GiB. 0 keeps none warm.
   */
  warmBytes?: number;
  /**
   * Hold one idle KVM vCPU from the first KVM VM until close() (default true): while any vCPU exists,
   * KVM creates and destroys the next without patching kernel text (src/host/kvm-anchor.ts; ~1.6×
   * the VMs/s with `reuse: false` on an otherwise idle host).
   */
  kvmAnchor?: boolean;
}

/** The most threads a pool runs: 8 per CPU (VM threads mostly wait on their guests), at least 16. */
export function maxPoolThreads(): number {
  return Math.max(16, 8 * availableParallelism());
}

/** PoolOptions checked, defaults filled in (ERR_INVALID_OPTION naming the first bad one). */
export function checkPoolOptions(options: PoolOptions): Required<PoolOptions> {
  checkObject('pool options', options);
  if (options.kvmAnchor !== undefined && typeof options.kvmAnchor !== 'boolean') throw new ConfigError('ERR_INVALID_OPTION', `kvmAnchor is a boolean, not ${describe(options.kvmAnchor)}`);
  return {
    maxThreads: optionalInteger('maxThreads', options.maxThreads, 1, maxPoolThreads()) ?? availableParallelism(),
    // At least 1: with none, Piscina refuses even the task that would start the first thread.
    maxQueue: optionalInteger('maxQueue', options.maxQueue, 1, 1 << 20) ?? 1024,
    idleTimeoutMs: optionalInteger('idleTimeoutMs', options.idleTimeoutMs, 0, 2 ** 31 - 1) ?? 10_000,
    stopGraceMs: optionalInteger('stopGraceMs', options.stopGraceMs, 1, 2 ** 31 - 1) ?? 5000,
    kvmAnchor: options.kvmAnchor ?? true,
    warmBytes: optionalInteger('warmBytes', options.warmBytes, 0, Number.MAX_SAFE_INTEGER) ?? Math.min(2 ** 31, Math.floor(totalmem() / 8)),
  };
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
