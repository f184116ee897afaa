/**
 * The startup suite: what a user waits for from typing `femtovm run hello` to the shell prompt, against
 * `node -e 0` (Node's own start and exit) on the same host, in the same run. The guest is the one the
 * host runs fastest: x86_64 hello on x86 KVM, else aarch64 hello (KVM on arm64, the wasm CPU anywhere).
 * Rounds alternate A B B A so a drift in the host's load cancels instead of favouring one side.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

import { pairRatios, summarize } from '../src/shared/stats';
import { clamp, judge, type SuiteContext, type SuiteResult } from './types';

/** Wall-clock ms of one process run to its exit; throws if it fails. */
function timed(args: string[], cwd: string): number {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  const ms = performance.now() - t0;
  if (r.status !== 0) throw new Error(`node ${args.join(' ')} exited ${r.status}: ${String(r.stderr).trim()}`);
  return ms;
}

export async function startupSuite(ctx: SuiteContext): Promise<SuiteResult> {
  const started = performance.now();
  const arch = ctx.kvmArch === 'x86_64' ? 'x86_64' : 'aarch64';
  const run = [join(ctx.root, 'dist', 'cli.js'), 'run', join(ctx.root, 'guests', arch, 'hello.bin')];
  const bare = ['-e', '0'];
  timed(bare, ctx.root);
  timed(run, ctx.root); // warm-up: the page cache and the kernel's, for both
  // A pair is ~0.4 s here; spend most of the duration on them.
  const rounds = Math.round(clamp(ctx.duration / 0.5, 4, 60));
  const node: number[] = [];
  const femtovm: number[] = [];
  for (let round = 0; round < rounds; round++) {
    if (round % 2 === 0) node.push(timed(bare, ctx.root));
    femtovm.push(timed(run, ctx.root));
    if (round % 2 === 1) node.push(timed(bare, ctx.root));
  }
  const f = summarize(femtovm);
  const b = summarize(node);
  const r = summarize(pairRatios(femtovm, node));
  ctx.log(`startup: ${rounds} rounds, node -e 0 ${b.p50.toFixed(0)} ms, femtovm run hello (${arch}) ${f.p50.toFixed(0)} ms, ratio ${r.p50.toFixed(2)}`);
  return {
    suite: 'startup',
    status: 'ran',
    seconds: (performance.now() - started) / 1000,
    rows: [
      judge({
        id: 'startup/run-hello',
        name: `femtovm run hello (${arch}), process start to exit`,
        unit: 'ms',
        value: f.p50,
        stat: `median of ${rounds} runs`,
        baselineName: 'node -e 0',
        baselineValue: b.p50,
        ratio: r.p50,
        rounds: { femtovm: f, baseline: b, ratio: r },
      }),
    ],
    notes: [
      'startup: `femtovm run` starts one worker thread for its VM (Node 20 compiles its internal modules again in every worker: most of the difference), loads Piscina, and streams the console from the VM\'s event ring; the bench, chart.js, cli-progress and the queue\'s libraries are not loaded.',
    ],
  };
}
