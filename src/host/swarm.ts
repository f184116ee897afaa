/** Many tiny VMs through a pool: N runs of one image, K at a time, and a summary of how it went. */
import { availableParallelism } from 'node:os';

import { median, percentile } from './stats';
import { FemtovmError } from './errors';
import { VmPool, type PooledRunOptions } from './pool';
import type { LoadOptions, RunResult, VmOptions } from './vm';

export interface SwarmOptions {
  count: number;
  /** VMs at once, and so pool threads (default: the number of CPUs). */
  concurrency?: number;
  vm?: VmOptions;
  run?: PooledRunOptions;
  load?: LoadOptions;
  /** Serve runs from warm VMs reset to their snapshot (default true). */
  reuse?: boolean;
  onProgress?: (done: number, failed: number) => void;
}

export interface SwarmSummary {
  count: number;
  concurrency: number;
  durationMs: number;
  vmsPerSecond: number;
  exitsPerSecond: number;
  /** Per-VM latency from submission to result, ms. */
  latencyMs: { p50: number; p99: number; max: number };
  outcomes: Record<string, number>;
  /** Failures grouped by code and message. */
  failures: { code: string; message: string; count: number }[];
}

export async function runSwarm(image: Uint8Array | string, options: SwarmOptions): Promise<SwarmSummary> {
  const concurrency = Math.max(1, Math.floor(options.concurrency ?? availableParallelism()));
  const pool = new VmPool({ maxThreads: concurrency, maxQueue: concurrency * 2 });
  const latencies: number[] = [];
  const outcomes: Record<string, number> = {};
  const failures = new Map<string, { code: string; message: string; count: number }>();
  let exits = 0;
  let done = 0;
  let failed = 0;
  let next = 0;
  const started = performance.now();
  const lane = async () => {
    while (next < options.count) {
      next++;
      const t = performance.now();
      let result: RunResult | undefined;
      try {
        result = await pool.run(image, { ...options.vm, ...options.run, ...(options.load && { load: options.load }), reuse: options.reuse ?? true });
        outcomes[result.outcome] = (outcomes[result.outcome] ?? 0) + 1;
        exits += result.exits;
      } catch (error) {
        const code = error instanceof FemtovmError ? error.code : 'ERR_UNKNOWN';
        const message = error instanceof Error ? error.message : String(error);
        const key = `${code}\n${message}`;
        failures.set(key, { code, message, count: (failures.get(key)?.count ?? 0) + 1 });
        outcomes.error = (outcomes.error ?? 0) + 1;
        failed++;
      }
      latencies.push(performance.now() - t);
      done++;
      options.onProgress?.(done, failed);
    }
  };
  try {
    await Promise.all(Array.from({ length: concurrency }, lane));
  } finally {
    await pool.close();
  }
  const durationMs = performance.now() - started;
  latencies.sort((a, b) => a - b);
  return {
    count: options.count,
    concurrency,
    durationMs,
    vmsPerSecond: (options.count / durationMs) * 1000,
    exitsPerSecond: (exits / durationMs) * 1000,
    latencyMs: { p50: median(latencies), p99: percentile(latencies, 99), max: latencies.at(-1) ?? NaN },
    outcomes,
    failures: [...failures.values()],
  };
}
