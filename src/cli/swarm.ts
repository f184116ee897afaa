/** `femtovm swarm`: N VMs of one image, K at a time, summarized. */
import type { Command } from 'commander';

import { runSwarm } from '../host/swarm';
import { readImageFile } from '../shared/image';
import { progressBar } from './progress-bar';
import { number, parseFlags, withRunOptions, type RunFlags } from './run-options';

/** Adds `swarm`. */
export function registerSwarm(program: Command): void {
  withRunOptions(program.command('swarm').description('run N VMs of one image, K at a time, on worker threads, and summarize'))
    .requiredOption('--count <n>', 'how many VMs', number('--count', { min: 1 }))
    .option('--concurrency <k>', 'VMs at once (pool threads; default: CPUs; at most 8 per CPU)', number('--concurrency', { min: 1 }))
    .option('--progress', 'print a progress line to stderr as the counts change (a bar instead when stderr is a terminal)')
    .option('--no-reuse', 'create and destroy a VM for every run instead of resetting warm VMs to their snapshot')
    .option('--json', 'print the summary as JSON')
    .action(async (path: string, flags: RunFlags & { count: number; concurrency?: number; reuse: boolean; progress?: boolean }) => {
      const image = readImageFile(path);
      const options = parseFlags(image, path, flags);
      const bar = process.stderr.isTTY && !flags.json ? progressBar({ format: 'swarm [{bar}] {value}/{total} VMs, {failed} failed, {eta}s left' }) : undefined;
      bar?.start(flags.count, 0, { failed: 0 });
      // Ctrl-C stops the runs in progress and starts no more; the summary covers what ran.
      const interrupt = new AbortController();
      const stop = () => interrupt.abort();
      process.once('SIGINT', stop);
      const summary = await runSwarm(image, {
        count: flags.count,
        ...(flags.concurrency !== undefined && { concurrency: flags.concurrency }),
        vm: options.vm,
        run: { ...options.run, signal: interrupt.signal },
        load: options.load,
        reuse: flags.reuse,
        onProgress: (done, failed, running) => (bar ? bar.update(done, { failed }) : flags.progress && progressLine(done, flags.count, failed, running)),
      }).finally(() => process.off('SIGINT', stop));
      bar?.stop();
      if (flags.json) {
        process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
      } else {
        const outcomes = Object.entries(summary.outcomes).map(([k, v]) => `${k} ${v}`).join(', ');
        process.stdout.write(
          `${summary.ran === summary.count ? summary.count : `${summary.ran} of ${summary.count}`} VMs, ${summary.concurrency} at a time, in ${(summary.durationMs / 1000).toFixed(2)} s: ${summary.vmsPerSecond.toFixed(0)} VMs/s, ${summary.exitsPerSecond.toFixed(0)} exits/s\n` +
            `run latency: p50 ${summary.latencyMs.p50.toFixed(2)} ms, p99 ${summary.latencyMs.p99.toFixed(2)} ms, max ${summary.latencyMs.max.toFixed(2)} ms\n` +
            `outcomes: ${outcomes}\n` +
            summary.failures.map((f) => `failed ×${f.count}: ${f.code}: ${f.message}\n`).join(''),
        );
      }
      process.exitCode = interrupt.signal.aborted ? 130 : summary.failures.length === 0 ? 0 : 1;
    });
}

let lastLine = '';
/** A line per change of the counts: for logs, and for scripts that wait until the swarm runs. */
function progressLine(done: number, count: number, failed: number, running: number): void {
  const line = `swarm: ${done}/${count} VMs, ${running} running, ${failed} failed\n`;
  if (line !== lastLine) process.stderr.write(line);
  lastLine = line;
}
