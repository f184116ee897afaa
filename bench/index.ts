/**
 * `femtovm bench`: every suite against its baseline, measured in the same run (docs/bench.md says
 * how), printed as a table with each goal met or MISSED, and optionally written as JSON and HTML.
 */
import { writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';

import { packageRoot } from '../src/shared/addon';
import { cpuSuite } from './cpu';
import { eventsSuite } from './events';
import { exitsSuite } from './exits';
import { hostFacts, type HostFacts } from './host';
import { queueSuite } from './queue';
import { htmlReport, markdownTable, terminalTable, type BenchReport } from './report';
import { reuseSuite } from './reuse';
import { startupSuite } from './startup';
import { stopSuite } from './stop';
import { swarmSuite } from './swarm';
import { SUITES, type SuiteContext, type SuiteName, type SuiteResult } from './types';

export { DEFAULT_DURATION, SUITES, type SuiteName } from './types';
export { withGoalsTable } from './goals';

export interface BenchOptions {
  /** Suites to run (default: all). */
  suites: string[];
  /** Seconds of work per suite, roughly (scales rounds and counts). */
  duration: number;
  json?: string;
  html?: string;
  markdown?: boolean;
}

/** The method, recorded with every report (docs/bench.md has the long form), as it applied on this host. */
export function method(host: HostFacts): string[] {
  const kvm = host.kvm;
  return [
    `Baseline and femtovm run the same guest in the same process tree${kvm.usable ? `, on the same KVM (${kvm.arch} guests${host.nestedKvm.nested ? ', nested' : ''})` : ''}, alternated round by round after a warm-up run of each; each suite's work is sized from --duration.`,
    ...(kvm.usable ? [] : [`No usable KVM here (${kvm.code}): the KVM suites and rows were skipped, each saying why; the wasm backend's rows ran against their own baselines.`]),
    'Per-round values are summarized by their median (p10/p90/min/max kept in the JSON); ratios are taken pair by pair (femtovm / baseline of the same round) and their median reported.',
    'Per-event distributions (exit latency, stop latency, per-VM cost) report p50/p90/p99 of single events from runs that timestamp every event.',
    `C baselines: bench/baseline/exit_loop.c (exit loop, swarm, kick), compiled with cc -O2 at bench time${host.kvm.usable ? '' : ' (not run here: they need KVM)'}. CPU baseline: ${host.qemuAarch64 ? `qemu-aarch64 (TCG), ${host.qemuAarch64}` : 'none: qemu-aarch64 is not installed (Debian package qemu-user), so the cpu rows have no baseline and no ratio'}.`,
    'Goals (docs/goals.json) are judged on the stated metric; MISSED means the measured figure is on the wrong side of the target in this run. Absolute times on a shared or nested host are context: compare ratios.',
  ];
}

const needsKvm: Record<SuiteName, boolean> = { exits: true, stop: true, swarm: true, reuse: false, cpu: false, events: false, queue: false, startup: false };
const run: Record<SuiteName, (ctx: SuiteContext) => Promise<SuiteResult>> = {
  exits: exitsSuite,
  stop: stopSuite,
  swarm: swarmSuite,
  reuse: reuseSuite,
  cpu: cpuSuite,
  events: eventsSuite,
  queue: queueSuite,
  startup: startupSuite,
};

export async function runBench(options: BenchOptions): Promise<number> {
  const unknown = options.suites.filter((s) => !(SUITES as readonly string[]).includes(s));
  if (unknown.length > 0) {
    process.stderr.write(`femtovm bench: unknown suite${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')} (suites: ${SUITES.join(', ')})\n`);
    return 2;
  }
  if (!Number.isFinite(options.duration) || options.duration <= 0) {
    process.stderr.write('femtovm bench: --duration must be a positive number of seconds\n');
    return 2;
  }
  const selected = SUITES.filter((s) => options.suites.length === 0 || options.suites.includes(s));
  const startedAt = new Date();
  const t0 = performance.now();
  const log = (line: string) => process.stderr.write(`[bench ${((performance.now() - t0) / 1000).toFixed(0).padStart(4)} s] ${line}\n`);
  const host = hostFacts();
  const kvm = host.kvm;
  const kvmSkip = kvm.usable
    ? undefined
    : `no usable KVM here (${kvm.code}: ${kvm.reason}); run it on real KVM in the lab: npm run lab -- --arch x86_64 femtovm bench`;
  log(`suites ${selected.join(', ')}, --duration ${options.duration} s each, on ${host.where}: ${host.cpuModel}, Linux ${host.kernel}, ${kvm.usable ? `KVM (${kvm.arch} guests${host.nestedKvm.nested ? ', nested' : ''})` : 'no usable KVM'}`);
  const suites: SuiteResult[] = [];
  let failed = false;
  for (const suite of selected) {
    const ctx: SuiteContext = { duration: options.duration, root: packageRoot(), log, ...(kvm.usable && { kvmArch: kvm.arch }), ...(kvmSkip && { kvmSkip }) };
    if (needsKvm[suite] && !kvm.usable) {
      log(`${suite}: skipped: ${kvmSkip}`);
      suites.push({ suite, status: 'skipped', reason: kvmSkip!, seconds: 0, rows: [], notes: [] });
      continue;
    }
    log(`${suite}: starting`);
    const started = performance.now();
    try {
      const result = await run[suite](ctx);
      suites.push(result);
      log(`${suite}: ${result.status}${result.reason ? ` (${result.reason})` : ''} in ${result.seconds.toFixed(1)} s`);
    } catch (error) {
      failed = true;
      const reason = error instanceof Error ? `${error.message}` : String(error);
      log(`${suite}: FAILED: ${error instanceof Error && error.stack ? error.stack : reason}`);
      suites.push({ suite, status: 'failed', reason, seconds: (performance.now() - started) / 1000, rows: [], notes: [] });
    }
  }
  host.loadAverage.end = loadavg().map((x) => Math.round(x * 100) / 100);
  const report: BenchReport = {
    tool: 'femtovm bench',
    version: 1,
    startedAt: startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    duration: options.duration,
    host,
    method: method(host),
    suites,
  };
  if (options.json) {
    writeFileSync(options.json, `${JSON.stringify(report, null, 2)}\n`);
    log(`wrote ${options.json}`);
  }
  if (options.html) {
    writeFileSync(options.html, htmlReport(report));
    log(`wrote ${options.html}`);
  }
  process.stdout.write(options.markdown ? markdownTable(report) : terminalTable(report));
  return failed ? 1 : 0;
}
