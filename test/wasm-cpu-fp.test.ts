// The wasm CPU's scalar floating point, SIMD&FP loads and stores, LSE atomics and CRC32, on values whose answers are
// known (the differential test against QEMU covers the rest at random): one rounding in a fused
// multiply-add, the four rounding modes, NaN propagation and default NaN, flush-to-zero, saturating
// conversions, the FPSR flags, NZCV from FCMP; the FP/SIMD registers through the register API; and
// SIMD&FP accesses outside RAM (no syndrome) and misaligned ones (Device memory: MMU off).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { A64Cpu, CpuExit } from '../src/workers/wasm/a64-cpu';
import { createVm } from '../src/index';
import { HVC0, RAM, cpuWith, runToExit } from './wasm-cpu-support';

const FP_ON = { cpacr_el1: 3n << 20n };
// FPSR flags and FPCR fields
const IOC = 1n, DZC = 2n, IXC = 16n, IDC = 128n;
const RP = 1n << 22n, RM = 2n << 22n, RZ = 3n << 22n, FZ = 1n << 24n, DN = 1n << 25n;

/** Runs `insn` then HVC with FP enabled and `regs` set; returns the CPU. */
function runFp(insn: number, regs: Record<string, bigint>): A64Cpu {
  const cpu = cpuWith([insn, HVC0], { ...FP_ON, ...regs });
  assert.equal(runToExit(cpu), CpuExit.Hvc);
  return cpu;
}

test('FMADD/FNMSUB round once: the exact a*b+c, not the rounded product plus c', () => {
  const regs = { v1: 0x3ff0_0000_0000_0001n, v2: 0x3fef_ffff_ffff_ffffn, v3: 0xbff0_0000_0000_0000n }; // (1+2^-52)(1-2^-53) - 1
  assert.equal(runFp(0x1f420c20 /* fmadd d0, d1, d2, d3 */, regs).getReg('v0'), 0x3c9f_ffff_ffff_fffen);
  // fnmsub: -d3 + d1*d2 = 1 + (1+2^-52)(1-2^-53), rounded to nearest
  assert.equal(runFp(0x1f628c20 /* fnmsub d0, d1, d2, d3 */, regs).getReg('v0'), 0x4000_0000_0000_0000n);
});

test('FADD rounds a tie by FPCR.RMode and sets IXC', () => {
  const regs = { v1: 0x3f80_0000n, v2: 0x3380_0000n }; // 1.0f + 2^-24: halfway between 1 and 1 + 2^-23
  const fadd = 0x1e222820; // fadd s0, s1, s2
  const expect: [bigint, bigint][] = [[0n, 0x3f80_0000n], [RP, 0x3f80_0001n], [RM, 0x3f80_0000n], [RZ, 0x3f80_0000n]];
  for (const [mode, want] of expect) {
    const cpu = runFp(fadd, { ...regs, fpcr: mode });
    assert.equal(cpu.getReg('v0'), want, `RMode ${mode >> 22n}`);
    assert.equal(cpu.getReg('fpsr'), IXC);
  }
  // the upper bits of the register are zeroed by a scalar write
  assert.equal(runFp(fadd, { ...regs, v0: (1n << 128n) - 1n }).getReg('v0'), 0x3f80_0000n);
});

test('NaNs: a signalling operand wins and is quieted (IOC); DN gives the default NaN; 0/0 and x/0', () => {
  const fadd = 0x1e222820, fdiv = 0x1e221820; // fadd/fdiv s0, s1, s2
  let cpu = runFp(fadd, { v1: 0x7fc0_0001n, v2: 0x7f80_0002n });
  assert.equal(cpu.getReg('v0'), 0x7fc0_0002n);
  assert.equal(cpu.getReg('fpsr'), IOC);
  cpu = runFp(fadd, { v1: 0x7fc0_0001n, v2: 0x7fc0_0002n });
  assert.equal(cpu.getReg('v0'), 0x7fc0_0001n, 'two quiet NaNs: the first');
  assert.equal(cpu.getReg('fpsr'), 0n);
  assert.equal(runFp(fadd, { v1: 0xffc0_0001n, v2: 0n, fpcr: DN }).getReg('v0'), 0x7fc0_0000n);
  cpu = runFp(fdiv, { v1: 0n, v2: 0n });
  assert.equal(cpu.getReg('v0'), 0x7fc0_0000n);
  assert.equal(cpu.getReg('fpsr'), IOC);
  cpu = runFp(fdiv, { v1: 0xbf80_0000n, v2: 0n });
  assert.equal(cpu.getReg('v0'), 0xff80_0000n, '-1/+0 = -inf');
  assert.equal(cpu.getReg('fpsr'), DZC);
});

test('FZ flushes denormal inputs (IDC) and results', () => {
  const fmul = 0x1e220820; // fmul s0, s1, s2
  let cpu = runFp(fmul, { v1: 0x0000_0001n, v2: 0x3f80_0000n, fpcr: FZ });
  assert.equal(cpu.getReg('v0'), 0n);
  assert.equal(cpu.getReg('fpsr'), IDC);
  cpu = runFp(fmul, { v1: 0x0000_0001n, v2: 0x3f80_0000n });
  assert.equal(cpu.getReg('v0'), 1n, 'without FZ the denormal is exact');
  assert.equal(cpu.getReg('fpsr'), 0n);
});

test('conversions to integers saturate (IOC) and round as their names say', () => {
  const d = (x: number): bigint => new BigUint64Array(new Float64Array([x]).buffer)[0]!;
  let cpu = runFp(0x1e780020 /* fcvtzs w0, d1 */, { v1: d(3e9) });
  assert.equal(cpu.getReg('x0'), 0x7fff_ffffn);
  assert.equal(cpu.getReg('fpsr'), IOC);
  cpu = runFp(0x1e790020 /* fcvtzu w0, d1 */, { v1: d(-1.5) });
  assert.equal(cpu.getReg('x0'), 0n);
  assert.equal(cpu.getReg('fpsr'), IOC);
  cpu = runFp(0x1e780020, { v1: d(-2.75) });
  assert.equal(cpu.getReg('x0'), 0xffff_fffen, '-2 in a W register');
  assert.equal(cpu.getReg('fpsr'), IXC);
  assert.equal(runFp(0x9e640020 /* fcvtas x0, d1 */, { v1: d(2.5) }).getReg('x0'), 3n);
  assert.equal(runFp(0x9e600020 /* fcvtns x0, d1 */, { v1: d(2.5) }).getReg('x0'), 2n);
  assert.equal(runFp(0x1e61c020 /* fsqrt d0, d1 */, { v1: d(2) }).getReg('v0'), 0x3ff6_a09e_667f_3bcdn);
});

test('FCMP sets NZCV: equal, less, greater, unordered', () => {
  const fcmp = 0x1e222020; // fcmp s1, s2
  const cases: [bigint, bigint, bigint][] = [
    [0x3f80_0000n, 0x3f80_0000n, 0b0110n], [0xbf80_0000n, 0x3f80_0000n, 0b1000n],
    [0x3f80_0000n, 0x8000_0000n, 0b0010n], [0x7fc0_0000n, 0n, 0b0011n], [0n, 0x8000_0000n, 0b0110n],
  ];
  for (const [a, b, flags] of cases) assert.equal(runFp(fcmp, { v1: a, v2: b }).getReg('nzcv'), flags << 28n, `${a} vs ${b}`);
});

test('register API: v0..v31 are 128 bits; FPCR and FPSR take only the bits this CPU has', () => {
  const cpu = new A64Cpu();
  const all = (1n << 128n) - 1n;
  cpu.setReg('v31', all);
  cpu.setReg('v0', 0x0123_4567_89ab_cdef_fedc_ba98_7654_3210n);
  assert.equal(cpu.getReg('v31'), all);
  assert.equal(cpu.getReg('v0'), 0x0123_4567_89ab_cdef_fedc_ba98_7654_3210n);
  assert.throws(() => cpu.setReg('v1', 1n << 128n), RangeError);
  assert.throws(() => cpu.setReg('v1', -1n), RangeError);
  assert.throws(() => cpu.setReg('v32', 0n), RangeError);
  cpu.setReg('fpcr', DN | FZ | RZ);
  assert.equal(cpu.getReg('fpcr'), DN | FZ | RZ);
  assert.throws(() => cpu.setReg('fpcr', 1n << 8n), RangeError, 'IOE: trapped exceptions are not modelled');
  cpu.setReg('fpsr', IOC | IDC);
  assert.equal(cpu.getReg('fpsr'), IOC | IDC);
  // a guest's MSR drops the bits that do not exist
  const guest = cpuWith([0xd51b4402 /* msr fpcr, x2 */, HVC0], { ...FP_ON, x2: (1n << 8n) | RP });
  assert.equal(runToExit(guest), CpuExit.Hvc);
  assert.equal(guest.getReg('fpcr'), RP);
});

test('SIMD&FP accesses outside RAM exit with no syndrome; a misaligned q access faults (MMU off)', () => {
  let cpu = cpuWith([0x3dc00020 /* ldr q0, [x1] */, HVC0], { ...FP_ON, x1: 0x0900_0000n });
  assert.equal(runToExit(cpu), CpuExit.MmioNoSyndrome);
  assert.equal(cpu.mmioAddr, 0x0900_0000);
  assert.equal(cpu.mmioSize, 16);
  assert.equal(cpu.faultPc, RAM);
  cpu = cpuWith([0xfd400020 /* ldr d0, [x1] */, HVC0], { ...FP_ON, x1: 0x0900_0008n });
  assert.equal(runToExit(cpu), CpuExit.MmioNoSyndrome);
  assert.equal(cpu.mmioSize, 8);
  cpu = cpuWith({ 0: [0x3dc00020], 0xa00: [HVC0] }, { ...FP_ON, x1: BigInt(RAM + 0x108), vbar_el1: BigInt(RAM + 0x800) });
  assert.equal(runToExit(cpu), CpuExit.Hvc);
  assert.equal(cpu.getReg('esr_el1') >> 26n, 0x25n, 'data abort');
  assert.equal(cpu.getReg('far_el1'), BigInt(RAM + 0x108));
  // in RAM and aligned: the 16 bytes, in order
  cpu = cpuWith([0x3dc00020, HVC0], { ...FP_ON, x1: BigInt(RAM + 0x10) });
  cpu.ram.set(Uint8Array.from({ length: 16 }, (_, i) => i), 0x10);
  assert.equal(runToExit(cpu), CpuExit.Hvc);
  assert.equal(cpu.getReg('v0'), 0x0f0e_0d0c_0b0a_0908_0706_0504_0302_0100n);
});

test('Vm API on the wasm backend: v0..v31 take 128-bit values; bad values are ConfigErrors', () => {
  const vm = createVm({ arch: 'aarch64', backend: 'wasm' });
  try {
    vm.setRegister('v7', (1n << 128n) - 2n);
    assert.equal(vm.getRegister('v7'), (1n << 128n) - 2n);
    assert.equal(vm.registers()['v7'], (1n << 128n) - 2n);
    assert.throws(() => vm.setRegister('v7', 1n << 128n), { name: 'ConfigError', code: 'ERR_INVALID_OPTION' });
    assert.throws(() => vm.setRegister('x0', 1n << 64n), { code: 'ERR_INVALID_OPTION' }, 'x registers stay 64 bits');
    assert.throws(() => vm.setRegister('fpcr', 1n << 8n), { name: 'ConfigError', code: 'ERR_INVALID_OPTION' });
    vm.setRegister('fpcr', DN);
    assert.equal(vm.getRegister('fpcr'), DN);
  } finally {
    vm.close();
  }
});

test('CRC32 and CRC32C: the standard check values of "123456789"', () => {
  const bytes = Buffer.from('123456789');
  const regs = { x0: 0xffff_ffffn, x1: bytes.readBigUInt64LE(0), x2: BigInt(bytes[8]!) };
  // crc32x w0, w0, x1; crc32b w0, w0, w2 (and the CRC32C forms), then the final inversion in the test
  let cpu = cpuWith([0x9ac14c00, 0x1ac24000, HVC0], regs);
  assert.equal(runToExit(cpu), CpuExit.Hvc);
  assert.equal(~Number(cpu.getReg('x0')) >>> 0, 0xcbf4_3926);
  cpu = cpuWith([0x9ac15c00, 0x1ac25000, HVC0], regs);
  assert.equal(runToExit(cpu), CpuExit.Hvc);
  assert.equal(~Number(cpu.getReg('x0')) >>> 0, 0xe306_9283);
});

test('LSE: LDADD and CASP update memory and return the old value; outside RAM they have no syndrome', () => {
  const ldadd = 0xf8210062; // ldadd x1, x2, [x3]
  let cpu = cpuWith([ldadd, HVC0], { x1: 5n, x3: BigInt(RAM + 0x100) });
  const ram = new DataView(cpu.ram.buffer, cpu.ram.byteOffset);
  ram.setBigUint64(0x100, 37n, true);
  assert.equal(runToExit(cpu), CpuExit.Hvc);
  assert.equal(cpu.getReg('x2'), 37n);
  assert.equal(ram.getBigUint64(0x100, true), 42n);
  cpu = cpuWith([0x48207c82 /* casp x0, x1, x2, x3, [x4] */, HVC0], { x0: 1n, x1: 2n, x2: 7n, x3: 8n, x4: BigInt(RAM + 0x100) });
  const mem = new DataView(cpu.ram.buffer, cpu.ram.byteOffset);
  mem.setBigUint64(0x100, 1n, true);
  mem.setBigUint64(0x108, 2n, true);
  assert.equal(runToExit(cpu), CpuExit.Hvc);
  assert.deepEqual([mem.getBigUint64(0x100, true), mem.getBigUint64(0x108, true)], [7n, 8n], 'equal: swapped');
  assert.deepEqual([cpu.getReg('x0'), cpu.getReg('x1')], [1n, 2n]);
  cpu = cpuWith([ldadd, HVC0], { x1: 5n, x3: 0x0900_0000n });
  assert.equal(runToExit(cpu), CpuExit.MmioNoSyndrome);
  assert.equal(cpu.mmioAddr, 0x0900_0000);
});

test('FCVT to or from half precision under FPCR.AHP (not modelled) exits as unsupported', () => {
  const fcvt = 0x1ee24020; // fcvt s0, h1
  const cpu = cpuWith([fcvt, HVC0], { ...FP_ON, fpcr: 1n << 26n, v1: 0x3c00n });
  assert.equal(runToExit(cpu), CpuExit.Unsupported);
  assert.equal(cpu.faultInsn, fcvt);
  assert.equal(runFp(fcvt, { v1: 0x3c00n }).getReg('v0'), 0x3f80_0000n, 'IEEE half 1.0 without AHP');
});
