/**
 * `femtovm worker`: serves a BullMQ queue on Redis, running each job on this machine's VMs
 * (src/queue/queue-worker.ts). The first SIGTERM or SIGINT finishes the running jobs and exits; a
 * second hands them back to the queue instead of waiting.
 */
import { Option, type Command } from 'commander';

import type { QueueWorker } from '../queue/queue-worker';

import { number } from './run-options';

interface WorkerFlags {
  redis: string;
  queue: string;
  concurrency?: number;
  backend: 'auto' | 'kvm' | 'wasm';
  lockMs: number;
  healthMs: number;
  connectMs: number;
}

/** Adds `worker`. */
export function registerWorker(program: Command): void {
  program
    .command('worker')
    .description('take jobs from a queue on Redis (femtovm submit, RunQueue) and run them on this machine; logs its health and counts')
    .requiredOption('--redis <url>', 'Redis: redis://host:port/db, rediss://… or unix:///path/to/redis.sock')
    .option('--queue <name>', 'queue name', 'femtovm')
    .option('--concurrency <n>', 'jobs at once, each on its own VM thread (default: CPUs)', number('--concurrency', { min: 1 }))
    .addOption(new Option('--backend <backend>', 'backend for jobs that leave it to auto').choices(['auto', 'kvm', 'wasm']).default('auto'))
    .option('--lock-ms <ms>', "a job's lock; a dead worker's jobs go back to the queue 1-2 of these later", number('--lock-ms', { min: 1 }), 30_000)
    .option('--health-ms <ms>', 'log health and counts this often (0: never)', number('--health-ms'), 10_000)
    .option('--connect-ms <ms>', 'how long to wait for Redis at start before failing ERR_QUEUE_UNREACHABLE', number('--connect-ms', { min: 1 }), 10_000)
    .action(async (flags: WorkerFlags) => {
      // Loaded only by this command: BullMQ and ioredis stay out of the others.
      const { QueueWorker } = require('../queue/queue-worker') as typeof import('../queue/queue-worker');
      const log = (line: string) => process.stderr.write(`${new Date().toISOString()} femtovm worker ${process.pid}: ${line}\n`);
      // Signals are heard from the start: BullMQ takes jobs as soon as the worker is made, and a
      // signal that comes while it connects must close it once it is up, not kill the process.
      let signals = 0;
      let worker: QueueWorker | undefined;
      let signalled!: () => void;
      const firstSignal = new Promise<void>((resolve) => (signalled = resolve));
      const onSignal = (signal: NodeJS.Signals) => {
        signals++;
        if (worker === undefined) {
          // Still connecting (up to --connect-ms): a second signal quits without waiting.
          log(`${signal}: ${signals === 1 ? 'stopping once connected (again to quit now)' : 'quitting'}`);
          if (signals > 1) process.exit(130);
        } else {
          log(`${signal}: ${signals === 1 ? 'finishing the running jobs (again to hand them back)' : 'handing the running jobs back'}`);
          // close() again, with handBack, stops what the first close() is waiting for.
          if (signals > 1) void worker.close({ handBack: true });
        }
        signalled();
      };
      process.on('SIGTERM', onSignal);
      process.on('SIGINT', onSignal);
      worker = await QueueWorker.start({
        redis: flags.redis,
        queue: flags.queue,
        ...(flags.concurrency !== undefined && { concurrency: flags.concurrency }),
        backend: flags.backend,
        lockMs: flags.lockMs,
        healthIntervalMs: flags.healthMs,
        connectTimeoutMs: flags.connectMs,
        log,
      });
      await firstSignal;
      await worker.close({ handBack: signals > 1 });
    });
}
