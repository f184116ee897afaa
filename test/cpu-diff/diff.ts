/**
 * Runs test cases on the wasm CPU, compares them with the oracle (QEMU), and describes a mismatch
 * as a minimal reproducer: the snippet with its disassembly, the inputs, and both outputs.
 */
import { A64Cpu, CpuExit } from '../../src/workers/wasm/a64-cpu';
import type { JitMode } from '../../src/workers/wasm/jit/code-cache';
import { testJitMode } from '../wasm-cpu-support';
import { LAYOUT } from './layout';
import { type ClassMix, generateCase, type TestCase } from './gen';
import { disassemble, runOracle, type CaseResult } from './oracle';

const HVC0 = 0xd4000002;
/** The harness's first word, `ldr x30, <literal>`: present in RAM so literal loads see it. */
const LOAD_X30 = (0x58000000 | ((LAYOUT.literals / 4) << 5) | 30) >>> 0;

/** Runs one case on the wasm CPU: the snippet, then HVC in place of QEMU's exit sequence. */
export function runWasm(cpu: A64Cpu, c: TestCase): CaseResult {
  const start = LAYOUT.region + 4;
  cpu.reset(LAYOUT.region, LAYOUT.regionSize, start);
  const ram = new DataView(cpu.ram.buffer, cpu.ram.byteOffset, cpu.ram.byteLength);
  ram.setUint32(0, LOAD_X30, true);
  c.code.forEach((w, i) => ram.setUint32(4 + i * 4, w, true));
  ram.setUint32(4 + c.code.length * 4, HVC0, true);
  ram.setBigUint64(LAYOUT.literals, c.x[30]!, true);
  cpu.ram.set(c.scratch, LAYOUT.scratch);
  c.x.forEach((v, i) => cpu.setReg(`x${i}`, v));
  cpu.setReg('sp', c.sp);
  cpu.setReg('nzcv', BigInt(c.nzcv >>> 0));
  cpu.setReg('cpacr_el1', 3n << 20n); // FP/SIMD enabled, as for a Linux process
  c.v.forEach((v, i) => cpu.setReg(`v${i}`, v));
  cpu.setReg('fpcr', c.fpcr);
  cpu.setReg('fpsr', c.fpsr);
  let exit: CpuExit;
  do exit = cpu.run(100_000);
  while (exit === CpuExit.SliceEnd);
  const done = exit === CpuExit.Hvc && cpu.faultPc === start + c.code.length * 4;
  return {
    status: done ? 0 : 1000 + exit, // not at the end: what stopped it instead
    x: Array.from({ length: 31 }, (_, i) => cpu.getReg(`x${i}`)),
    sp: cpu.getReg('sp'),
    nzcv: Number(cpu.getReg('nzcv')),
    v: Array.from({ length: 32 }, (_, i) => cpu.getReg(`v${i}`)),
    fpcr: cpu.getReg('fpcr'),
    fpsr: cpu.getReg('fpsr'),
    scratch: cpu.ram.slice(LAYOUT.scratch, LAYOUT.scratch + LAYOUT.scratchSize),
  };
}

/** The first difference between two results, by name, or undefined when they agree. */
export function firstDifference(want: CaseResult, got: CaseResult): string | undefined {
  if (want.status !== got.status) return 'status';
  const x = want.x.findIndex((v, i) => v !== got.x[i]);
  if (x >= 0) return `x${x}`;
  if (want.sp !== got.sp) return 'sp';
  if (want.nzcv !== got.nzcv) return 'nzcv';
  const v = want.v.findIndex((q, i) => q !== got.v[i]);
  if (v >= 0) return `v${v}`;
  if (want.fpcr !== got.fpcr) return 'fpcr';
  if (want.fpsr !== got.fpsr) return 'fpsr';
  const m = want.scratch.findIndex((b, i) => b !== got.scratch[i]);
  if (m >= 0) return `memory[0x${(LAYOUT.region + LAYOUT.scratch + m).toString(16)}]`;
  return undefined;
}

export interface Mismatch {
  seed: number;
  index: number;
  testCase: TestCase;
  qemu: CaseResult;
  wasm: CaseResult;
  first: string;
}

const hex = (v: bigint | number): string => `0x${v.toString(16)}`;

/** A reproducer for one mismatch, for a person to read. */
export function describe(m: Mismatch): string {
  const { testCase: c, qemu, wasm } = m;
  const start = LAYOUT.region + 4;
  const dis = disassemble(c.code, start);
  const lines = [`case ${m.index} of seed ${m.seed}: first difference in ${m.first}`, 'code:'];
  c.code.forEach((w, i) => lines.push(`  ${hex(start + i * 4)}: ${w.toString(16).padStart(8, '0')}  ${dis?.[i]?.split('\t').slice(2).join(' ') ?? ''}`));
  lines.push(`inputs: nzcv=${hex(c.nzcv >>> 28)} sp=${hex(c.sp)}`);
  lines.push('  ' + c.x.map((v, i) => `x${i}=${hex(v)}`).join(' '));
  lines.push(`  fpcr=${hex(c.fpcr)} fpsr=${hex(c.fpsr)}`);
  lines.push('  ' + c.v.map((v, i) => `v${i}=${hex(v)}`).join(' '));
  const differing: string[] = [];
  qemu.x.forEach((v, i) => {
    if (v !== wasm.x[i]) differing.push(`  x${i}: qemu ${hex(v)}  wasm ${hex(wasm.x[i]!)}`);
  });
  if (qemu.sp !== wasm.sp) differing.push(`  sp: qemu ${hex(qemu.sp)}  wasm ${hex(wasm.sp)}`);
  if (qemu.nzcv !== wasm.nzcv) differing.push(`  nzcv: qemu ${hex(qemu.nzcv >>> 28)}  wasm ${hex(wasm.nzcv >>> 28)}`);
  qemu.v.forEach((v, i) => {
    if (v !== wasm.v[i]) differing.push(`  v${i}: qemu ${hex(v)}  wasm ${hex(wasm.v[i]!)}`);
  });
  if (qemu.fpcr !== wasm.fpcr) differing.push(`  fpcr: qemu ${hex(qemu.fpcr)}  wasm ${hex(wasm.fpcr)}`);
  if (qemu.fpsr !== wasm.fpsr) differing.push(`  fpsr: qemu ${hex(qemu.fpsr)}  wasm ${hex(wasm.fpsr)}`);
  if (qemu.status !== wasm.status) differing.push(`  status: qemu ${qemu.status}  wasm ${wasm.status} (1000 + exit kind: did not reach the end)`);
  qemu.scratch.forEach((b, i) => {
    if (b !== wasm.scratch[i] && differing.length < 40) {
      differing.push(`  memory[${hex(LAYOUT.region + LAYOUT.scratch + i)}]: qemu ${hex(b)}  wasm ${hex(wasm.scratch[i]!)}`);
    }
  });
  lines.push('outputs that differ:', ...differing);
  return lines.join('\n');
}

export interface DiffReport {
  cases: number;
  /** cases QEMU itself could not run (a fault): not compared */
  faulted: number;
  mismatches: Mismatch[];
}

/** Generates `count` cases of `seed` from `first`, runs both sides in batches (the translator in mode `jit`), and compares. */
export function runDiff(seed: number, count: number, first = 0, mix: ClassMix = 'all', jit: JitMode = testJitMode(), batch = 5000): DiffReport {
  const cpu = new A64Cpu({ ramBase: LAYOUT.region, ramSize: LAYOUT.regionSize, jit: { mode: jit } });
  const report: DiffReport = { cases: 0, faulted: 0, mismatches: [] };
  for (let from = first; from < first + count; from += batch) {
    const n = Math.min(batch, first + count - from);
    const cases = Array.from({ length: n }, (_, i) => generateCase(seed, from + i, mix));
    const qemu = runOracle(cases);
    cases.forEach((c, i) => {
      report.cases++;
      if (qemu[i]!.status !== 0) {
        report.faulted++;
        return;
      }
      const wasm = runWasm(cpu, c);
      const diff = firstDifference(qemu[i]!, wasm);
      if (diff !== undefined) report.mismatches.push({ seed, index: from + i, testCase: c, qemu: qemu[i]!, wasm, first: diff });
    });
  }
  return report;
}
