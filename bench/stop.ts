/**
 * The stop suite: how long `RemoteVm.stop()` takes to get a vCPU out of a guest that spins without a
 * single exit (guests/<arch>/spin.bin), against the C baseline doing the same kick by hand (set
 * kvm_run->immediate_exit, signal the vCPU thread, wait for it to leave KVM_RUN). Each stop lands 1-3
 * ms into a run, so the vCPU is inside KVM_RUN. Rounds alternate C and femtovm.
 */
import { join } from 'node:path';

import { VmPool } from '../src/index';
import { runBaselineKicks } from './baseline';
import { histograms, summarize } from '../src/shared/stats';
import { clamp, judge, sleep, type Row, type SuiteContext, type SuiteResult } from './types';

export async function stopSuite(ctx: SuiteContext): Promise<SuiteResult> {
  const started = performance.now();
  const arch = ctx.kvmArch!;
  const image = join(ctx.root, 'guests', arch, 'spin.bin');
  // A stop cycle takes ~3 ms on either side; spend ~85% of the duration on them.
  const perSide = Math.round(clamp((ctx.duration * 0.85) / 0.0075, 30, 3000));
  const rounds = perSide >= 400 ? 4 : 2;
  const perRound = Math.ceil(perSide / rounds);

  const cExit: number[] = [];
  const cAck: number[] = [];
  const stopMs: number[] = [];
  const resolvedMs: number[] = [];
  const pool = new VmPool({ maxThreads: 1, idleTimeoutMs: 60_000 });
  try {
    const vm = await pool.createVm({ arch, backend: 'kvm' });
    try {
      const cycle = async (record: boolean) => {
        await vm.load(image);
        const run = vm.run();
        await sleep(1 + Math.random() * 2);
        const t0 = performance.now();
        await vm.stop();
        const t1 = performance.now();
        const result = await run;
        const t2 = performance.now();
        if (result.outcome !== 'stopped') throw new Error(`the spin guest ended with ${result.outcome}, not stopped`);
        if (record) {
          stopMs.push(t1 - t0);
          resolvedMs.push(t2 - t0);
        }
      };
      runBaselineKicks(image, 5); // warm-up
      for (let i = 0; i < 10; i++) await cycle(false);
      for (let round = 0; round < rounds; round++) {
        const c = runBaselineKicks(image, perRound);
        cExit.push(...c.exitNs.map((ns) => ns / 1e6));
        cAck.push(...c.ackNs.map((ns) => ns / 1e6));
        for (let i = 0; i < perRound; i++) await cycle(true);
        ctx.log(`stop round ${round + 1}/${rounds}: ${perRound} stops each, C kick→ack p50 ${(summarize(cAck).p50 * 1000).toFixed(0)} µs, femtovm stop() p50 ${(summarize(stopMs).p50 * 1000).toFixed(0)} µs`);
      }
    } finally {
      await vm.close();
    }
  } finally {
    await pool.close();
  }

  const stop = summarize(stopMs);
  const resolved = summarize(resolvedMs);
  const ack = summarize(cAck);
  const exit = summarize(cExit);
  const [hStop, hAck] = histograms([stopMs, cAck]);
  const [hResolved, hExit] = histograms([resolvedMs, cExit]);
  const rows: Row[] = [
    judge({
      id: 'stop/stop',
      name: 'RemoteVm.stop() → vCPU out of KVM_RUN (spinning guest)',
      unit: 'ms',
      value: stop.p99,
      stat: `p99 of ${stop.n} stops`,
      baselineName: 'C kick → ack',
      baselineValue: ack.p99,
      ratio: stop.p99 / ack.p99,
      distributions: [
        { label: 'C kick → ack', unit: 'ms', summary: ack, histogram: hAck! },
        { label: 'femtovm stop()', unit: 'ms', summary: stop, histogram: hStop! },
      ],
      extra: { p50: stop.p50, max: stop.max, baselineP50: ack.p50 },
    }),
    {
      id: 'stop/resolved',
      name: 'stop() → run() promise resolved',
      unit: 'ms',
      value: resolved.p99,
      stat: `p99 of ${resolved.n} stops`,
      baselineName: 'C kick → KVM_RUN returns',
      baselineValue: exit.p99,
      ratio: resolved.p99 / exit.p99,
      distributions: [
        { label: 'C kick → KVM_RUN returns', unit: 'ms', summary: exit, histogram: hExit! },
        { label: 'femtovm stop() → run() resolved', unit: 'ms', summary: resolved, histogram: hResolved! },
      ],
      extra: { p50: resolved.p50, max: resolved.max, baselineP50: exit.p50 },
    },
  ];
  return {
    suite: 'stop',
    status: 'ran',
    seconds: (performance.now() - started) / 1000,
    rows,
    notes: [
      'femtovm: main-thread time from calling stop() to its promise resolving (the worker marked the run finished) and to run() resolving (its reply crossed back). C: the same kick (immediate_exit + signal, re-sent every 1 ms) from another thread, to KVM_RUN returning and to the kicking thread seeing it (futex).',
    ],
  };
}
