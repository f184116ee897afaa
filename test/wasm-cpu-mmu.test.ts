// The wasm CPU in the arm64 start state for compiled code (src/shared/arm64-start.ts): RAM is Normal
// memory (unaligned accesses complete), everything else Device (they fault), addresses beyond the
// 39-bit identity map take translation faults, and an MSR that would change the translation regime
// stops the CPU (exit MMU_REGIME) instead of running on under a map it does not model.
import { test } from 'node:test';
import assert from 'node:assert/strict';

import { CpuExit, type A64Cpu } from '../src/workers/wasm/a64-cpu';
import { arm64StartState } from '../src/shared/arm64-start';
import { ramLayout } from '../src/shared/platform';
import { HVC0, RAM, cpuWith, runToExit, type Code } from './wasm-cpu-support';

const DATA = RAM + 0x8000;
const VBAR = RAM + 0x800;
const SYNC_SPX = 0xa00; // VBAR + 0x200: current EL with SP_EL1, synchronous
const start = arm64StartState(ramLayout('aarch64', 0x10000, 'real'), 'mmu-on');

/** A CPU in the MMU-on start state with `code` placed and registers set. */
function mmuOnCpu(code: Code | readonly number[], regs: Record<string, bigint> = {}): A64Cpu {
  const cpu = cpuWith(code);
  for (const [name, value] of start.registers) cpu.setReg(name, value);
  for (const [name, value] of Object.entries(regs)) cpu.setReg(name, value);
  return cpu;
}

test('the start state reads back: MMU, caches and FP/SIMD on, the identity map\'s MAIR/TCR/TTBR0', () => {
  const cpu = mmuOnCpu([
    0xd5381000, // mrs x0, sctlr_el1
    0xd5381041, // mrs x1, cpacr_el1
    0xd538a202, // mrs x2, mair_el1
    0xd5382043, // mrs x3, tcr_el1
    0xd5382004, // mrs x4, ttbr0_el1
    0xd53b00e5, // mrs x5, dczid_el0
    HVC0,
  ]);
  assert.equal(runToExit(cpu), CpuExit.Hvc);
  const expected = Object.fromEntries(start.registers);
  assert.equal(cpu.getReg('x0'), expected.sctlr_el1);
  assert.equal(cpu.getReg('x0') & 0b111n, 0b101n, 'M and C set, A clear');
  assert.equal(cpu.getReg('x1'), 3n << 20n, 'FPEN = 0b11');
  assert.equal(cpu.getReg('x2'), expected.mair_el1);
  assert.equal(cpu.getReg('x3'), expected.tcr_el1);
  assert.equal(cpu.getReg('x4'), expected.ttbr0_el1);
  assert.equal(cpu.getReg('x5'), 4n, 'DC ZVA zeroes 64 bytes');
});

test('unaligned loads, stores and pairs to RAM complete (Normal memory), in the fast loop and out of it', () => {
  const cpu = mmuOnCpu([
    0xf9000020, // str x0, [x1]
    0xf9400022, // ldr x2, [x1]
    0xb8403023, // ldur w3, [x1, #3]
    0xa9001424, // stp x4, x5, [x1]
    0xa9401c26, // ldp x6, x7, [x1]
    0x78801028, // ldursh x8, [x1, #1]
    HVC0,
  ], { x0: 0x1122_3344_5566_7788n, x1: BigInt(DATA + 1), x4: 0xaaaa_bbbb_cccc_ddddn, x5: 0x1234n });
  assert.equal(runToExit(cpu), CpuExit.Hvc);
  assert.equal(cpu.getReg('x2'), 0x1122_3344_5566_7788n);
  assert.equal(cpu.getReg('x3'), 0x2233_4455n);
  assert.equal(cpu.getReg('x6'), 0xaaaa_bbbb_cccc_ddddn);
  assert.equal(cpu.getReg('x7'), 0x1234n);
  assert.equal(cpu.getReg('x8'), 0xffff_ffff_ffff_ccddn, 'sign-extended halfword at +2');
});

test('unaligned accesses to Device memory and unaligned LDAR/LDXR fault; SCTLR.A = 1 makes RAM fault too', () => {
  const faults: [number, bigint, number][] = [
    [0xb9400020 /* ldr w0, [x1] */, 0x902n, 0x9600_0021], // MMIO is Device memory
    [0x88dffc20 /* ldar w0, [x1] */, BigInt(DATA + 2), 0x9600_0021], // acquire: aligned always
    [0xc85f7c20 /* ldxr x0, [x1] */, BigInt(DATA + 4), 0x9600_0021],
    [0xf9400020 /* ldr x0, [x1] */, 1n << 39n, 0x9600_0004], // beyond the map: level 0 translation fault
    [0xf9000020 /* str x0, [x1] */, 1n << 40n, 0x9600_0044],
  ];
  for (const [insn, address, esr] of faults) {
    const cpu = mmuOnCpu({ 0: [insn], [SYNC_SPX]: [HVC0] }, { x1: address, vbar_el1: BigInt(VBAR) });
    assert.equal(runToExit(cpu), CpuExit.Hvc, `0x${insn.toString(16)} at 0x${address.toString(16)}`);
    assert.equal(cpu.getReg('esr_el1'), BigInt(esr), `ESR of 0x${insn.toString(16)}`);
    assert.equal(cpu.getReg('far_el1'), address);
  }
  const strict = mmuOnCpu({ 0: [0xf9400020 /* ldr x0, [x1] */], [SYNC_SPX]: [HVC0] }, { x1: BigInt(DATA + 1), vbar_el1: BigInt(VBAR) });
  strict.setReg('sctlr_el1', strict.getReg('sctlr_el1') | 2n);
  assert.equal(runToExit(strict), CpuExit.Hvc);
  assert.equal(strict.getReg('esr_el1'), 0x9600_0021n, 'alignment checks on: unaligned Normal accesses fault');
});

test('DC ZVA zeroes the 64-byte block in RAM with the MMU on, and faults on Device memory', () => {
  const cpu = mmuOnCpu([0xd50b7420 /* dc zva, x0 */, HVC0], { x0: BigInt(DATA + 0x47) });
  cpu.ram.fill(0xee, DATA - RAM, DATA - RAM + 0x100);
  assert.equal(runToExit(cpu), CpuExit.Hvc);
  const block = cpu.ram.subarray(DATA - RAM + 0x40, DATA - RAM + 0x80);
  assert.ok(block.every((b) => b === 0), 'the block holding the address is zero');
  assert.equal(cpu.ram[DATA - RAM + 0x3f], 0xee, 'the byte before it is not');
  assert.equal(cpu.ram[DATA - RAM + 0x80], 0xee, 'nor the byte after it');
  const device = mmuOnCpu({ 0: [0xd50b7420], [SYNC_SPX]: [HVC0] }, { x0: 0x900n, vbar_el1: BigInt(VBAR) });
  assert.equal(runToExit(device), CpuExit.Hvc);
  assert.equal(device.getReg('esr_el1'), 0x9600_0061n);
});

test('an MSR that changes the translation regime stops the CPU (MMU_REGIME); writing the values it holds does not', () => {
  const same = mmuOnCpu([
    0xd518a200, // msr mair_el1, x0
    0xd5182041, // msr tcr_el1, x1
    0xd5182002, // msr ttbr0_el1, x2
    0xd5181003, // msr sctlr_el1, x3 (the same M, A set)
    HVC0,
  ]);
  const values = Object.fromEntries(start.registers);
  for (const [reg, name] of [['x0', 'mair_el1'], ['x1', 'tcr_el1'], ['x2', 'ttbr0_el1']] as const) same.setReg(reg, values[name]!);
  same.setReg('x3', values.sctlr_el1! | 2n);
  assert.equal(runToExit(same), CpuExit.Hvc);
  assert.equal(same.getReg('sctlr_el1'), values.sctlr_el1! | 2n, 'bits other than M are plain storage');
  for (const [insn, reg, value] of [
    [0xd5182000 /* msr ttbr0_el1, x0 */, 'x0', 0x4_0000n],
    [0xd518a200 /* msr mair_el1, x0 */, 'x0', 0xffn],
    [0xd5182040 /* msr tcr_el1, x0 */, 'x0', 0x10n],
    [0xd5181000 /* msr sctlr_el1, x0 */, 'x0', values.sctlr_el1! & ~1n],
  ] as const) {
    const cpu = mmuOnCpu([insn, HVC0], { [reg]: value });
    assert.equal(runToExit(cpu), CpuExit.MmuRegime, `0x${insn.toString(16)}`);
    assert.equal(cpu.faultInsn, insn);
    assert.equal(cpu.faultPc, RAM);
    assert.equal(cpu.instret, 0, 'the MSR did not retire');
  }
  const off = cpuWith([0xd5181000 /* msr sctlr_el1, x0 */, HVC0], { x0: 0x00c5_0079n }); // MMU off at reset: M = 1 is a new regime
  assert.equal(runToExit(off), CpuExit.MmuRegime);
});

test('LDTR/STTR (EL0\'s view) take permission faults at the level of the map\'s descriptor; with the MMU off they load and store', () => {
  for (const [insn, address, esr] of [
    [0xf8400820 /* ldtr x0, [x1] */, BigInt(DATA), 0x9600_000f], // RAM's 2 MiB block is mapped in 4 KiB pages: level 3
    [0xb8004820 /* sttr w0, [x1, #4] */, 0x900n, 0x9600_004f], // the MMIO window shares that block
    [0xf8400820, 0x4000_0000n, 0x9600_000d], // a GiB without RAM: one level 1 block
    [0xf8400820, 0x20_0000n, 0x9600_000e], // a 2 MiB block without RAM: level 2
    [0xf8400820, 1n << 39n, 0x9600_0004], // beyond the map: translation fault
  ] as const) {
    const cpu = mmuOnCpu({ 0: [insn], [SYNC_SPX]: [HVC0] }, { x1: address, vbar_el1: BigInt(VBAR) });
    assert.equal(runToExit(cpu), CpuExit.Hvc);
    assert.equal(cpu.getReg('esr_el1'), BigInt(esr), `0x${insn.toString(16)} at 0x${address.toString(16)}`);
    assert.equal(cpu.getReg('far_el1'), address + (insn === 0xb8004820 ? 4n : 0n));
  }
  const off = cpuWith([0xf8400820 /* ldtr x0, [x1] */, HVC0], { x1: BigInt(DATA) });
  off.ram[DATA - RAM] = 0x5a;
  assert.equal(runToExit(off), CpuExit.Hvc);
  assert.equal(off.getReg('x0'), 0x5an);
});
