/** Many tiny VMs through a pool: N runs of one image, K at a time, and a summary of how it went. */
import { availableParallelism } from 'node:os';

import { percentile } from '../shared/stats';
import { VmPool } from './pool';
import { maxPoolThreads, type PooledRunOptions } from './pool-options';
import { optionalInteger } from '../shared/options';
import type { SwarmFailure } from '../shared/swarm-tally';
import type { LoadOptions, VmOptions } from '../shared/vm-types';

export interface SwarmOptions {
  count: number;
  /** VMs at once, and so pool threads (default: the number of CPUs; more than maxPoolThreads() runs that many). */
  concurrency?: number;
  vm?: VmOptions;
  run?: PooledRunOptions;
  load?: LoadOptions;
  /** Serve runs from warm VMs reset to their snapshot (default true). */
  reuse?: boolean;
  /** As VmPool.runMany's: runs ended, failed, and lanes inside a run now. */
  onProgress?: (done: number, failed: number, running: number) => void;
}

export interface SwarmSummary {
  count: number;
  /** Runs that ran: fewer than `count` when `run.signal` stopped the swarm. */
  ran: number;
  concurrency: number;
  durationMs: number;
  vmsPerSecond: number;
  exitsPerSecond: number;
  /** Per-VM latency on its thread: create (or reset), load, run, destroy, ms. */
  latencyMs: { p50: number; p99: number; max: number };
  outcomes: Record<string, number>;
  /** Failures grouped by code and message. */
  failures: SwarmFailure[];
}

/** Runs the swarm on a pool of its own, one lane per thread (VmPool.runMany), and sums it up. */
export async function runSwarm(image: Uint8Array | string, options: SwarmOptions): Promise<SwarmSummary> {
  const asked = optionalInteger('concurrency', options.concurrency, 1, Number.MAX_SAFE_INTEGER) ?? availableParallelism();
  const concurrency = Math.min(asked, maxPoolThreads());
  const pool = new VmPool({ maxThreads: concurrency, maxQueue: concurrency });
  try {
    const result = await pool.runMany(image, {
      ...options.vm,
      ...options.run,
      ...(options.load && { load: options.load }),
      reuse: options.reuse ?? true,
      count: options.count,
      lanes: concurrency,
      ...(options.onProgress && { onProgress: options.onProgress }),
    });
    const latencies = Float64Array.from(result.latenciesMs).sort();
    return {
      count: result.count,
      ran: result.ran,
      concurrency,
      durationMs: result.durationMs,
      vmsPerSecond: result.ran === 0 ? 0 : (result.ran / result.durationMs) * 1000,
      exitsPerSecond: result.ran === 0 ? 0 : (result.exits / result.durationMs) * 1000,
      // No run, no latency: zeros rather than NaN, which JSON cannot carry.
      latencyMs: latencies.length === 0 ? { p50: 0, p99: 0, max: 0 } : { p50: percentile(latencies, 50), p99: percentile(latencies, 99), max: latencies.at(-1)! },
      outcomes: result.outcomes,
      failures: result.failures,
    };
  } finally {
    await pool.close();
  }
}
