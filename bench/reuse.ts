/**
 * The reuse suite: what a warm VM reset to its snapshot saves over a new VM. On the host's KVM, a
 * 64 KiB VM running `hello`: the reset alone (`vm.restore()`, the guest run excluded), the guest run
 * on the reset VM, and runs per second with reuse (reset + run) against fresh VMs (create + load +
 * run + close), rounds alternating. On the wasm backend (aarch64 hello), the same two rates, and new
 * VMs per second with the translator 'auto' against 'off' (translating only hot code costs tiny VMs nothing).
 * In-thread `createVm`: the pool adds the same thread hop to both paths.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import { createVm, type BackendKind, type GuestArch, type JitMode } from '../src/index';
import { histograms, pairRatios, summarize } from '../src/shared/stats';
import { clamp, judge, type Distribution, type Row, type SuiteContext, type SuiteResult } from './types';

const RAM = 64 * 1024;

interface Timings {
  /** µs per fresh VM: create, load, run, close. */
  fresh: number[];
  /** µs per reset (restore), and per run of the reset VM. */
  reset: number[];
  run: number[];
}

/** `cycles` new VMs (create, load, run, close), each one's µs pushed to `samples`: VMs per second. */
function freshVms(arch: GuestArch, backend: BackendKind, image: Uint8Array, cycles: number, samples: number[], jit: JitMode = 'off'): number {
  let t = performance.now();
  const t0 = t;
  for (let i = 0; i < cycles; i++) {
    const vm = createVm({ arch, backend, mem: RAM, jit });
    try {
      vm.load(image);
      vm.run();
    } finally {
      vm.close();
    }
    const now = performance.now();
    samples.push((now - t) * 1000);
    t = now;
  }
  return cycles / ((t - t0) / 1000);
}

/** `cycles` fresh VMs, then `cycles` runs of one warm VM reset before each: per-cycle µs. */
function measure(arch: GuestArch, backend: BackendKind, image: Uint8Array, cycles: number, into: Timings): { freshPerS: number; reusedPerS: number } {
  const freshPerS = freshVms(arch, backend, image, cycles, into.fresh);
  const vm = createVm({ arch, backend, mem: RAM });
  try {
    vm.load(image);
    vm.snapshot();
    vm.run();
    const t1 = performance.now();
    for (let i = 0; i < cycles; i++) {
      const a = performance.now();
      vm.restore();
      const b = performance.now();
      vm.run();
      into.reset.push((b - a) * 1000);
      into.run.push((performance.now() - b) * 1000);
    }
    return { freshPerS, reusedPerS: cycles / ((performance.now() - t1) / 1000) };
  } finally {
    vm.close();
  }
}

function distribution(label: string, samples: number[], histogram: Distribution['histogram']): Distribution {
  return { label, unit: 'µs', summary: summarize(samples), histogram };
}

async function backendRows(ctx: SuiteContext, arch: GuestArch, backend: BackendKind, cycles: number, rounds: number): Promise<Row[]> {
  const image = new Uint8Array(readFileSync(join(ctx.root, 'guests', arch, 'hello.bin')));
  const timings: Timings = { fresh: [], reset: [], run: [] };
  measure(arch, backend, image, Math.min(cycles, 50), { fresh: [], reset: [], run: [] }); // warm-up
  const fresh: number[] = [];
  const reused: number[] = [];
  const translating: number[] = []; // wasm: new VMs per second with jit 'auto'
  for (let round = 0; round < rounds; round++) {
    const r = measure(arch, backend, image, cycles, timings);
    fresh.push(r.freshPerS);
    reused.push(r.reusedPerS);
    if (backend === 'wasm') translating.push(freshVms(arch, backend, image, cycles, [], 'auto'));
    ctx.log(`reuse ${backend} round ${round + 1}/${rounds}: runs/s fresh ${r.freshPerS.toFixed(0)}${backend === 'wasm' ? ` (jit auto ${translating.at(-1)!.toFixed(0)})` : ''}, reused ${r.reusedPerS.toFixed(0)}`);
    await new Promise((resolve) => setImmediate(resolve));
  }
  const reset = summarize(timings.reset);
  const run = summarize(timings.run);
  const freshCycle = summarize(timings.fresh);
  const [hf, hr, hrun] = histograms([timings.fresh, timings.reset, timings.run]);
  const stat = `median of ${rounds} rounds × ${cycles} runs`;
  const breakdown = { resetP50Us: reset.p50, runP50Us: run.p50, freshP50Us: freshCycle.p50 };
  const ratios = pairRatios(reused, fresh);
  const rows: Row[] = [
    judge({
      id: `reuse/${backend}-runs`,
      name: `hello runs/s, warm VM reset per run vs a new VM per run (${backend}, ${arch}, 64 KiB)`,
      unit: 'runs/s',
      value: summarize(reused).p50,
      stat,
      baselineName: 'new VM per run (create, load, run, close)',
      baselineValue: summarize(fresh).p50,
      ratio: summarize(ratios).p50,
      rounds: { femtovm: summarize(reused), baseline: summarize(fresh), ratio: summarize(ratios) },
      distributions: [distribution('new VM (µs)', timings.fresh, hf!), distribution('reset (µs)', timings.reset, hr!), distribution('run after reset (µs)', timings.run, hrun!)],
      extra: breakdown,
      note: `per run: reset ${reset.p50.toFixed(1)} µs + guest run ${run.p50.toFixed(1)} µs, against ${freshCycle.p50.toFixed(1)} µs for a new VM (p50s)`,
    }),
  ];
  if (backend === 'wasm') {
    rows.push(judge({
      id: 'reuse/wasm-new-vm',
      name: 'a tiny VM on the wasm backend: createVm, load, run hello, close (aarch64, 64 KiB)',
      unit: 'µs',
      value: freshCycle.p50,
      stat: `p50 of ${freshCycle.n} VMs`,
      distributions: [distribution('new VM', timings.fresh, hf!)],
    }));
    const jitRatios = summarize(pairRatios(translating, fresh));
    rows.push(judge({
      id: 'reuse/wasm-new-vm-jit',
      name: "tiny VMs per second on the wasm backend with the translator 'auto' vs 'off' (createVm, load, run hello, close)",
      unit: 'VMs/s',
      value: summarize(translating).p50,
      stat,
      baselineName: "the same with jit 'off'",
      baselineValue: summarize(fresh).p50,
      ratio: jitRatios.p50,
      rounds: { femtovm: summarize(translating), baseline: summarize(fresh), ratio: jitRatios },
    }));
  }
  if (backend === 'kvm') {
    rows.push(judge({
      id: 'reuse/kvm-reset',
      name: `vm.restore() of a 64 KiB VM after a hello run, guest run excluded (${arch})`,
      unit: 'µs',
      value: reset.p50,
      stat: `p50 of ${reset.n} resets`,
      distributions: [distribution('reset', timings.reset, hr!)],
      extra: breakdown,
    }));
  }
  return rows;
}

export async function reuseSuite(ctx: SuiteContext): Promise<SuiteResult> {
  const started = performance.now();
  const rounds = Math.round(clamp(ctx.duration / 3, 3, 10));
  const rows: Row[] = [];
  if (ctx.kvmArch === undefined) {
    rows.push({ id: 'reuse/kvm-runs', name: 'hello runs/s with reuse vs new VMs (KVM)', unit: 'runs/s', skipped: ctx.kvmSkip ?? 'no usable KVM' });
  } else {
    // ~1 ms per new VM on KVM: size a round to about duration / (2 × rounds) seconds.
    rows.push(...(await backendRows(ctx, ctx.kvmArch, 'kvm', Math.round(clamp((ctx.duration * 1000) / (4 * rounds), 20, 2000)), rounds)));
  }
  rows.push(...(await backendRows(ctx, 'aarch64', 'wasm', Math.round(clamp(ctx.duration * 20_000 / rounds, 200, 100_000)), rounds)));
  return {
    suite: 'reuse',
    status: 'ran',
    seconds: (performance.now() - started) / 1000,
    rows,
    notes: [
      'Each round: N hello runs on new VMs (createVm, load, run, close), then N runs of one warm VM reset to its snapshot before each run (restore, run); in-thread createVm with 64 KiB of RAM. Ratio: reused / new runs per second, per round, median over rounds.',
      'The reset is timed alone (vm.restore(): on x86 KVM, the MSR, XCR0, FPU and debug-register ioctls, the dirty log and the dirtied pages; registers go through kvm_run\'s sync area at the next KVM_RUN), and so is the guest run after it.',
    ],
  };
}
