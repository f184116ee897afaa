// The queue under faults, at size: 10,000 hello jobs through 3 `femtovm worker` processes on a
// redis-server of the test's own (AOF, fsync always), one worker SIGKILLed mid-run and Redis
// restarted once during it. Every job must end exactly once, all clean. About a minute on 2 cores:
// `npm run test:queue` runs it (npm test skips it, saying so).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';

import { RunQueue } from '../src/index';
import { LocalRedis, redisServerMissing } from '../src/queue/local-redis';
import { startWorkerProcess, type WorkerProcess } from '../src/queue/worker-process';
import { cli, guest } from './support';

const JOBS = 10_000;
const skip =
  process.env.FEMTOVM_QUEUE_SOAK !== '1' ? 'SKIPPED: the 10,000-job soak runs with `npm run test:queue` (FEMTOVM_QUEUE_SOAK=1)' : redisServerMissing() && `SKIPPED: ${redisServerMissing()}`;

test(`${JOBS} hello jobs, 3 workers, one SIGKILLed, Redis restarted: each job ends once`, { skip, timeout: 600_000 }, async (t) => {
  const redis = await LocalRedis.start();
  const workers: WorkerProcess[] = [];
  let queue: RunQueue | undefined;
  try {
    for (let i = 0; i < 3; i++) workers.push(await startWorkerProcess(cli, redis.url, ['--concurrency', '2', '--backend', 'wasm', '--lock-ms', '5000', '--health-ms', '5000']));
    queue = await RunQueue.connect({ redis: redis.url });
    const ends = new Map<string, number>();
    let killed: Promise<unknown> | undefined;
    let restarted: Promise<void> | undefined;
    const started = performance.now();
    const many = await queue.runMany(readFileSync(guest('aarch64', 'hello.bin')), {
      arch: 'aarch64',
      backend: 'wasm',
      count: JOBS,
      onResult: (id) => {
        ends.set(id, (ends.get(id) ?? 0) + 1);
        if (ends.size === JOBS * 0.2) {
          t.diagnostic(`SIGKILL worker ${workers[0]!.pid} after ${ends.size} jobs`);
          workers[0]!.child.kill('SIGKILL');
          killed = workers[0]!.exited;
        }
        if (ends.size === JOBS * 0.5) {
          t.diagnostic(`restarting Redis after ${ends.size} jobs`);
          restarted = redis.restart();
        }
      },
    });
    await Promise.all([killed, restarted]);
    t.diagnostic(`${JOBS} jobs in ${((performance.now() - started) / 1000).toFixed(1)} s; by worker ${JSON.stringify(many.workers)}`);
    assert.equal(await killed, 'SIGKILL');
    assert.ok(restarted, 'Redis was restarted mid-run');
    assert.equal(many.ran, JOBS);
    assert.equal(ends.size, JOBS);
    assert.deepEqual([...new Set(ends.values())], [1], 'each job ended once');
    assert.deepEqual(many.outcomes, { 'system-off': JOBS });
    assert.deepEqual(many.failures, []);
    const counts = await queue.jobCounts();
    assert.equal(counts.completed, JOBS, 'BullMQ counts each job completed once');
    assert.equal(counts.failed, 0);
    assert.ok(Object.keys(many.workers).length >= 2, 'the jobs spread over the workers');
    const stalled = workers.slice(1).flatMap((w) => w.log.lines.filter((line) => /stalled/.test(line)));
    t.diagnostic(`stalled-job lines in the surviving workers' logs: ${stalled.length ? stalled.join(' | ') : 'none (the killed worker held no job at that instant)'}`);
  } finally {
    await queue?.close();
    for (const w of workers) if (w.child.exitCode === null && w.child.signalCode === null) w.child.kill('SIGTERM');
    await Promise.all(workers.map((w) => w.exited));
    await redis.close();
  }
});
