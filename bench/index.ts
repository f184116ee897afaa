/** `femtovm bench`: runs the suites against their baselines and prints a table with ratios and goals. */
import { kvmStatus } from '../src/host/info';
import { exitsSuite, type ExitsRow } from './exits';

export interface BenchOptions {
  rounds: number;
  count: number;
  json: boolean;
}

export function runBench(options: BenchOptions): number {
  const kvm = kvmStatus();
  if (!kvm.usable || kvm.arch === undefined) {
    console.error(`femtovm bench: no usable KVM here (${kvm.code}: ${kvm.reason}); run it on real KVM in the lab: npm run lab -- --arch x86_64 femtovm bench`);
    return 1;
  }
  const where = process.env.FEMTOVM_LAB ? `the ${process.env.FEMTOVM_LAB} lab's KVM (emulated machine: only ratios mean anything)` : "the host's KVM";
  const log = options.json ? () => {} : (line: string) => console.error(line);
  log(`exits suite on ${where}, ${kvm.arch} guests, ${options.rounds} rounds of ${options.count} exits, C baseline and femtovm alternated`);
  const rows = exitsSuite(kvm.arch, { rounds: options.rounds, count: options.count, log });
  if (options.json) {
    console.log(JSON.stringify({ host: { arch: process.arch, node: process.version, kvm: where }, exits: rows }, null, 2));
  } else {
    printTable(rows);
  }
  return 0;
}

function printTable(rows: ExitsRow[]): void {
  const header = ['guest', 'femtovm loop', 'C µs/exit', 'femtovm µs/exit', 'ratio', 'goal', ''];
  const lines = rows.map((r) => [r.guest, r.variant, r.baselineUs.toFixed(3), r.femtovmUs.toFixed(3), `${r.ratio.toFixed(3)}×`, `≤ ${r.goal.toFixed(2)}×`, r.ratio <= r.goal ? 'met' : 'MISSED']);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)));
  for (const line of [header, ...lines]) console.log(line.map((cell, i) => cell.padEnd(widths[i]!)).join('  ').trimEnd());
}
