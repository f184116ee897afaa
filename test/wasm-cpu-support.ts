/**
 * Helpers for the wasm CPU tests: a CPU with code placed in RAM (default platform layout: RAM at
 * 0x10000, 64 KiB, PC = 0x10000) and runs that stop at the first real exit.
 */
import assert from 'node:assert/strict';
import { A64Cpu, CpuExit } from '../src/workers/wasm/a64-cpu';
import { JIT_MODES, type JitMode } from '../src/workers/wasm/jit/code-cache';

/**
 * The translator's mode for the CPUs tests make: FEMTOVM_TEST_JIT (default off). wasm-jit.test.ts
 * runs the CPU tests again with it 'on': every branch target translated at its first execution.
 */
export function testJitMode(): JitMode {
  const mode = process.env.FEMTOVM_TEST_JIT ?? 'off';
  if (!(JIT_MODES as readonly string[]).includes(mode)) throw new Error(`FEMTOVM_TEST_JIT=${mode}: on, off or auto`);
  return mode as JitMode;
}

/** A CPU as the tests make them (see testJitMode). */
export function testCpu(options: ConstructorParameters<typeof A64Cpu>[0] = {}): A64Cpu {
  return new A64Cpu({ ...options, jit: { mode: testJitMode() } });
}

export const RAM = 0x10000;
export const HVC0 = 0xd4000002; // hvc #0

/** Code by RAM offset: { 0: [...words], 0xa00: [...] }. */
export type Code = Record<number, readonly number[]>;

/** A CPU with `code` in RAM (an array is placed at offset 0) and registers set. */
export function cpuWith(code: Code | readonly number[], regs: Record<string, bigint> = {}): A64Cpu {
  const cpu = testCpu();
  const ram = new DataView(cpu.ram.buffer, cpu.ram.byteOffset, cpu.ram.byteLength);
  const placed: Code = Array.isArray(code) ? { 0: code as readonly number[] } : (code as Code);
  for (const [offset, words] of Object.entries(placed)) {
    words.forEach((w, i) => ram.setUint32(Number(offset) + i * 4, w, true));
  }
  for (const [name, value] of Object.entries(regs)) cpu.setReg(name, value);
  return cpu;
}

/** Runs until an exit other than the end of a slice. */
export function runToExit(cpu: A64Cpu, limit = 1_000_000): CpuExit {
  let exit: CpuExit;
  do exit = cpu.run(limit);
  while (exit === CpuExit.SliceEnd);
  return exit;
}

/** Runs `code` (to which `hvc #0` is appended) and checks it reached that HVC. */
export function exec(code: readonly number[], regs: Record<string, bigint> = {}): A64Cpu {
  const cpu = cpuWith([...code, HVC0], regs);
  assert.equal(runToExit(cpu), CpuExit.Hvc, 'the snippet should end at its hvc #0');
  assert.equal(cpu.faultPc, RAM + code.length * 4, 'stopped at the final hvc');
  return cpu;
}

/** NZCV as a 4-bit number (N = 8, Z = 4, C = 2, V = 1). */
export function flags(cpu: A64Cpu): number {
  return Number(cpu.getReg('nzcv') >> 28n);
}

export const u64 = (v: bigint): bigint => BigInt.asUintN(64, v);
