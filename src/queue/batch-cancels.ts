/**
 * Cancel messages, by batch (the run() or runMany() call a job belongs to), on a worker: a batch's
 * runs in progress stop at once, and its jobs that start later start stopped, for CANCEL_MEMORY_MS
 * after the message (a cancelled runMany's remaining jobs are still taken from the queue, each ending
 * at once with outcome `aborted`).
 */
const CANCEL_MEMORY_MS = 3_600_000;

export class BatchCancels {
  private readonly running = new Map<string, Set<AbortController>>();
  /** Cancelled batches, oldest first, with when. */
  private readonly cancelled = new Map<string, number>();

  /** Stops `batch`'s runs in progress and remembers it; how many runs it stopped. */
  cancel(batch: string): number {
    const now = Date.now();
    for (const [old, at] of this.cancelled) {
      if (now - at < CANCEL_MEMORY_MS) break;
      this.cancelled.delete(old);
    }
    this.cancelled.set(batch, now);
    const runs = this.running.get(batch) ?? new Set();
    for (const run of runs) run.abort();
    return runs.size;
  }

  /** A signal for one run of `batch` (aborted already when the batch was cancelled); release it when the run ends. */
  track(batch: string): { signal: AbortSignal; release: () => void } {
    const controller = new AbortController();
    if (this.cancelled.has(batch)) {
      controller.abort();
      return { signal: controller.signal, release: () => {} };
    }
    const runs = this.running.get(batch) ?? new Set();
    this.running.set(batch, runs.add(controller));
    return {
      signal: controller.signal,
      release: () => {
        runs.delete(controller);
        if (runs.size === 0) this.running.delete(batch);
      },
    };
  }
}
