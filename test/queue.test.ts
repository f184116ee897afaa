// femtovm on BullMQ over a real Redis: a redis-server of the test's own (unix socket, temp dir, AOF)
// and `femtovm worker` child processes standing in for machines. Results, typed failures, time
// limits, cancellation, missing images, graceful stop and hand-back, a SIGKILLed worker's job run
// elsewhere once. The wasm backend runs everywhere; one test runs the host's KVM where usable. The
// 10,000-job run with a SIGKILL and a Redis restart is test/queue-soak.test.ts (npm run test:queue).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';

import { Queue } from 'bullmq';
import { Redis } from 'ioredis';

import { ConfigError, GuestError, QueueError, RunQueue, VmPool, type GuestArch } from '../src/index';
import { bullmqConnection, redisOptions } from '../src/queue/connection';
import { lineWaiter } from '../src/queue/line-waiter';
import { LocalRedis, redisServerMissing } from '../src/queue/local-redis';
import { imageKey } from '../src/queue/protocol';
import { startWorkerProcess, type WorkerProcess } from '../src/queue/worker-process';
import { cli, guest, kvmSkipReason, root } from './support';

const hello = readFileSync(guest('aarch64', 'hello.bin'));
const wasm = { arch: 'aarch64', backend: 'wasm' } as const;

test('Redis URLs: redis://, rediss://, unix://; anything else is a ConfigError', () => {
  assert.deepEqual(redisOptions('redis://127.0.0.1:6390/2'), { maxRetriesPerRequest: null, host: '127.0.0.1', port: 6390, db: 2 });
  assert.equal(redisOptions('rediss://user:p%40ss@example:6380').password, 'p@ss');
  assert.deepEqual(redisOptions('rediss://example').tls, {});
  assert.equal(redisOptions('unix:///run/redis.sock').path, '/run/redis.sock');
  for (const bad of ['localhost:6379', 'http://localhost', 'redis://host/x']) {
    assert.throws(() => redisOptions(bad), (e: unknown) => e instanceof ConfigError && e.code === 'ERR_INVALID_OPTION', bad);
  }
});

test('`femtovm run` and `info` never load bullmq or ioredis', () => {
  const dir = mkdtempSync(join(tmpdir(), 'femtovm-lazy-'));
  try {
    const hook = join(dir, 'hook.js');
    writeFileSync(hook, `const M = require('module'); const load = M._load; M._load = function (request, ...rest) { if (/^(bullmq|ioredis)$/.test(request)) process.stderr.write('LOADED ' + request + '\\n'); return load.call(this, request, ...rest); };`);
    for (const args of [['run', guest('aarch64', 'hello.bin'), '--backend', 'wasm'], ['info']]) {
      const r = spawnSync(process.execPath, ['--require', hook, cli, ...args], { encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
      assert.doesNotMatch(r.stderr, /LOADED/, `femtovm ${args[0]}`);
    }
    const r = spawnSync(process.execPath, ['--require', hook, '-e', "require('bullmq')"], { encoding: 'utf8' });
    assert.match(r.stderr, /LOADED bullmq/, 'the hook sees a load');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a Redis that does not answer: ERR_QUEUE_UNREACHABLE, not a wait forever', async () => {
  await assert.rejects(RunQueue.connect({ redis: 'unix:///nonexistent/redis.sock', connectTimeoutMs: 300 }), (e: unknown) => e instanceof QueueError && e.code === 'ERR_QUEUE_UNREACHABLE');
});

test('femtovm worker still connecting: a signal is kept for when it is up, a second quits at once (130)', async () => {
  const child = spawn(process.execPath, [cli, 'worker', '--redis', 'unix:///nonexistent/redis.sock', '--health-ms', '0', '--connect-ms', '600000'], { stdio: ['ignore', 'pipe', 'pipe'] });
  const log = lineWaiter(child);
  const ended = new Promise<number | null>((resolve) => child.once('close', resolve));
  await log.waitFor(/error: connect ENOENT/, 'a connection attempt');
  child.kill('SIGTERM');
  await log.waitFor(/SIGTERM: stopping once connected/, 'the first signal kept');
  assert.equal(child.exitCode, null, 'still connecting, not killed');
  child.kill('SIGTERM');
  assert.equal(await ended, 130);
  assert.match(log.lines.join('\n'), /SIGTERM: quitting/);
});

const missing = redisServerMissing();
// The timeout only turns a hang into a failure (the suite takes seconds): every wait below is for a condition.
describe('through a queue on a real Redis', { skip: missing && `SKIPPED: ${missing}`, timeout: 600_000 }, () => {
  let redis: LocalRedis;
  let worker: WorkerProcess;
  let queue: RunQueue;
  let raw: Redis;
  let bull: Queue;
  /** The job that failed last, as BullMQ reads it. */
  const lastFailed = async () => (await bull.getFailed(0, 0))[0]!;
  /** Jobs running or waiting for a worker. */
  const jobStates = async () => {
    const { active, waiting } = await queue.jobCounts();
    return { active, waiting };
  };
  /** Returns once a worker has taken a job (the tests run one job at a time). */
  const activeJob = async () => {
    while (((await queue.jobCounts()).active ?? 0) === 0) await new Promise((resolve) => setImmediate(resolve));
  };
  // Short locks, so a SIGKILLed worker's job comes back within seconds; not shorter: a renewal late by
  // a lock's length on a busy machine stalls a job a second time, and BullMQ fails it (maxStalledCount 1).
  const workerArgs = ['--concurrency', '2', '--backend', 'wasm', '--lock-ms', '3000', '--health-ms', '0'];
  /** Workers the tests signalled: any other that ends has died. */
  const signalled = new WeakSet<WorkerProcess>();
  const signal = (w: WorkerProcess, name: NodeJS.Signals) => {
    signalled.add(w);
    w.child.kill(name);
  };
  /** Rejects, with its log, if the worker started last dies unasked. */
  let died: Promise<never> = new Promise(() => {});
  const serve = async (args = workerArgs) => {
    const w = await startWorkerProcess(cli, redis.url, args);
    died = w.exited.then((status) => (signalled.has(w) ? new Promise<never>(() => {}) : Promise.reject(new Error(`worker ${w.pid} died (${status}); its log:\n${w.log.lines.join('\n')}`))));
    died.catch(() => {});
    return w;
  };
  /** A job's end, or the error of a worker that died: its jobs would otherwise wait forever for another. */
  const served = <T>(job: Promise<T>) => Promise.race([job, died]);

  before(async () => {
    redis = await LocalRedis.start();
    worker = await serve();
    queue = await RunQueue.connect({ redis: redis.url });
    raw = new Redis(redisOptions(redis.url));
    bull = new Queue('femtovm', { connection: bullmqConnection(redisOptions(redis.url)) });
  });
  after(async () => {
    await queue?.close();
    raw?.disconnect();
    await bull?.close();
    if (worker && worker.child.exitCode === null) signal(worker, 'SIGKILL');
    await worker?.exited;
    await redis?.close();
  });

  test('a run gives what VmPool.run gives, and where it ran', async () => {
    const pool = new VmPool({ maxThreads: 1 });
    const local = await pool.run(hello, wasm).finally(() => pool.close());
    const remote = await served(queue.run(hello, wasm));
    for (const key of ['backend', 'arch', 'outcome', 'exits', 'output'] as const) assert.deepEqual(remote[key], local[key], key);
    assert.equal(remote.output.toString(), 'Hello\n');
    assert.equal(remote.worker.split(':')[1], String(worker.pid));
    assert.equal(remote.outputBytes, 6);
    const cut = await served(queue.run(hello, { ...wasm, maxOutputBytes: 2 }));
    assert.equal(cut.output.toString(), 'He');
    assert.equal(cut.outputBytes, 6);
  });

  test('a failing guest: a failed job with the code and class of a local run, tried once', async () => {
    const fault = readFileSync(guest('aarch64', 'fault.bin'));
    const pool = new VmPool({ maxThreads: 1 });
    const local = await pool.run(fault, wasm).then(
      () => assert.fail('the fault guest ran clean locally'),
      (e: unknown) => e as GuestError,
    );
    await pool.close();
    assert.ok(local instanceof GuestError);
    const failedBefore = (await queue.jobCounts()).failed ?? 0;
    await assert.rejects(served(queue.run(fault, wasm)), (e: unknown) => e instanceof GuestError && e.code === local.code && e.message === local.message);
    assert.equal((await queue.jobCounts()).failed, failedBefore + 1);
    assert.equal((await lastFailed()).attemptsMade, 1, 'not retried');
  });

  test("a spinning guest's time limit holds through the queue", async () => {
    const r = await served(queue.run(guest('aarch64', 'spin.bin'), { ...wasm, timeoutMs: 200 }));
    assert.equal(r.outcome, 'timeout');
  });

  test('cancellation reaches a job running on a worker: outcome aborted, as locally', async () => {
    const abort = new AbortController();
    const run = queue.run(guest('aarch64', 'spin.bin'), { ...wasm, timeoutMs: 60_000, signal: abort.signal });
    await activeJob();
    abort.abort();
    const r = await served(run);
    assert.equal(r.outcome, 'aborted');
    await worker.log.waitFor(/cancelled: 1 running job/, 'the worker saw the cancel');
    // Aborted before it was added: the job starts stopped.
    const early = await served(queue.run(guest('aarch64', 'spin.bin'), { ...wasm, timeoutMs: 60_000, signal: AbortSignal.abort() }));
    assert.equal(early.outcome, 'aborted');
  });

  test('runMany: every job once, progress, per-worker counts; the CLI prints the same', async () => {
    const ids = new Set<string>();
    let progress = 0;
    const many = await served(queue.runMany(hello, { ...wasm, count: 200, onResult: (id) => ids.add(id), onProgress: (done) => (progress = done) }));
    assert.equal(many.ran, 200);
    assert.equal(ids.size, 200);
    assert.equal(progress, 200);
    assert.deepEqual(many.outcomes, { 'system-off': 200 });
    assert.deepEqual(Object.values(many.workers), [200]);
    const r = spawnSync(process.execPath, [cli, 'submit', guest('aarch64', 'hello.bin'), '--backend', 'wasm', '--redis', redis.url, '--count', '20', '--json'], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const summary = JSON.parse(r.stdout) as { ran: number; outcomes: Record<string, number> };
    assert.equal(summary.ran, 20);
    assert.deepEqual(summary.outcomes, { 'system-off': 20 });
    const one = spawnSync(process.execPath, [cli, 'submit', guest('aarch64', 'hello.bin'), '--backend', 'wasm', '--redis', redis.url], { encoding: 'utf8' });
    assert.equal(one.status, 0, one.stderr);
    assert.equal(one.stdout, 'Hello\n');
  });

  test('an image not in Redis: the job fails ERR_QUEUE_IMAGE_MISSING, not retried; too large: refused before Redis', async () => {
    const unique = Buffer.concat([hello, Buffer.from('missing-image-test')]);
    await queue.runMany(unique, { ...wasm, count: 0 }); // stores the image (and remembers it did)
    const { createHash } = await import('node:crypto');
    assert.equal(await raw.del(imageKey(createHash('sha256').update(unique).digest('hex'))), 1);
    await assert.rejects(served(queue.run(unique, { ...wasm, attempts: 3 })), (e: unknown) => e instanceof QueueError && e.code === 'ERR_QUEUE_IMAGE_MISSING' && /not in Redis/.test(e.message));
    const failed = await lastFailed();
    assert.equal(failed.opts.attempts, 3);
    assert.equal(failed.attemptsMade, 1, 'not retried although attempts: 3');
    const small = await RunQueue.connect({ redis: redis.url, maxImageBytes: 16 });
    await assert.rejects(small.run(hello, wasm), (e: unknown) => e instanceof QueueError && e.code === 'ERR_QUEUE_IMAGE_TOO_LARGE');
    await small.close();
    await assert.rejects(small.run(hello, wasm), (e: unknown) => e instanceof QueueError && e.code === 'ERR_QUEUE_CLOSED');
  });

  test('a worker SIGKILLed mid-job: the job runs on another worker, and ends once', async () => {
    const ended: string[] = [];
    const run = queue.runMany(guest('aarch64', 'spin.bin'), { ...wasm, timeoutMs: 300, count: 1, onResult: (id) => ended.push(id) });
    await activeJob();
    signal(worker, 'SIGKILL');
    await worker.exited;
    const second = await serve();
    try {
      const many = await served(run);
      assert.deepEqual(many.outcomes, { timeout: 1 });
      assert.deepEqual(Object.keys(many.workers).map((w) => w.split(':')[1]), [String(second.pid)], 'ran on the second worker only');
      assert.equal(ended.length, 1);
    } finally {
      worker = second;
    }
  });

  test('SIGTERM finishes the running job; a second SIGTERM hands it back to another worker', async () => {
    // Long locks: a job here must end where it ran, not be taken back as stalled because a busy
    // machine renewed its 3 s lock late (after which a closing worker would not run it again).
    const steadyArgs = workerArgs.map((arg, i) => (workerArgs[i - 1] === '--lock-ms' ? '60000' : arg));
    signal(worker, 'SIGTERM');
    assert.equal(await worker.exited, 0);
    worker = await serve(steadyArgs);
    const spin = guest('aarch64', 'spin.bin');
    const finishing = queue.run(spin, { ...wasm, timeoutMs: 500 });
    await activeJob();
    signal(worker, 'SIGTERM');
    assert.equal(await worker.exited, 0);
    await worker.log.waitFor(/stopped: .*completed 1 /, 'stopped line with counts');
    const finished = await served(finishing);
    assert.equal(finished.outcome, 'timeout');
    assert.equal(finished.worker.split(':')[1], String(worker.pid));

    const leaving = await serve(steadyArgs);
    worker = leaving;
    const handedBack = queue.run(spin, { ...wasm, timeoutMs: 1500 });
    await activeJob();
    signal(leaving, 'SIGTERM');
    await leaving.log.waitFor(/SIGTERM: finishing/, 'first SIGTERM seen');
    signal(leaving, 'SIGTERM');
    assert.equal(await leaving.exited, 0);
    await leaving.log.waitFor(/stopped: .*handed back 1/, 'handed back one job');
    assert.deepEqual(await jobStates(), { active: 0, waiting: 1 }, 'the job waits for the next worker');
    worker = await serve(steadyArgs);
    const r = await served(handedBack);
    assert.equal(r.outcome, 'timeout');
    assert.equal(r.worker.split(':')[1], String(worker.pid), 'finished by the next worker');
  });

  test('docs/queue.md: its example runs and prints what its comments say', async () => {
    const [source] = [...readFileSync(join(root, 'docs', 'queue.md'), 'utf8').matchAll(/```js\n([\s\S]*?)```/g)].map((m) => m[1]!);
    assert.ok(source, 'docs/queue.md has a TypeScript example');
    const dir = mkdtempSync(join(tmpdir(), 'femtovm-queue-doc-'));
    try {
      const file = join(dir, 'example.mjs');
      writeFileSync(file, source.replaceAll("from 'femtovm'", `from '${pathToFileURL(join(root, 'dist', 'index.js')).href}'`).replaceAll('redis://127.0.0.1:6379', redis.url));
      const { stdout } = await promisify(execFile)(process.execPath, [file], { cwd: root, encoding: 'utf8', timeout: 60_000 });
      const expected = [...source.matchAll(/console\.log\(.*\/\/ (.+)$/gm)].map((m) => m[1]!.trim());
      assert.equal(stdout.trim(), expected.join('\n'));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  const hostArch: GuestArch = process.arch === 'arm64' ? 'aarch64' : 'x86_64';
  const kvmSkip = kvmSkipReason(hostArch);
  test(`the host's KVM through the queue (${hostArch} hello)`, { skip: kvmSkip && `SKIPPED: ${kvmSkip}` }, async () => {
    const r = await served(queue.run(guest(hostArch, 'hello.bin'), { arch: hostArch, backend: 'kvm' }));
    assert.equal(r.backend, 'kvm');
    assert.equal(r.output.toString(), 'Hello\n');
  });
});
