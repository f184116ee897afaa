/**
 * Parity: real KVM/arm64 as the WebAssembly CPU's second oracle. Every aarch64 guest, a fixed-seed
 * batch of random programs, exceptions through the guest's own vector table, and the edge cases must
 * give the same events, outcomes, errors and registers on both backends. Runs where the host's KVM
 * runs aarch64 guests: in the arm64 lab (`npm run test:parity`).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';

import { createVm, GuestError, VmPool, type BackendKind, type JitMode, type PooledVmOptions, type VmEvent } from '../src/index';
import { firstDifference } from './cpu-diff/diff';
import { generateCase, type ClassMix, type TestCase } from './cpu-diff/gen';
import { LAYOUT } from './cpu-diff/layout';
import type { CaseResult } from './cpu-diff/oracle';
import { guest, kvmSkipReason, testPool } from './support';

const arch = 'aarch64';
const RANDOM_SEED = 0x5eed;
const RANDOM_CASES = Number(process.env.FEMTOVM_PARITY_CASES ?? 1000);
/**
 * The random programs' mixes: integer code from the reset state (MMU off), and the FP/SIMD classes
 * compiled C uses from the start state compiled code runs in (MMU on: Normal memory, FP enabled).
 */
const RANDOM_MIXES: { mix: ClassMix; cases: number; start: 'mmu-off' | 'mmu-on' }[] = [
  { mix: 'integer', cases: RANDOM_CASES, start: 'mmu-off' },
  { mix: 'fp', cases: Math.ceil(RANDOM_CASES / 5), start: 'mmu-on' },
  { mix: 'simd', cases: Math.ceil(RANDOM_CASES / 5), start: 'mmu-on' },
];

/** What one guest run gives, minus what legitimately differs (time stamps, duration). */
interface Trace {
  outcome: string;
  error?: string;
  output: string;
  events: Omit<VmEvent, 'timeNs'>[];
  registers: Record<string, bigint>;
}

interface GuestCase {
  image: string;
  options?: PooledVmOptions;
  registers?: Record<string, bigint>;
  /** A device at 0x900 on the VM's thread: reads answer from this text, then 0; writes are dropped. */
  input?: string;
  timeoutMs?: number;
  stopOnByte?: number;
  /** MMIO 0x900 (8 bytes) coalesced, its writes dropped; 0x908 (4 bytes) reads 7. */
  coalesced?: boolean;
}

const guestCases: GuestCase[] = [
  { image: 'hello.bin' },
  { image: 'hello.elf' },
  { image: 'seed-hello.bin', stopOnByte: 0x0a },
  { image: 'regs.bin', registers: { x0: 0x1234_5678_9abc_def0n, x1: 0x1111n } },
  { image: 'mmio-loop.bin', registers: { x0: 50n }, options: { unhandled: 'ignore' } },
  { image: 'mmio-echo.bin', input: 'parity\n' },
  { image: 'mmio-sizes.bin', input: '\x7f\xff\xff\x12\x34\x56\x78\xfe' },
  { image: 'exceptions.bin', options: { unhandled: 'ignore' } },
  { image: 'spin.bin', timeoutMs: 300 },
  { image: 'wfi.bin', timeoutMs: 300 },
  { image: 'fault.bin' },
  // Coalesced writes: fewer than a ring holds, so no timer drain on KVM can move an exit. KVM's ring
  // holds 169 in name, but kernels whose coalesced_mmio_has_room() takes the room modulo 170 in 32-bit
  // unsigned arithmetic (the labs' 6.1) call it full once 85 writes wait unwrapped: the 86th exits
  // unless the 10 ms drain came first (CI tally, series 3, run 7).
  { image: 'hello.bin', options: { coalescedConsole: true } },
  { image: 'mmio-loop.bin', registers: { x0: 80n }, coalesced: true },
  { image: 'coalesced-order.bin', registers: { x0: 0n }, coalesced: true },
  { image: 'coalesced-order.bin', registers: { x0: 2n }, coalesced: true },
];

/**
 * Registers compared after each run. ESR/FAR/ELR/SPSR_EL1 reset to UNKNOWN values on KVM, so they are
 * compared where they mean something: the exceptions guest stores them, and its events are compared.
 */
const compared = [...Array.from({ length: 31 }, (_, i) => `x${i}`), 'sp', 'pc', 'pstate', 'vbar_el1'];

/** A worker-tier device answering reads with the bytes of `text` (options), then zeros. */
const inputDevice = join(mkdtempSync(join(tmpdir(), 'femtovm-parity-')), 'input-device.js');
writeFileSync(inputDevice, 'module.exports = (text) => { const b = Buffer.from(text, "latin1"); let i = 0; return { read: (_o, d) => { for (let k = 0; k < d.length; k++) d[k] = b[i++] ?? 0; } }; };\n');

async function trace(pool: VmPool, backend: BackendKind, c: GuestCase, jit: JitMode = 'off'): Promise<Trace> {
  const vm = await pool.createVm({ arch, backend, events: true, ...c.options, jit });
  const events = (async () => {
    const all: Omit<VmEvent, 'timeNs'>[] = [];
    for await (const batch of vm.events()) for (const { timeNs: _t, ...e } of batch) all.push(e);
    return all;
  })();
  let outcome: string;
  let error: string | undefined;
  let output = '';
  try {
    await vm.load(guest(arch, c.image));
    for (const [name, value] of Object.entries(c.registers ?? {})) await vm.setRegister(name, value);
    if (c.input !== undefined) await vm.addDeviceModule({ kind: 'mmio', base: 0x900, size: 16 }, inputDevice, c.input);
    if (c.coalesced) {
      await vm.addNativeDevice({ kind: 'mmio', base: 0x900, size: 8 }, { type: 'constant', value: 0 }, { coalesced: true });
      await vm.addNativeDevice({ kind: 'mmio', base: 0x908, size: 4 }, { type: 'constant', value: 7 });
    }
    const r = await vm.run({ timeoutMs: c.timeoutMs ?? 60_000, ...(c.stopOnByte !== undefined && { stopOnByte: c.stopOnByte }) });
    outcome = r.outcome;
    output = r.output.toString('latin1');
  } catch (e) {
    assert.ok(e instanceof GuestError, String(e));
    outcome = 'error';
    error = e.code;
    output = e.output.toString('latin1');
  }
  const all = await vm.registers();
  await vm.close();
  const registers = Object.fromEntries(compared.map((n) => [n, all[n]!]));
  return { outcome, ...(error !== undefined && { error }), output, events: await events, registers };
}

/** The first difference between two traces, described for a reader. */
function difference(kvm: Trace, wasm: Trace): string | undefined {
  for (const key of ['outcome', 'error', 'output'] as const) {
    if (kvm[key] !== wasm[key]) return `${key}: kvm ${JSON.stringify(kvm[key])}, wasm ${JSON.stringify(wasm[key])}`;
  }
  const n = Math.max(kvm.events.length, wasm.events.length);
  for (let i = 0; i < n; i++) {
    const a = JSON.stringify(kvm.events[i], (_, v) => (typeof v === 'bigint' ? `0x${v.toString(16)}` : v));
    const b = JSON.stringify(wasm.events[i], (_, v) => (typeof v === 'bigint' ? `0x${v.toString(16)}` : v));
    if (a !== b) return `event ${i}: kvm ${a}, wasm ${b}`;
  }
  for (const name of compared) {
    if (kvm.registers[name] !== wasm.registers[name]) return `${name}: kvm 0x${kvm.registers[name]?.toString(16)}, wasm 0x${wasm.registers[name]?.toString(16)}`;
  }
  return undefined;
}

// The random program's epilogue: every register, SP and NZCV to MMIO 0x900 (8 bytes each), then
// PSCI SYSTEM_OFF (which overwrites x0-x3, hence the stores first).
const MSR_TPIDR_EL1_X0 = 0xd518d080;
const MOV_X0_0x900 = 0xd2812000;
const STR_X_AT_X0 = (r: number) => (0xf9000000 | r) >>> 0;
const MRS_X1_TPIDR_EL1 = 0xd538d081;
const MOV_X1_SP = 0x910003e1;
const MRS_X1_NZCV = 0xd53b4201;
const SYSTEM_OFF = [0xd2800100, 0xf2b08000, 0xd4000002];

/** The words of a random case's guest, run from LAYOUT.region + 4 as in the QEMU harness. */
function caseImage(c: TestCase): Uint32Array {
  const LOAD_X30 = (0x58000000 | ((LAYOUT.literals / 4) << 5) | 30) >>> 0;
  const words = [LOAD_X30, ...c.code];
  // x0 is kept in TPIDR_EL1; x1..x30, x0, SP, NZCV go out (none of these instructions sets flags).
  words.push(MSR_TPIDR_EL1_X0, MOV_X0_0x900);
  for (let r = 1; r <= 30; r++) words.push(STR_X_AT_X0(r));
  words.push(MRS_X1_TPIDR_EL1, STR_X_AT_X0(1), MOV_X1_SP, STR_X_AT_X0(1), MRS_X1_NZCV, STR_X_AT_X0(1), ...SYSTEM_OFF);
  return Uint32Array.from(words);
}

function runCase(backend: BackendKind, c: TestCase, start: 'mmu-off' | 'mmu-on', jit: JitMode = 'off'): CaseResult {
  // Integer cases run from the reset state (MMU off): they have no vector table, and with the MMU on
  // their unprivileged loads (LDTR) fault into it. FP/SIMD cases have no LDTR; they need FP enabled
  // and Normal memory (unaligned accesses), which is the start state compiled code runs in.
  const vm = createVm({ arch, backend, arm64Start: start, regions: [{ guestAddr: LAYOUT.region, size: LAYOUT.regionSize }], jit });
  try {
    const stored: bigint[] = [];
    vm.addDevice({ kind: 'mmio', base: 0x900, size: 8 }, { write: (_o, d) => void stored.push(Buffer.from(d).readBigUInt64LE(0)) });
    const image = caseImage(c);
    vm.writeMemory(LAYOUT.region, new Uint8Array(image.buffer));
    const literal = new Uint8Array(8);
    new DataView(literal.buffer).setBigUint64(0, c.x[30]!, true);
    vm.writeMemory(LAYOUT.region + LAYOUT.literals, literal);
    vm.writeMemory(LAYOUT.region + LAYOUT.scratch, c.scratch);
    c.x.forEach((v, i) => vm.setRegister(`x${i}`, v));
    c.v.forEach((q, i) => vm.setRegister(`v${i}`, q));
    vm.setRegister('fpcr', c.fpcr);
    vm.setRegister('fpsr', c.fpsr);
    vm.setRegister('sp', c.sp);
    vm.setRegister('pstate', BigInt(c.nzcv >>> 0) | 0x3c5n);
    vm.setRegister('pc', LAYOUT.region + 4);
    const r = vm.run({ timeoutMs: 30_000 });
    const ok = r.outcome === 'system-off' && stored.length === 33;
    const x = [stored[30]!, ...stored.slice(0, 30)];
    const v = Array.from({ length: 32 }, (_, i) => vm.getRegister(`v${i}`));
    return { status: ok ? 0 : 1, x, sp: stored[31]!, nzcv: Number(stored[32]! & 0xf0000000n), v, fpcr: vm.getRegister('fpcr'), fpsr: vm.getRegister('fpsr'), scratch: vm.readMemory(LAYOUT.region + LAYOUT.scratch, LAYOUT.scratchSize) };
  } catch (e) {
    return { status: 2, x: [String(e)] as never, sp: 0n, nzcv: 0, v: [], fpcr: 0n, fpsr: 0n, scratch: new Uint8Array(0) };
  } finally {
    vm.close();
  }
}

/** The value a CaseResult has where firstDifference found a difference. */
function shown(r: CaseResult, first: string): string {
  const value = first.startsWith('x') ? r.x[Number(first.slice(1))] : first.startsWith('v') ? r.v[Number(first.slice(1))] : first === 'sp' ? r.sp : first === 'nzcv' ? r.nzcv : first === 'fpcr' ? r.fpcr : first === 'fpsr' ? r.fpsr : r.status;
  return typeof value === 'bigint' ? `0x${value.toString(16)}` : String(value);
}

/** The WebAssembly CPU interpreting, and with every block translated to WebAssembly at first execution. */
const JIT_PARITY: readonly JitMode[] = ['off', 'on'];

describe('parity: KVM/arm64 and the WebAssembly CPU', { skip: kvmSkipReason(arch) }, () => {
  test('every aarch64 guest: same events, outcome, output and registers', async () => {
    const pool = testPool({ maxThreads: 1 });
    try {
      for (const c of guestCases) {
        const kvm = await trace(pool, 'kvm', c);
        for (const jit of JIT_PARITY) {
          const wasm = await trace(pool, 'wasm', c, jit);
          const diff = difference(kvm, wasm);
          assert.equal(diff, undefined, `${c.image} (jit ${jit}): ${diff}`);
        }
        console.log(`# parity ${c.image}: ${kvm.outcome}${kvm.error ? ` ${kvm.error}` : ''}, ${kvm.events.length} events equal`);
      }
    } finally {
      await pool.close();
    }
  });

  for (const { mix, cases, start } of RANDOM_MIXES) {
    test(`${cases} random ${mix} programs (seed 0x${RANDOM_SEED.toString(16)}, ${start}): same registers, flags, FP/SIMD state and memory`, () => {
      let mismatches = 0;
      let completed = 0;
      for (let i = 0; i < cases; i++) {
        const c = generateCase(RANDOM_SEED, i, mix);
        const kvm = runCase('kvm', c, start);
        if (kvm.status === 0) completed++;
        for (const jit of JIT_PARITY) {
          const wasm = runCase('wasm', c, start, jit);
          const first = firstDifference(kvm, wasm);
          if (first === undefined) continue;
          mismatches++;
          if (mismatches <= 3) console.log(`# mismatch in ${mix} case ${i} (jit ${jit}): ${first}: kvm ${shown(kvm, first)}, wasm ${shown(wasm, first)}; code ${c.code.map((w) => w.toString(16).padStart(8, '0')).join(' ')}`);
        }
      }
      console.log(`# parity random ${mix}: ${cases} cases, the wasm CPU interpreting and translating: ${mismatches} mismatches; ${completed} ran to their end on KVM`);
      assert.equal(mismatches, 0);
      // most programs must run to their end, or the comparison says little
      assert.ok(completed >= cases * 0.9, `only ${completed} of ${cases} ${mix} programs ran to their end on KVM`);
    });
  }
});
