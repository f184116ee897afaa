/**
 * A `femtovm worker` as a child process, for the queue's tests and bench: worker processes stand in
 * for machines. Started once it logs `ready`; its log kept and waited on by pattern.
 */
import { spawn, type ChildProcess } from 'node:child_process';

import { TRANSLATOR_V8_FLAGS } from '../shared/v8-flags';
import { lineWaiter, type LineWaiter } from './line-waiter';

export interface WorkerProcess {
  child: ChildProcess;
  log: LineWaiter;
  /** host:pid as results name it. */
  pid: number;
  /** Resolves with the exit status (or signal) once the process has ended and its log is complete. */
  exited: Promise<number | NodeJS.Signals>;
}

/**
 * Starts `node <cli> worker --redis <url> ...args` (with the flags cli.js's first line gives node)
 * and resolves once it is ready.
 */
export async function startWorkerProcess(cli: string, redis: string, args: string[]): Promise<WorkerProcess> {
  const child = spawn(process.execPath, [...TRANSLATOR_V8_FLAGS, cli, 'worker', '--redis', redis, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  // A test or bench that ends without stopping its workers (a failure, a timeout) takes them along.
  const orphaned = () => child.kill('SIGKILL');
  process.once('exit', orphaned);
  const exited = new Promise<number | NodeJS.Signals>((resolve) =>
    child.once('close', (code, signal) => {
      process.off('exit', orphaned);
      resolve(signal ?? code ?? -1);
    }),
  );
  const log = lineWaiter(child);
  await log.waitFor(/: ready: /, 'femtovm worker ready');
  return { child, log, pid: child.pid!, exited };
}
