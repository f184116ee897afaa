/**
 * The C baseline (bench/baseline/exit_loop.c): compiled at bench time with the host's `cc`, or taken
 * prebuilt from build-<arch>/bench/ where the arm64 lab cross-compiles it (the lab has no compiler).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

import { packageRoot } from '../src/shared/addon';

export interface BaselineRun {
  exits: number;
  seconds: number;
  usPerExit: number;
  /** With --coalesced / --doorbell: the writes that reached user space that way. */
  coalesced?: number;
  doorbell?: number;
  /** With `latency`: ns between consecutive KVM_RUN returns (the first from the loop's start). */
  latencyNs?: number[];
}

export interface BaselineSwarm {
  vms: number;
  threads: number;
  alive: number;
  seconds: number;
  vmsPerSecond: number;
  /** Each VM's create + run + destroy, ns. */
  cycleNs: number[];
}

export interface BaselineKicks {
  kicks: number;
  /** Kick to KVM_RUN returning on the vCPU thread, ns. */
  exitNs: number[];
  /** Kick to the kicking thread knowing the vCPU left KVM_RUN, ns. */
  ackNs: number[];
}

let built: string | undefined;

/** The baseline binary, built (once per source change) if needed. */
export function baselineBinary(): string {
  if (built !== undefined) return built;
  const root = packageRoot();
  const source = join(root, 'bench', 'baseline', 'exit_loop.c');
  const cross = join(root, `build-${process.arch}`, 'bench', 'exit_loop');
  if (existsSync(cross) && statSync(cross).mtimeMs >= statSync(source).mtimeMs) return (built = cross);
  const binary = join(root, 'build', 'bench', 'exit_loop');
  if (!existsSync(binary) || statSync(binary).mtimeMs < statSync(source).mtimeMs) {
    mkdirSync(join(root, 'build', 'bench'), { recursive: true });
    execFileSync('cc', ['-O2', '-Wall', '-pthread', '-o', binary, source], { stdio: ['ignore', 'ignore', 'inherit'] });
  }
  return (built = binary);
}

function runJson<T>(args: string[]): T {
  return JSON.parse(execFileSync(baselineBinary(), args, { encoding: 'utf8', maxBuffer: 1 << 28, stdio: ['ignore', 'pipe', 'pipe'] })) as T;
}

/** The exit loop: `count` into ecx / x0, every exit answered in C; `flags` add exit-free mechanisms (--coalesced, --doorbell). */
export function runBaseline(image: string, count: number, latency = false, flags: readonly string[] = []): BaselineRun {
  return runJson<BaselineRun>([...(latency ? ['--latency'] : []), ...flags, image, String(count)]);
}

/** Creates, runs and destroys `vms` VMs over `threads` threads, with `alive` idle VMs open meanwhile. */
export function runBaselineSwarm(image: string, vms: number, threads: number, alive = 0): BaselineSwarm {
  return runJson<BaselineSwarm>(['--vms', String(vms), '--threads', String(threads), '--alive', String(alive), image]);
}

/** `kicks` stop requests to a vCPU spinning in KVM_RUN. */
export function runBaselineKicks(image: string, kicks: number): BaselineKicks {
  return runJson<BaselineKicks>(['--kick', String(kicks), image]);
}
