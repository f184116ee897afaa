/**
 * The lines a child process prints (stdout and stderr), kept, and waited for by pattern: how the
 * queue's tests and bench know a redis-server or a worker is ready, or a job got somewhere.
 */
import type { ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';

export interface LineWaiter {
  /** Every line so far. */
  readonly lines: string[];
  /** Resolves with the first line (so far or to come) matching `pattern`; rejects if the process ends first. */
  waitFor(pattern: RegExp, what: string): Promise<string>;
}

export function lineWaiter(child: ChildProcess): LineWaiter {
  const lines: string[] = [];
  const waiters = new Set<{ pattern: RegExp; resolve: (line: string) => void; reject: (error: Error) => void; what: string }>();
  const onLine = (line: string) => {
    lines.push(line);
    for (const w of waiters) {
      if (!w.pattern.test(line)) continue;
      waiters.delete(w);
      w.resolve(line);
    }
  };
  for (const stream of [child.stdout, child.stderr]) if (stream) createInterface({ input: stream }).on('line', onLine);
  // 'close', not 'exit': a process's last lines can still be in its pipes when it has exited.
  let ended: string | undefined;
  child.once('close', (code, signal) => {
    ended = signal ?? `status ${code}`;
    for (const w of waiters) w.reject(new Error(`${w.what}: the process exited (${ended}) first; its output:\n${lines.slice(-20).join('\n')}`));
    waiters.clear();
  });
  return {
    lines,
    waitFor(pattern, what) {
      const seen = lines.find((line) => pattern.test(line));
      if (seen !== undefined) return Promise.resolve(seen);
      if (ended !== undefined) return Promise.reject(new Error(`${what}: the process has exited (${ended}); its output:\n${lines.slice(-20).join('\n')}`));
      return new Promise((resolve, reject) => waiters.add({ pattern, resolve, reject, what }));
    },
  };
}
