/**
 * The reference side of the differential test: a static aarch64 harness (harness.c, entry.S),
 * built with the cross toolchain into a cache directory on first use and run under qemu-aarch64,
 * one process for a whole batch of cases.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { packageRoot } from '../../src/shared/addon';
import { LAYOUT } from './layout';
import type { TestCase } from './gen';

export const QEMU = 'qemu-aarch64';
export const CC = 'aarch64-linux-gnu-gcc';
export const OBJDUMP = 'aarch64-linux-gnu-objdump';

/** The outcome of one case: registers (general and FP/SIMD), flags, FPCR, FPSR and scratch memory after the snippet. */
export interface CaseResult {
  /** 0, or what went wrong (QEMU: the signal the snippet raised) */
  status: number;
  x: bigint[];
  sp: bigint;
  /** NZCV in bits 31:28 */
  nzcv: number;
  /** q0..q31, 128 bits each */
  v: bigint[];
  fpcr: bigint;
  fpsr: bigint;
  scratch: Uint8Array;
}

function works(cmd: string): boolean {
  return spawnSync(cmd, ['--version'], { stdio: 'ignore' }).status === 0;
}

/** Why the oracle cannot run here, or undefined if it can. */
export function oracleUnavailable(): string | undefined {
  const missing = [QEMU, CC].filter((c) => !works(c));
  if (missing.length === 0) return undefined;
  return `${missing.join(' and ')} not found: apt-get install qemu-user gcc-aarch64-linux-gnu libc6-dev-arm64-cross binutils-aarch64-linux-gnu`;
}

/** This directory in the source tree (the tests run bundled from dist/test/). */
function sourceDir(): string {
  return join(packageRoot(), 'test', 'cpu-diff');
}

/** The harness binary, compiled once per source version. */
export function harness(): string {
  const src = sourceDir();
  const files = ['harness.c', 'entry.S', 'layout.h'].map((f) => join(src, f));
  const defines = {
    REGION: LAYOUT.region, REGION_SIZE: LAYOUT.regionSize, LITERALS: LAYOUT.literals, REGS: LAYOUT.regs,
    SCRATCH: LAYOUT.scratch, SCRATCH_SIZE: LAYOUT.scratchSize, MAX_WORDS: LAYOUT.maxWords,
  };
  const hash = createHash('sha256');
  for (const f of files) hash.update(readFileSync(f));
  hash.update(JSON.stringify(defines));
  const dir = join(tmpdir(), `femtovm-cpu-diff-${hash.digest('hex').slice(0, 16)}`);
  const exe = join(dir, 'harness');
  if (existsSync(exe)) return exe;
  mkdirSync(dir, { recursive: true });
  const tmp = `${exe}.${process.pid}`;
  const flags = Object.entries(defines).map(([k, v]) => `-D${k}=${v}`);
  execFileSync(CC, ['-static', '-O2', '-Wall', '-Werror', ...flags, `-I${src}`, '-o', tmp, files[0]!, files[1]!], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  renameSync(tmp, exe); // atomic: concurrent test processes may build it too
  return exe;
}

// The records harness.c reads and writes (struct case_in / case_out).
const REGS_BYTES = 38 * 8 + 32 * 16; // x[31], sp, nzcv, host_sp, host_ret, host_tls, fpcr, fpsr, v[32]
const REGS_FPCR = 288, REGS_FPSR = 296, REGS_V = 304;
const IN_BYTES = 8 + LAYOUT.maxWords * 4 + REGS_BYTES + LAYOUT.scratchSize;
const OUT_BYTES = 8 + REGS_BYTES + LAYOUT.scratchSize;

function encode(cases: readonly TestCase[]): Buffer {
  const buf = Buffer.alloc(cases.length * IN_BYTES);
  cases.forEach((c, i) => {
    const base = i * IN_BYTES;
    if (c.code.length > LAYOUT.maxWords) throw new Error(`case ${i}: snippet longer than ${LAYOUT.maxWords} words`);
    buf.writeUInt32LE(c.code.length, base);
    c.code.forEach((w, j) => buf.writeUInt32LE(w, base + 8 + j * 4));
    const regs = base + 8 + LAYOUT.maxWords * 4;
    c.x.forEach((v, j) => buf.writeBigUInt64LE(v, regs + j * 8));
    buf.writeBigUInt64LE(c.sp, regs + 248);
    buf.writeBigUInt64LE(BigInt(c.nzcv >>> 0), regs + 256);
    buf.writeBigUInt64LE(c.fpcr, regs + REGS_FPCR);
    buf.writeBigUInt64LE(c.fpsr, regs + REGS_FPSR);
    c.v.forEach((v, j) => {
      buf.writeBigUInt64LE(BigInt.asUintN(64, v), regs + REGS_V + j * 16);
      buf.writeBigUInt64LE(v >> 64n, regs + REGS_V + j * 16 + 8);
    });
    buf.set(c.scratch, regs + REGS_BYTES);
  });
  return buf;
}

function decode(buf: Buffer, index: number): CaseResult {
  const base = index * OUT_BYTES, regs = base + 8;
  return {
    status: buf.readUInt32LE(base),
    x: Array.from({ length: 31 }, (_, j) => buf.readBigUInt64LE(regs + j * 8)),
    sp: buf.readBigUInt64LE(regs + 248),
    nzcv: Number(buf.readBigUInt64LE(regs + 256)),
    v: Array.from({ length: 32 }, (_, j) => (buf.readBigUInt64LE(regs + REGS_V + j * 16 + 8) << 64n) | buf.readBigUInt64LE(regs + REGS_V + j * 16)),
    fpcr: buf.readBigUInt64LE(regs + REGS_FPCR),
    fpsr: buf.readBigUInt64LE(regs + REGS_FPSR),
    scratch: new Uint8Array(buf.subarray(regs + REGS_BYTES, regs + REGS_BYTES + LAYOUT.scratchSize)),
  };
}

/** Runs the cases under qemu-aarch64, all in one process. */
export function runOracle(cases: readonly TestCase[]): CaseResult[] {
  const input = encode(cases);
  const r = spawnSync(QEMU, [harness()], { input, maxBuffer: cases.length * OUT_BYTES + 1024 });
  if (r.error) throw r.error;
  if (r.status !== 0 || r.stdout.length !== cases.length * OUT_BYTES) {
    throw new Error(`${QEMU} harness failed (status ${r.status}, ${r.stdout.length} bytes): ${r.stderr.toString()}`);
  }
  return cases.map((_, i) => decode(r.stdout, i));
}

/** objdump's disassembly of a snippet at its address, or undefined without the cross binutils. */
export function disassemble(code: readonly number[], address: number): string[] | undefined {
  const bin = Buffer.alloc(code.length * 4);
  code.forEach((w, i) => bin.writeUInt32LE(w, i * 4));
  const dir = join(tmpdir(), `femtovm-cpu-diff-dis-${process.pid}`);
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'snippet.bin');
  writeFileSync(file, bin);
  const r = spawnSync(OBJDUMP, ['-D', '-b', 'binary', '-m', 'aarch64', `--adjust-vma=${address}`, file], { encoding: 'utf8' });
  if (r.status !== 0) return undefined;
  return r.stdout.split('\n').filter((l) => /^\s+[0-9a-f]+:\t/.test(l)).map((l) => l.trim());
}
