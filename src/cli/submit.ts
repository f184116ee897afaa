/**
 * `femtovm submit`: runs a guest as jobs on a queue's workers (src/queue/run-queue.ts). One job
 * prints what `femtovm run` prints; --count N prints a summary like `femtovm swarm`, with a progress
 * bar on a terminal. Ctrl-C cancels the jobs wherever they run.
 */
import type { Command } from 'commander';

import { FemtovmError } from '../shared/errors';
import { readImageFile } from '../shared/image';
import { progressBar } from './progress-bar';
import { number, parseFlags, withRunOptions, type RunFlags } from './run-options';

interface SubmitFlags extends RunFlags {
  redis: string;
  queue: string;
  count: number;
  attempts: number;
}

/** Adds `submit`. */
export function registerSubmit(program: Command): void {
  withRunOptions(program.command('submit').description('run a guest as jobs on a queue on Redis, served by `femtovm worker`s on any machines'))
    .requiredOption('--redis <url>', 'Redis: redis://host:port/db, rediss://… or unix:///path/to/redis.sock')
    .option('--queue <name>', 'queue name', 'femtovm')
    .option('--count <n>', 'how many jobs', number('--count', { min: 1 }), 1)
    .option('--attempts <n>', 'tries for a job whose run fails (a dead worker does not use one up)', number('--attempts', { min: 1 }), 1)
    .option('--json', 'print the result (one job) or the summary as JSON')
    .action(async (path: string, flags: SubmitFlags) => {
      const image = readImageFile(path);
      const { vm, load, run } = parseFlags(image, path, flags);
      // Loaded only by this command: BullMQ and ioredis stay out of the others.
      const { RunQueue } = require('../queue/run-queue') as typeof import('../queue/run-queue');
      const queue = await RunQueue.connect({ redis: flags.redis, queue: flags.queue });
      const interrupt = new AbortController();
      const stop = () => interrupt.abort();
      process.once('SIGINT', stop);
      const options = { ...vm, ...run, load, attempts: flags.attempts, signal: interrupt.signal };
      try {
        process.exitCode = flags.count === 1 ? await submitOne(queue, image, options, flags.json ?? false) : await submitMany(queue, image, { ...options, count: flags.count }, flags.json ?? false);
      } finally {
        process.off('SIGINT', stop);
        await queue.close();
      }
      if (interrupt.signal.aborted) process.exitCode = 130;
    });
}

type Queue = import('../queue/run-queue').RunQueue;
type Options = import('../queue/run-queue').QueueRunOptions;

async function submitOne(queue: Queue, image: Uint8Array, options: Options, json: boolean): Promise<number> {
  try {
    const result = await queue.run(image, options);
    if (json) process.stdout.write(`${JSON.stringify({ ...result, output: result.output.toString('latin1') })}\n`);
    else process.stdout.write(result.output);
    return result.outcome === 'halted' || result.outcome === 'system-off' || result.outcome === 'stopped' ? 0 : result.outcome === 'timeout' ? 124 : 2;
  } catch (error) {
    if (!(error instanceof FemtovmError)) throw error;
    if (json) process.stdout.write(`${JSON.stringify({ outcome: 'error', error: { code: error.code, message: error.message } })}\n`);
    else process.stderr.write(`femtovm: ${error.code}: ${error.message}\n`);
    return 1;
  }
}

async function submitMany(queue: Queue, image: Uint8Array, options: Options & { count: number }, json: boolean): Promise<number> {
  const bar = process.stderr.isTTY && !json ? progressBar({ format: 'submit [{bar}] {value}/{total} jobs, {failed} failed, {eta}s left' }) : undefined;
  bar?.start(options.count, 0, { failed: 0 });
  const summary = await queue.runMany(image, { ...options, onProgress: (done, failed) => bar?.update(done, { failed }) });
  bar?.stop();
  const { latenciesMs: _latencies, ...rest } = summary;
  const jobsPerSecond = (summary.ran / summary.durationMs) * 1000;
  if (json) {
    process.stdout.write(`${JSON.stringify({ ...rest, jobsPerSecond }, null, 2)}\n`);
  } else {
    const list = (counts: Record<string, number>) => Object.entries(counts).map(([k, v]) => `${k} ${v}`).join(', ');
    process.stdout.write(
      `${summary.ran} jobs on queue ${queue.name} in ${(summary.durationMs / 1000).toFixed(2)} s: ${jobsPerSecond.toFixed(0)} jobs/s\n` +
        `outcomes: ${list(summary.outcomes)}\nworkers: ${list(summary.workers)}\n` +
        summary.failures.map((f) => `failed ×${f.count}: ${f.code}: ${f.message}\n`).join(''),
    );
  }
  return summary.failures.length === 0 ? 0 : 1;
}
