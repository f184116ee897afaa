/**
 * The wasm CPU's decode cache (native/wasm/assembly/index.ts): run() executes an instruction from
 * its decoded form only while RAM still holds the word it was decoded from. Self-modifying code
 * (every kind of guest store, the host writing RAM between runs, a reset with another image), words
 * that share a cache entry, and the UNDEFINED encodings the decoder now rejects once.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { A64Cpu, CpuExit } from '../src/workers/wasm/a64-cpu';
import { HVC0, RAM, cpuWith, exec, runToExit } from './wasm-cpu-support';

const ADD_W0_1 = 0x11000400; // add w0, w0, #1
const ADD_W0_0X100 = 0x11040000; // add w0, w0, #0x100
const MOVZ_W9_1 = 0x52800029; // movz w9, #1
const VBAR = RAM + 0x800;

/** b to `words` words from here */
const b = (words: number): number => 0x14000000 | (words & 0x3ffffff);
/** cbnz w9 / cbz w9 to `words` words from here */
const cbnzW9 = (words: number): number => 0x35000009 | ((words & 0x7ffff) << 5);
const cbzW9 = (words: number): number => 0x34000009 | ((words & 0x7ffff) << 5);

/** Runs `cpu` to its exit three ways: whole slices, one instruction per run, and odd budgets of 3. */
function everyBudget(make: () => A64Cpu, check: (cpu: A64Cpu) => void): void {
  for (const budget of [1_000_000, 1, 3]) {
    const cpu = make();
    assert.equal(runToExit(cpu, budget), CpuExit.Hvc, `budget ${budget}`);
    check(cpu);
  }
}

/**
 * The guest executes `add w0, w0, #1` at RAM offset 0, then `patch`, which rewrites it (and maybe
 * the cbnz after it, into `b +4`: straight to the hvc), and branches back to it: x0 ends as `x0`.
 */
function patchedAfterExecution(patch: readonly number[], regs: Record<string, bigint>, x0 = 0x101n): void {
  const k = patch.length;
  const code = [
    ADD_W0_1, // 0: patched
    cbnzW9(3 + k), // 4: the second time round: to the hvc
    MOVZ_W9_1, // 8
    ...patch, // 12
    b(-(3 + k)), // back to 0
    HVC0,
  ];
  everyBudget(() => cpuWith(code, { x2: BigInt(RAM), ...regs }), (cpu) => {
    assert.equal(cpu.getReg('x0'), x0, 'the old instruction once, then the new one');
  });
}

test('a guest STR over an instruction it executed: the new one runs', () => {
  patchedAfterExecution([0xb9000041 /* str w1, [x2] */], { x1: BigInt(ADD_W0_0X100) });
});

test('a guest STP over two executed instructions: both new ones run', () => {
  // stp w1, w3, [x2]: the add, and a b over the cbnz straight to the hvc
  patchedAfterExecution([0x29000c41], { x1: BigInt(ADD_W0_0X100), x3: BigInt(b(4)) });
});

test('STUR, STRB, STP of an X pair, STXR: every store form invalidates', () => {
  patchedAfterExecution([0xb8000041 /* stur w1, [x2] */], { x1: BigInt(ADD_W0_0X100) });
  // strb w1, [x2, #2]: 0x11000400 (add w0, w0, #1) becomes 0x11040400 (add w0, w0, #0x101)
  patchedAfterExecution([0x39000841], { x1: 0x04n }, 0x102n);
  // stp x1, x3, [x2]: four words, the last two the same as before
  const words = (lo: number, hi: number): bigint => (BigInt(hi) << 32n) | BigInt(lo);
  patchedAfterExecution([0xa9000c41], { x1: words(ADD_W0_0X100, b(4)), x3: words(MOVZ_W9_1, 0xa9000c41) });
  // ldxr w4, [x2]; stxr w5, w1, [x2]
  patchedAfterExecution([0x885f7c44, 0x88057c41], { x1: BigInt(ADD_W0_0X100) });
});

test('a guest store to the word right after it: the next instruction is the new one', () => {
  const code = [
    cbzW9(2), // 0: the first time round, skip the store
    0xb9000041, // 4: str w1, [x2]: the next word
    ADD_W0_1, // 8: patched
    cbnzW9(3), // 12: the second time round: to the hvc
    MOVZ_W9_1, // 16
    b(-4), // 20: to the store
    HVC0, // 24
  ];
  everyBudget(() => cpuWith(code, { x1: BigInt(ADD_W0_0X100), x2: BigInt(RAM + 8) }), (cpu) => {
    assert.equal(cpu.getReg('x0'), 0x101n);
    assert.equal(cpu.instret, 9);
  });
});

test('the host writes RAM between runs: the next run executes what it wrote', () => {
  const cpu = cpuWith([ADD_W0_1, HVC0]);
  assert.equal(runToExit(cpu), CpuExit.Hvc);
  assert.equal(cpu.getReg('x0'), 1n);
  new DataView(cpu.ram.buffer, cpu.ram.byteOffset).setUint32(0, ADD_W0_0X100, true);
  cpu.setReg('pc', BigInt(RAM));
  assert.equal(runToExit(cpu), CpuExit.Hvc);
  assert.equal(cpu.getReg('x0'), 0x101n);
  // And at an MMIO exit, in the middle of a loop: the add before the store is rewritten.
  const mmio = cpuWith([ADD_W0_1, 0xb9000041 /* str w1, [x2] */, b(-2)], { x2: 0x1000n });
  assert.equal(mmio.run(100), CpuExit.Mmio);
  assert.equal(mmio.getReg('x0'), 1n);
  new DataView(mmio.ram.buffer, mmio.ram.byteOffset).setUint32(0, ADD_W0_0X100, true);
  assert.equal(mmio.run(100), CpuExit.Mmio);
  assert.equal(mmio.getReg('x0'), 0x101n);
});

test('a reset between runs, another image of the same size or of another: each runs its own', () => {
  const cpu = cpuWith([0x52800020 /* movz w0, #1 */, HVC0]);
  assert.equal(runToExit(cpu), CpuExit.Hvc);
  assert.equal(cpu.getReg('x0'), 1n);
  for (const [size, imm] of [[0x10000, 2], [0x20000, 3], [0x10000, 4]] as const) {
    cpu.reset(RAM, size);
    const ram = new DataView(cpu.ram.buffer, cpu.ram.byteOffset);
    ram.setUint32(0, 0x52800000 | (imm << 5), true); // movz w0, #imm
    ram.setUint32(4, HVC0, true);
    assert.equal(runToExit(cpu), CpuExit.Hvc);
    assert.equal(cpu.getReg('x0'), BigInt(imm), `RAM of ${size} bytes`);
  }
  // restoreState resets too: a snapshot taken before the code changed runs the old code.
  const state = cpu.saveState(), ram = cpu.ram.slice();
  new DataView(cpu.ram.buffer, cpu.ram.byteOffset).setUint32(0, 0x528000a0 /* movz w0, #5 */, true);
  cpu.restoreState(state, ram);
  cpu.setReg('pc', BigInt(RAM));
  assert.equal(runToExit(cpu), CpuExit.Hvc);
  assert.equal(cpu.getReg('x0'), 4n);
});

test('words 32 KiB apart share a cache entry: both run right, in turn', () => {
  // 0: add w0, w0, #1; b 0x8000 | 0x8000: add w0, w0, #0x100; subs w9, w9, #1; b.ne 0; hvc
  const cpu = cpuWith({
    0: [ADD_W0_1, b(0x2000 - 1)],
    0x8000: [ADD_W0_0X100, 0x71000529 /* subs w9, w9, #1 */, 0x54000001 | ((-0x2002 & 0x7ffff) << 5) /* b.ne 0 */, HVC0],
  }, { x9: 3n });
  assert.equal(runToExit(cpu), CpuExit.Hvc);
  assert.equal(cpu.getReg('x0'), 0x303n);
  // One word at both addresses: its PC-relative results are each address's own.
  const adr = 0x10000043; // adr x3, .+8
  const same = cpuWith({ 0: [adr, 0xaa0303e4 /* mov x4, x3 */, b(0x2000 - 2)], 0x8000: [adr, HVC0] });
  assert.equal(runToExit(same), CpuExit.Hvc);
  assert.equal(same.getReg('x4'), BigInt(RAM + 8));
  assert.equal(same.getReg('x3'), BigInt(RAM + 0x8008));
});

test('encodings the decoder rejects as UNDEFINED, hot class by hot class', () => {
  const undefinedEncodings = [
    0x12400020, // and w0, w1, #imm with N = 1
    0x9240fc20, // and x0, x1, #imm: an all-ones element (reserved)
    0x0b028020, // add w0, w1, w2, lsl #32
    0x2a028020, // orr w0, w1, w2, lsl #32
    0x32800000, // move wide with opc = 01
    0x52c00000, // movz w0, #0, lsl #32
    0x68400440, // ldpsw x0, x1, [x2] with the no-allocate index
    0x54000010, // bc.eq (Armv8.8)
  ];
  for (const insn of undefinedEncodings) {
    everyBudget(() => cpuWith({ 0: [insn], 0xa00: [HVC0] }, { vbar_el1: BigInt(VBAR), x2: BigInt(RAM + 0x4000) }), (cpu) => {
      assert.equal(cpu.getReg('esr_el1'), 0x200_0000n, `0x${insn.toString(16)}: EC 0, IL`);
      assert.equal(cpu.getReg('elr_el1'), BigInt(RAM));
    });
  }
  // Their valid neighbours still run: the W form of that AND with N = 0, and a shift of 31.
  assert.equal(exec([0x12000020 /* and w0, w1, #1 */], { x1: 0xffn }).getReg('x0'), 1n);
  assert.equal(exec([0x0b027c20 /* add w0, w1, w2, lsl #31 */], { x1: 1n, x2: 1n }).getReg('x0'), 0x8000_0001n);
});
