/**
 * The cpu suite: guest instructions per second of the WebAssembly A64 CPU (src/workers/wasm/a64-cpu.ts)
 * on compute guests that make no exit until they end (guests/aarch64/cpu-*.S: a countdown, a
 * load/store loop, an insertion sort, recursive calls), against QEMU's TCG (`qemu-aarch64`, Debian
 * qemu-user) running the very same code bytes as a static Linux ELF. Rounds alternate wasm and QEMU.
 *
 * Beside them, the compiled-C row: C kernels built by guests/build.sh with gcc -O2 (guests/sdk/bench/:
 * integer, branchy, memory, floating point), run on the wasm CPU in the arm64 start state compiled code
 * gets (MMU on, RAM Normal, FP/SIMD enabled) and by QEMU from the same bytes.
 *
 * The ELF is made here: a 5-instruction harness (x0 = N, bl guest, exit(x9)) followed by the guest's
 * bytes with its final `hvc #0` replaced by `ret`; the guests are position-independent and use only
 * RAM past their image (zeroed bss in the ELF). QEMU's rate is differential, (I(kN) − I(0)) /
 * (t(kN) − t(0)), so process start and translation cancel; I comes from the wasm CPU's instret (the
 * same instructions), and the exit status (x9 & 0xff) is checked against the wasm CPU's x9.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { createVm } from '../src/workers/vm';
import { A64Cpu, CpuExit } from '../src/workers/wasm/a64-cpu';
import { arm64StartState } from '../src/shared/arm64-start';
import { ramLayout } from '../src/shared/platform';
import { pairRatios, summarize } from '../src/shared/stats';
import { commandVersion } from './host';
import { clamp, judge, type Row, type SuiteContext, type SuiteResult } from './types';

const RAM_BASE = 0x10000;
const RAM_SIZE = 1 << 20;
const SLICE = 1_000_000; // V8 tiers up a wasm function only between calls: run in slices
const PSCI_SYSTEM_OFF = 0x84000008n;
const HVC0 = 0xd4000002;
const RET = 0xd65f03c0;

interface Kernel {
  /** The guest image under guests/, and the row id's last part. */
  guest: string;
  name: string;
  /** Compiled C: runs in the start state for compiled code (the hand-written guests run in the reset state). */
  compiled?: boolean;
  /** N for a quick calibration run. */
  probe: number;
}

const kernels: Kernel[] = [
  { guest: 'cpu-countdown', name: 'countdown (subs, b.ne)', probe: 1_000_000 },
  { guest: 'cpu-loadstore', name: 'load/store loop', probe: 300_000 },
  { guest: 'cpu-sort', name: 'insertion sort (branchy)', probe: 100 },
  { guest: 'cpu-calls', name: 'recursive calls (stp/ldp frames, post-index loads)', probe: 2_000 },
  { guest: 'sdk/bench/integer', name: 'compiled C: integer (LCG, xorshift, multiply, rotate)', probe: 100_000, compiled: true },
  { guest: 'sdk/bench/branchy', name: 'compiled C: branchy (Collatz, switch)', probe: 300, compiled: true },
  { guest: 'sdk/bench/memory', name: 'compiled C: memory (table walk, unaligned copies)', probe: 300, compiled: true },
  { guest: 'sdk/bench/fp', name: 'compiled C: floating point (Mandelbrot, float dot)', probe: 30, compiled: true },
];

/** The EL1 registers of the start state compiled code gets (MMU on with RAM Normal, FP/SIMD on). */
const compiledStart = arm64StartState(ramLayout('aarch64', RAM_SIZE, 'real'), 'mmu-on').registers;

/** The wasm CPU stopped at an instruction it does not implement: the kernel's row says which. */
class UnsupportedInstruction extends Error {}

/** A static aarch64 Linux ELF: harness + guest bytes (hvc #0 → ret) + 1 MiB of zeroed bss. */
export function harnessElf(guest: Uint8Array, n: number): Buffer {
  const BASE = 0x400000;
  const CODE = 0x80;
  const code = Buffer.alloc(0x20 + guest.length);
  [0x580000c0, 0x94000007, 0xaa0903e0, 0xd2800ba8, 0xd4000001, 0xd503201f].forEach((w, i) => code.writeUInt32LE(w, i * 4)); // ldr x0, N; bl guest; mov x0, x9; mov x8, #93; svc #0; nop
  code.writeBigUInt64LE(BigInt(n), 0x18);
  Buffer.from(guest).copy(code, 0x20);
  for (let off = 0x20; off + 4 <= code.length; off += 4) if (code.readUInt32LE(off) === HVC0) code.writeUInt32LE(RET, off);
  const file = Buffer.alloc(CODE + code.length);
  file.write('\x7fELF', 0, 'latin1');
  file[4] = 2; // ELFCLASS64
  file[5] = 1; // little-endian
  file[6] = 1; // EV_CURRENT
  file.writeUInt16LE(2, 16); // ET_EXEC
  file.writeUInt16LE(183, 18); // EM_AARCH64
  file.writeUInt32LE(1, 20);
  file.writeBigUInt64LE(BigInt(BASE + CODE), 24); // e_entry
  file.writeBigUInt64LE(64n, 32); // e_phoff
  file.writeUInt16LE(64, 52); // e_ehsize
  file.writeUInt16LE(56, 54); // e_phentsize
  file.writeUInt16LE(1, 56); // e_phnum
  file.writeUInt32LE(1, 64); // PT_LOAD
  file.writeUInt32LE(7, 68); // RWX
  file.writeBigUInt64LE(0n, 72); // p_offset
  file.writeBigUInt64LE(BigInt(BASE), 80); // p_vaddr
  file.writeBigUInt64LE(BigInt(BASE), 88); // p_paddr
  file.writeBigUInt64LE(BigInt(file.length), 96); // p_filesz
  file.writeBigUInt64LE(BigInt(file.length + (1 << 20)), 104); // p_memsz
  file.writeBigUInt64LE(0x1000n, 112); // p_align
  code.copy(file, CODE);
  return file;
}

interface WasmRun {
  instret: number;
  seconds: number;
  x9: bigint;
}

function runWasm(cpu: A64Cpu, guest: Uint8Array, n: number, compiled = false): WasmRun {
  cpu.reset(RAM_BASE, RAM_SIZE);
  cpu.ram.set(guest);
  if (compiled) for (const [name, value] of compiledStart) cpu.setReg(name, value);
  cpu.setReg('x0', BigInt(n));
  const t0 = performance.now();
  let exit: CpuExit;
  while ((exit = cpu.run(SLICE)) === CpuExit.SliceEnd);
  const seconds = (performance.now() - t0) / 1000;
  if (exit === CpuExit.Unsupported) throw new UnsupportedInstruction(`the wasm CPU does not implement instruction 0x${cpu.faultInsn.toString(16).padStart(8, '0')} (at +0x${(cpu.faultPc - RAM_BASE).toString(16)})`);
  if (exit !== CpuExit.Hvc || cpu.getReg('x0') !== PSCI_SYSTEM_OFF) throw new Error(`the guest ended with exit ${exit}, x0 0x${cpu.getReg('x0').toString(16)}, not PSCI SYSTEM_OFF`);
  return { instret: cpu.instret, seconds, x9: cpu.getReg('x9') };
}

/** Runs an ELF under qemu-aarch64: wall seconds and exit status. */
function runQemu(elf: string): { seconds: number; status: number } {
  const t0 = performance.now();
  const r = spawnSync('qemu-aarch64', [elf], { stdio: 'ignore' });
  const seconds = (performance.now() - t0) / 1000;
  if (r.status === null) throw new Error(`qemu-aarch64 ${elf}: ${r.error?.message ?? `signal ${r.signal}`}`);
  return { seconds, status: r.status };
}

/**
 * ns per MMIO exit on the wasm backend, through the VM API: guests/aarch64/mmio-loop.bin stores
 * `stores` times to 0x900, a native constant device answers, each store leaves the CPU and resumes it.
 */
function wasmMmioExitNs(root: string, stores: number): number {
  const vm = createVm({ arch: 'aarch64', backend: 'wasm' });
  try {
    vm.load(join(root, 'guests', 'aarch64', 'mmio-loop.bin'));
    vm.addNativeDevice({ kind: 'mmio', base: 0x900, size: 4 }, { type: 'constant', value: 0 });
    vm.setRegister('x0', stores);
    const t0 = performance.now();
    const r = vm.run();
    const ns = (performance.now() - t0) * 1e6;
    if (r.outcome !== 'system-off' || r.exits < stores) throw new Error(`mmio-loop ended ${r.outcome} after ${r.exits} exits`);
    return ns / r.exits;
  } finally {
    vm.close();
  }
}

export async function cpuSuite(ctx: SuiteContext): Promise<SuiteResult> {
  const started = performance.now();
  let cpu: A64Cpu;
  let jitCpu: A64Cpu; // the same CPU with the translator of hot code to WebAssembly ('auto')
  try {
    cpu = new A64Cpu({ ramBase: RAM_BASE, ramSize: RAM_SIZE });
    jitCpu = new A64Cpu({ ramBase: RAM_BASE, ramSize: RAM_SIZE, jit: { mode: 'auto' } });
  } catch (error) {
    const reason = `the wasm A64 CPU cannot load: ${error instanceof Error ? error.message : String(error)}`;
    return { suite: 'cpu', status: 'skipped', reason, seconds: 0, rows: [], notes: [] };
  }
  const qemu = commandVersion('qemu-aarch64', ['--version']);
  const notes: string[] = [
    'MIPS: guest instructions retired (the wasm CPU\'s instret) per second of run() calls in slices of 1e6 instructions, on the main thread. Ratio: wasm / QEMU per round, median over rounds.',
    'Translator rows (…/jit): the same CPU with jit \'auto\' (hot code translated to WebAssembly), reset before each run so every round translates and compiles afresh; measured in the same rounds as the interpreter and QEMU. extra.vsInterpreter: translator / interpreter, median of the per-round ratios.',
  ];
  if (qemu === undefined) notes.push('qemu-aarch64 is not installed (Debian package qemu-user): no QEMU baseline, wasm figures only.');
  else notes.push(`QEMU baseline: ${qemu} (TCG, user mode), same code as a static ELF, rate from runs of k·N and 0 iterations (k sized so that QEMU's run lasts about as long as the wasm one).`);
  const runSeconds = clamp(ctx.duration / 40, 0.03, 0.4);
  const perRound = runSeconds * (qemu ? 2 : 1);
  const rounds = Math.round(clamp((0.8 * ctx.duration) / (kernels.length * perRound), 3, 15));
  const dir = mkdtempSync(join(tmpdir(), 'femtovm-bench-cpu-'));
  const rows: Row[] = [];
  try {
    for (const kernel of kernels) {
      const file = kernel.compiled ? `${kernel.guest}.bin` : join('aarch64', `${kernel.guest}.bin`);
      const guest = new Uint8Array(readFileSync(join(ctx.root, 'guests', file)));
      const id = `cpu/${kernel.guest.replace('sdk/bench/', 'c-')}`;
      const wasmRun = (n: number) => runWasm(cpu, guest, n, kernel.compiled);
      const jitRun = (n: number) => runWasm(jitCpu, guest, n, kernel.compiled);
      // Calibration (and JIT warm-up): instructions per unit of N, and the rate.
      try {
        wasmRun(kernel.probe);
      } catch (error) {
        if (!(error instanceof UnsupportedInstruction)) throw error;
        ctx.log(`cpu ${kernel.guest}: skipped, ${error.message}`);
        rows.push({ id, name: `wasm A64 CPU · ${kernel.name}`, unit: 'MIPS', skipped: error.message });
        continue;
      }
      const zero = wasmRun(0);
      const probe = wasmRun(kernel.probe);
      const perN = (probe.instret - zero.instret) / kernel.probe;
      const n = Math.max(1, Math.round((runSeconds * (probe.instret / probe.seconds)) / perN));
      jitRun(kernel.probe); // warm-up: V8 compiles the translator's own code
      const wasm: number[] = [];
      const jit: number[] = [];
      const base: number[] = [];
      let elfKn: string | undefined;
      let elf0: string | undefined;
      let k = 4; // QEMU runs k·N iterations
      if (qemu) {
        const stem = kernel.guest.replace(/\//g, '-');
        const check = join(dir, `${stem}-check.elf`);
        writeFileSync(check, harnessElf(guest, kernel.probe), { mode: 0o755 });
        const status = runQemu(check).status;
        if (status !== Number(probe.x9 & 0xffn)) throw new Error(`${kernel.guest}: qemu-aarch64 exit status ${status}, the wasm CPU's x9 & 0xff is ${probe.x9 & 0xffn}`);
        // QEMU is faster: give it k·N iterations so that its run, too, lasts about runSeconds.
        elf0 = join(dir, `${stem}-0.elf`);
        writeFileSync(elf0, harnessElf(guest, 0), { mode: 0o755 });
        const elf4n = join(dir, `${stem}-4n.elf`);
        writeFileSync(elf4n, harnessElf(guest, 4 * n), { mode: 0o755 });
        runQemu(elf0);
        const t4n = runQemu(elf4n).seconds - runQemu(elf0).seconds;
        k = Math.round(clamp((4 * runSeconds) / Math.max(t4n, 1e-3), 4, 64));
        elfKn = join(dir, `${stem}-kn.elf`);
        writeFileSync(elfKn, harnessElf(guest, k * n), { mode: 0o755 });
      }
      let dropped = 0;
      for (let round = 0; round < rounds; round++) {
        const w = wasmRun(n);
        const j = jitRun(n);
        if (j.instret !== w.instret || j.x9 !== w.x9) throw new Error(`${kernel.guest}: the translator retired ${j.instret} instructions (x9 ${j.x9}), the interpreter ${w.instret} (x9 ${w.x9})`);
        if (elfKn && elf0) {
          // On a busy host QEMU's start-up can vary by more than k·N iterations take: a pair where the
          // longer run did not take longer measures nothing, so it is timed again, and the round is
          // dropped (both sides, keeping the pairs) if it never does.
          let dt = 0;
          for (let tries = 0; dt <= 0 && tries < 3; tries++) dt = runQemu(elfKn).seconds - runQemu(elf0).seconds;
          if (dt <= 0) {
            dropped++;
            continue;
          }
          base.push((k * (w.instret - zero.instret)) / dt / 1e6);
        }
        wasm.push(w.instret / w.seconds / 1e6);
        jit.push(j.instret / j.seconds / 1e6);
      }
      if (dropped > 0) notes.push(`${kernel.guest}: ${dropped} of ${rounds} rounds dropped: QEMU's k·N run never took longer than its empty run (a busy host)`);
      if (wasm.length === 0) throw new Error(`${kernel.guest}: every round dropped: QEMU could not be timed on this host`);
      const ws = summarize(wasm);
      const bs = base.length ? summarize(base) : undefined;
      const ratios = bs ? summarize(pairRatios(wasm, base)) : undefined;
      const js = summarize(jit);
      const jitRatios = bs ? summarize(pairRatios(jit, base)) : undefined;
      const vsInterpreter = summarize(pairRatios(jit, wasm));
      ctx.log(`cpu ${kernel.guest}: ${rounds} rounds of ${n} (${((n * perN) / 1e6).toFixed(0)} M instructions), wasm ${ws.p50.toFixed(0)} MIPS, translated ${js.p50.toFixed(0)} MIPS (${vsInterpreter.p50.toFixed(2)}×)${bs ? `, qemu ${bs.p50.toFixed(0)} MIPS` : ''}`);
      rows.push(
        judge({
          id,
          name: `wasm A64 CPU · ${kernel.name}`,
          unit: 'MIPS',
          value: ws.p50,
          stat: `median of ${wasm.length} rounds × ${((n * perN) / 1e6).toFixed(0)} M instructions`,
          ...(bs
            ? { baselineName: 'qemu-aarch64 (TCG)', baselineValue: bs.p50, ratio: ratios!.p50 }
            : { note: 'no QEMU baseline and no ratio: qemu-aarch64 is not installed (apt-get install qemu-user)' }),
          rounds: { femtovm: ws, ...(bs && { baseline: bs, ratio: ratios! }) },
          extra: { instructionsPerIteration: perN, iterations: n },
        }),
        judge({
          id: `${id}/jit`,
          name: `wasm A64 CPU, hot code translated to WebAssembly · ${kernel.name}`,
          unit: 'MIPS',
          value: js.p50,
          stat: `median of ${rounds} rounds × ${((n * perN) / 1e6).toFixed(0)} M instructions`,
          ...(bs && { baselineName: 'qemu-aarch64 (TCG)', baselineValue: bs.p50, ratio: jitRatios!.p50 }),
          rounds: { femtovm: js, ...(bs && { baseline: bs, ratio: jitRatios! }) },
          extra: { vsInterpreter: vsInterpreter.p50, interpreterMips: ws.p50 },
        }),
      );
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const stores = Math.round(clamp(runSeconds * 2e7, 10_000, 5_000_000)); // ~50 ns each
  wasmMmioExitNs(ctx.root, Math.min(stores, 100_000)); // warm-up
  const exitNs = summarize(Array.from({ length: rounds }, () => wasmMmioExitNs(ctx.root, stores)));
  ctx.log(`cpu mmio exits: ${rounds} rounds of ${stores} stores, ${exitNs.p50.toFixed(1)} ns per exit`);
  rows.push(
    judge({
      id: 'cpu/mmio-exit',
      name: 'wasm backend · MMIO exit round trip (store to a native device, guest resumed)',
      unit: 'ns/exit',
      value: exitNs.p50,
      stat: `median of ${rounds} rounds × ${stores} stores`,
      rounds: { femtovm: exitNs },
    }),
  );
  return { suite: 'cpu', status: 'ran', seconds: (performance.now() - started) / 1000, rows, notes };
}
