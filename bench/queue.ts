/**
 * The queue suite: hello jobs per second through BullMQ on a redis-server of the bench's own (unix
 * socket, AOF with fsync at every write, as the tests run it), served by 1, 2 and 4 `femtovm worker`
 * processes of 2 VM threads each, against the same runs on a local VmPool (VmPool.run, 2 threads, 8 in
 * flight), rounds alternating at each worker count. The per-job overhead is the difference in wall time per job with one
 * worker. The host's KVM guest where KVM is usable, else the aarch64 guest on wasm. Skipped, saying
 * why, without redis-server.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import { RunQueue, VmPool, type GuestArch, type QueueRunOptions } from '../src/index';
import { LocalRedis, redisServerMissing } from '../src/queue/local-redis';
import { startWorkerProcess, type WorkerProcess } from '../src/queue/worker-process';
import { pairRatios, summarize } from '../src/shared/stats';
import { clamp, judge, type Row, type SuiteContext, type SuiteResult } from './types';

const WORKER_COUNTS = [1, 2, 4];
const THREADS_PER_WORKER = 2;
const LOCAL_IN_FLIGHT = 8;

/** `n` runs through `pool.run`, `lanes` in flight: runs per second. */
async function localRate(pool: VmPool, image: Uint8Array, options: QueueRunOptions, n: number): Promise<number> {
  let next = 0;
  const t0 = performance.now();
  const lane = async () => {
    for (; next < n; next++) await pool.run(image, options);
  };
  await Promise.all(Array.from({ length: LOCAL_IN_FLIGHT }, lane));
  return n / ((performance.now() - t0) / 1000);
}

/** `n` jobs through `queue.runMany`: jobs per second, every one clean. */
async function queueRate(queue: RunQueue, image: Uint8Array, options: QueueRunOptions, n: number): Promise<number> {
  const r = await queue.runMany(image, { ...options, count: n });
  const clean = (r.outcomes.halted ?? 0) + (r.outcomes['system-off'] ?? 0);
  if (clean !== n) throw new Error(`queue jobs ended with ${JSON.stringify(r.outcomes)} ${JSON.stringify(r.failures)}`);
  return (n / r.durationMs) * 1000;
}

export async function queueSuite(ctx: SuiteContext): Promise<SuiteResult> {
  const started = performance.now();
  const missing = redisServerMissing();
  if (missing) return { suite: 'queue', status: 'skipped', reason: missing, seconds: 0, rows: [], notes: [] };
  const arch: GuestArch = ctx.kvmArch ?? 'aarch64';
  const options: QueueRunOptions = { arch, backend: ctx.kvmArch ? 'kvm' : 'wasm' };
  const image = new Uint8Array(readFileSync(join(ctx.root, 'guests', arch, 'hello.bin')));
  const cli = join(ctx.root, 'dist', 'cli.js');
  const n = Math.round(clamp(ctx.duration * 50, 40, 2000));
  const rounds = Math.round(clamp(ctx.duration / 5, 3, 5));

  const redis = await LocalRedis.start({ fsync: 'everysec' });
  const workers: WorkerProcess[] = [];
  const pool = new VmPool({ maxThreads: THREADS_PER_WORKER, idleTimeoutMs: 60_000 });
  const local: number[] = [];
  const through = new Map<number, number[]>();
  let queue: RunQueue | undefined;
  try {
    queue = await RunQueue.connect({ redis: redis.url, queue: 'bench' });
    const args = ['--queue', 'bench', '--concurrency', String(THREADS_PER_WORKER), '--backend', options.backend!, '--health-ms', '0'];
    // Warm-up: pool threads started, warm VMs made.
    await localRate(pool, image, options, n);
    // One queue; worker processes added up to each count (a process started costs more CPU than a round).
    for (const count of WORKER_COUNTS) {
      while (workers.length < count) workers.push(await startWorkerProcess(cli, redis.url, args));
      await queueRate(queue, image, options, 8 * count * THREADS_PER_WORKER); // new workers' images cached, VMs warm
      const values: number[] = [];
      through.set(count, values);
      for (let round = 0; round < rounds; round++) {
        local.push(await localRate(pool, image, options, n));
        values.push(await queueRate(queue, image, options, n));
        ctx.log(`queue, ${count} worker(s), round ${round + 1}/${rounds}: ${n} runs each, runs/s local pool ${local.at(-1)!.toFixed(0)}, through the queue ${values.at(-1)!.toFixed(0)}`);
      }
    }
  } finally {
    await queue?.close();
    for (const w of workers) w.child.kill('SIGTERM');
    await Promise.all(workers.map((w) => w.exited));
    await pool.close();
    await redis.close();
  }

  const backend = `${options.backend}, ${arch}`;
  const baselineName = `VmPool.run, ${THREADS_PER_WORKER} threads, ${LOCAL_IN_FLIGHT} in flight`;
  const localFor = (count: number) => local.slice(WORKER_COUNTS.indexOf(count) * rounds, (WORKER_COUNTS.indexOf(count) + 1) * rounds);
  const rows: Row[] = WORKER_COUNTS.map((count) => {
    const values = through.get(count)!;
    const baseline = localFor(count);
    const ratios = pairRatios(values, baseline);
    return judge({
      id: `queue/workers-${count}`,
      name: `RunQueue.runMany through BullMQ, ${count} worker process${count > 1 ? 'es' : ''} × ${THREADS_PER_WORKER} VM threads (${backend})`,
      unit: 'jobs/s',
      value: summarize(values).p50,
      stat: `median of ${rounds} rounds of ${n} jobs`,
      baselineName,
      baselineValue: summarize(baseline).p50,
      ratio: summarize(ratios).p50,
      rounds: { femtovm: summarize(values), baseline: summarize(baseline), ratio: summarize(ratios) },
    });
  });
  // Wall time per job through one worker, less the same on the local pool, round by round.
  const alone = localFor(1);
  const overheads = through.get(1)!.map((q, i) => 1e6 / q - 1e6 / alone[i]!);
  rows.push({
    id: 'queue/overhead-1',
    name: `per-job overhead of the queue (1 worker process × ${THREADS_PER_WORKER} VM threads, ${backend})`,
    unit: 'µs/job',
    value: summarize(overheads).p50,
    stat: `median of ${rounds} rounds`,
    baselineName: `${baselineName}: wall µs per run`,
    baselineValue: summarize(alone.map((l) => 1e6 / l)).p50,
    rounds: { femtovm: summarize(overheads) },
    note: 'µs of wall time per job through the queue minus per run on the local pool: Redis round trips (add, take, complete, event), JSON, and the worker process hop',
  });
  return {
    suite: 'queue',
    status: 'ran',
    seconds: (performance.now() - started) / 1000,
    rows,
    notes: [
      `Jobs: guests/${arch}/hello.bin on ${options.backend}, ${n} per round; one queue on a redis-server (unix socket, appendonly with appendfsync everysec) in the bench's temp dir. Workers are \`femtovm worker --concurrency ${THREADS_PER_WORKER}\` child processes, added (and warmed) before each worker count's rounds; on a 2-core host more processes share the same cores: what they gain is Redis round trips overlapped, not CPU.`,
      `Baseline: the same image and options through VmPool.run in the bench process (${THREADS_PER_WORKER} threads, ${LOCAL_IN_FLIGHT} runs in flight, warm VMs reused as the workers do). Ratio: queue jobs/s / local runs/s per round, median over rounds.`,
    ],
  };
}
