// The wasm CPU's Advanced SIMD instructions: one or more per class with hand-worked results, the
// D-form's zeroed upper half, FPSR.QC on saturation, FP lanes with their NaN rules and flags, and the errors: the CPACR_EL1.FPEN trap,
// UNDEFINED encodings, and an unsupported exit that names an instruction outside the model. (The
// differential fuzzer, test/cpu-diff, checks every class's forms against QEMU.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CpuExit } from '../src/workers/wasm/a64-cpu';
import { HVC0, RAM, cpuWith, exec, runToExit } from './wasm-cpu-support';

const FPEN = 3n << 20n;
const QC = 1n << 27n;
const IOC = 1n, IXC = 1n << 4n;
const MRS_X9_FPSR = 0xd53b4429;
type V = readonly [lo: bigint, hi: bigint];

/** INS vd.d[index], xn and UMOV xd, vn.d[index]. */
const ins = (vd: number, index: number, xn: number): number => (0x4e001c00 | (((index << 4) | 8) << 16) | (xn << 5) | vd) >>> 0;
const umov = (xd: number, vn: number, index: number): number => (0x4e003c00 | (((index << 4) | 8) << 16) | (vn << 5) | xd) >>> 0;

interface SimdResult {
  v: (n: number) => V;
  x: (n: number) => bigint;
  fpsr: bigint;
}

/**
 * Runs `body` with FP/SIMD enabled: the vector registers in `vin` loaded first (through x10..x17),
 * those in `vout` read back after (into x10..x17), FPSR into x9.
 */
function simd(body: readonly number[], vin: Record<number, V>, vout: readonly number[], x: Record<string, bigint> = {}): SimdResult {
  const regs: Record<string, bigint> = { cpacr_el1: FPEN, ...x };
  const load: number[] = [];
  Object.entries(vin).forEach(([n, [lo, hi]], k) => {
    regs[`x${10 + 2 * k}`] = lo;
    regs[`x${11 + 2 * k}`] = hi;
    load.push(ins(Number(n), 0, 10 + 2 * k), ins(Number(n), 1, 11 + 2 * k));
  });
  const read = vout.flatMap((n, k) => [umov(10 + 2 * k, n, 0), umov(11 + 2 * k, n, 1)]);
  const cpu = exec([...load, ...body, ...read, MRS_X9_FPSR], regs);
  return {
    v: (n) => {
      const k = vout.indexOf(n);
      return [cpu.getReg(`x${10 + 2 * k}`), cpu.getReg(`x${11 + 2 * k}`)];
    },
    x: (n) => cpu.getReg(`x${n}`),
    fpsr: cpu.getReg('x9'),
  };
}

const BYTES_0_15: V = [0x0706050403020100n, 0x0f0e0d0c0b0a0908n];
const BYTES_16_31: V = [0x1716151413121110n, 0x1f1e1d1c1b1a1918n];
const ONES: V = [0xffff_ffff_ffff_ffffn, 0xffff_ffff_ffff_ffffn];

test('ADD (vector): lanes wrap on their own; the 64-bit form zeroes bits 127:64', () => {
  const a: V = [0x00000003_ffffffffn, 0x7fffffff_80000000n], b: V = [0x00000004_00000002n, 0x00000001_80000000n];
  assert.deepEqual(simd([0x4ea18402], { 0: a, 1: b, 2: ONES }, [2]).v(2), [0x00000007_00000001n, 0x80000000_00000000n]); // add v2.4s
  assert.deepEqual(simd([0x0ea18402], { 0: a, 1: b, 2: ONES }, [2]).v(2), [0x00000007_00000001n, 0n]); // add v2.2s
});

test('saturating arithmetic clamps each lane and sets FPSR.QC; without saturation QC stays clear', () => {
  const sat = simd([0x4e210c02], { 0: [0x7f7f_7f7f_7f7f_7f7fn, 0x8080_8080_8080_8080n], 1: [0x0101_0101_0101_0101n, ONES[1]] }, [2]); // sqadd v2.16b
  assert.deepEqual(sat.v(2), [0x7f7f_7f7f_7f7f_7f7fn, 0x8080_8080_8080_8080n]);
  assert.equal(sat.fpsr & QC, QC);
  const exact = simd([0x4e210c02], { 0: [0x7e00_0102_0304_0506n, 0n], 1: [0x0101_0101_0101_0101n, 0n] }, [2]);
  assert.deepEqual(exact.v(2), [0x7f01_0203_0405_0607n, 0n]);
  assert.equal(exact.fpsr & QC, 0n);
  const uqsub = simd([0x6e612c02], { 0: [0x0005_0001_0000_0010n, 0n], 1: [0x0003_0002_0001_0008n, 0n] }, [2]); // uqsub v2.8h
  assert.deepEqual(uqsub.v(2), [0x0002_0000_0000_0008n, 0n]);
  assert.equal(uqsub.fpsr & QC, QC);
  const narrow = simd([0x2f0d9c02], { 0: [0xffff_0010_0003_0004n, 0n] }, [2]); // uqrshrn v2.8b, v0.8h, #3
  assert.deepEqual(narrow.v(2), [0x00000000_ff020001n, 0n]);
  assert.equal(narrow.fpsr & QC, QC);
  const scalar = simd([0x5e214802], { 0: [0x0000_8000n, 0n] }, [2]); // sqxtn b2, h0
  assert.deepEqual(scalar.v(2), [0x80n, 0n]);
  assert.equal(scalar.fpsr & QC, QC);
});

test('modified immediate: MOVI, MVNI', () => {
  assert.deepEqual(simd([0x4f000403], { 3: ONES }, [3]).v(3), [0n, 0n]); // movi v3.4s, #0
  assert.deepEqual(simd([0x6f05e543], {}, [3]).v(3), [0xff00ff00ff00ff00n, 0xff00ff00ff00ff00n]); // movi v3.2d
  assert.deepEqual(simd([0x6f00a643], {}, [3]).v(3), [0xedffedffedffedffn, 0xedffedffedffedffn]); // mvni v3.8h, #0x12, lsl #8
});

test('copy: DUP, UMOV, SMOV, INS', () => {
  const v1: V = [0x0123_4567_89ab_cdefn, 0x9122_3344_5566_7788n];
  assert.deepEqual(simd([0x4e020c04], {}, [4], { x0: 0x1234_5678_9abc_def0n }).v(4), [0xdef0def0def0def0n, 0xdef0def0def0def0n]); // dup v4.8h, w0
  assert.deepEqual(simd([0x4e1c0424], { 1: v1 }, [4]).v(4), [0x91223344_91223344n, 0x91223344_91223344n]); // dup v4.4s, v1.s[3]
  assert.equal(simd([0x0e1e3c25], { 1: v1 }, [], { x5: -1n }).x(5), 0x9122n); // umov w5, v1.h[7]
  assert.equal(simd([0x4e1f2c25], { 1: v1 }, []).x(5), 0xffff_ffff_ffff_ff91n); // smov x5, v1.b[15]
  assert.deepEqual(simd([0x4e0c1c01], { 1: v1 }, [1], { x0: 0xaaaa_bbbb_cccc_ddddn }).v(1), [0xcccc_dddd_89ab_cdefn, v1[1]]); // ins v1.s[1], w0
  assert.deepEqual(simd([0x6e017c01], { 0: BYTES_0_15, 1: v1 }, [1]).v(1), [0x0123_4567_89ab_cd0fn, v1[1]]); // ins v1.b[0], v0.b[15]
});

test('TBL and TBX: out-of-range indexes give 0 or keep the destination byte', () => {
  const idx: V = [0x0f11_0520_ff10_001fn, 0x0000_0000_0000_0040n];
  const tbl = simd([0x4e032002], { 0: BYTES_0_15, 1: BYTES_16_31, 3: idx, 2: ONES }, [2]); // tbl v2.16b, {v0, v1}, v3
  assert.deepEqual(tbl.v(2), [0x0f11_0500_0010_001fn, 0n]);
  const tbx = simd([0x0e031002], { 0: BYTES_0_15, 3: idx, 2: ONES }, [2]); // tbx v2.8b, {v0}, v3
  assert.deepEqual(tbx.v(2), [0x0fff_05ff_ffff_00ffn, 0n]);
});

test('across lanes and pairwise: ADDV, UMAXV, SADDLV, ADDP', () => {
  const v: V = [0x0000_0003_ffff_fffen, 0x8000_0000_0000_0010n];
  assert.deepEqual(simd([0x4eb1b802], { 0: v, 2: ONES }, [2]).v(2), [0x8000_0011n, 0n]); // addv s2, v0.4s
  assert.deepEqual(simd([0x6e30a802], { 0: BYTES_16_31 }, [2]).v(2), [0x1fn, 0n]); // umaxv b2, v0.16b
  assert.deepEqual(simd([0x4eb03802], { 0: v }, [2]).v(2), [0xffff_ffff_8000_0011n, 0n]); // saddlv d2, v0.4s
  assert.deepEqual(simd([0x5ef1b802], { 0: [ONES[0], 2n] }, [2]).v(2), [1n, 0n]); // addp d2, v0.2d
  assert.deepEqual(simd([0x4ea1bc02], { 0: v, 1: [1n, 2n] }, [2]).v(2), [0x8000_0010_0000_0001n, 0x2_0000_0001n]); // addp v2.4s
});

test('permutes: ZIP1, UZP2, TRN1, EXT, REV32', () => {
  assert.deepEqual(simd([0x4e813802], { 0: BYTES_0_15, 1: BYTES_16_31 }, [2]).v(2), [0x1312_1110_0302_0100n, 0x1716_1514_0706_0504n]); // zip1 .4s
  assert.deepEqual(simd([0x4e415802], { 0: BYTES_0_15, 1: BYTES_16_31 }, [2]).v(2), [0x0f0e_0b0a_0706_0302n, 0x1f1e_1b1a_1716_1312n]); // uzp2 .8h
  assert.deepEqual(simd([0x4e012802], { 0: BYTES_0_15, 1: BYTES_16_31 }, [2]).v(2), [0x1606_1404_1202_1000n, 0x1e0e_1c0c_1a0a_1808n]); // trn1 .16b
  assert.deepEqual(simd([0x6e011802], { 0: BYTES_0_15, 1: BYTES_16_31 }, [2]).v(2), [0x0a09_0807_0605_0403n, 0x1211_100f_0e0d_0c0bn]); // ext #3
  assert.deepEqual(simd([0x6e600802], { 0: BYTES_0_15 }, [2]).v(2), [0x0504_0706_0100_0302n, 0x0d0c_0f0e_0908_0b0an]); // rev32 .8h
});

test('two-register misc and shifts: CNT, CMEQ #0, USHR, SSHR #64, SXTL, XTN2, URSHR', () => {
  assert.deepEqual(simd([0x4e205802], { 0: [0xff00_0f01_8000_0003n, 1n] }, [2]).v(2), [0x0800_0401_0100_0002n, 1n]); // cnt
  assert.deepEqual(simd([0x4e209802], { 0: [0xff00_0f01_8000_0003n, 1n] }, [2]).v(2), [0x00ff_0000_00ff_ff00n, 0xffff_ffff_ffff_ff00n]); // cmeq #0
  assert.deepEqual(simd([0x6f210402], { 0: [0x8000_0000_7fff_ffffn, 0xffff_ffff_0000_0001n] }, [2]).v(2), [0x1_0000_0000n, 0x1_0000_0000n]); // ushr #31
  assert.deepEqual(simd([0x5f400402], { 0: [0x8000_0000_0000_0000n, 5n] }, [2]).v(2), [ONES[0], 0n]); // sshr d2, d0, #64
  assert.deepEqual(simd([0x0f08a402], { 0: [0x0000_0000_0080_7fffn, 0n] }, [2]).v(2), [0x0000_ff80_007f_ffffn, 0n]); // sxtl .8h
  assert.deepEqual(simd([0x4e212822], { 1: [0x1234_5678_9abc_def0n, 0x0011_2233_4455_6677n], 2: [7n, 9n] }, [2]).v(2), [7n, 0x1133_5577_3478_bcf0n]); // xtn2
  assert.deepEqual(simd([0x6f7f2402], { 0: [ONES[0], 3n] }, [2]).v(2), [0x8000_0000_0000_0000n, 2n]); // urshr .2d, #1
});

test('multiplies: by element, long, doubling high half', () => {
  const v0: V = [0x0000_0003_ffff_ffffn, 0x8000_0000_0000_0002n], v1: V = [0x0000_0005_0000_0000n, 0n];
  assert.deepEqual(simd([0x4fa18002], { 0: v0, 1: v1 }, [2]).v(2), [0x0000_000f_ffff_fffbn, 0x8000_0000_0000_000an]); // mul .4s, v1.s[1]
  const mla = simd([0x6f710802], { 0: [0x0002_0001_ffff_0003n, 0n], 1: [0n, 0x0010_0000_0000_0000n], 2: [1n, 0n] }, [2]); // mla .8h, v1.h[7]
  assert.deepEqual(mla.v(2), [0x0020_0010_fff0_0031n, 0n]);
  assert.deepEqual(simd([0x2ea1c002], { 0: [0xffff_ffff_0000_0002n, 0n], 1: [0xffff_ffff_0000_0003n, 0n] }, [2]).v(2), [6n, 0xffff_fffe_0000_0001n]); // umull
  const high = simd([0x6e61b402], { 0: [0x8000_4000n, 0n], 1: [0x8000_4000n, 0n] }, [2]); // sqrdmulh .8h
  assert.deepEqual(high.v(2), [0x7fff_2000n, 0n]);
  assert.equal(high.fpsr & QC, QC);
});

test('FP vectors: NaN propagation and the default NaN, lane by lane, with FPSR flags', () => {
  const v0: V = [0x7f800001_3f800000n, 0x7f800000_3f800000n], v1: V = [0x3f800000_40000000n, 0xff800000_7fc00001n];
  const r = simd([0x4e21d402], { 0: v0, 1: v1 }, [2]); // fadd v2.4s: 1+2, sNaN+1, 1+qNaN, inf+-inf
  assert.deepEqual(r.v(2), [0x7fc00001_40400000n, 0x7fc00000_7fc00001n]);
  assert.equal(r.fpsr, IOC);
  const cmp = simd([0x6e21e402], { 0: [0x3f800000_3f800000n, 0x80000000_7fc00000n], 1: [0x40000000_3f800000n, 0x00000000_3f800000n] }, [2]); // fcmge
  assert.deepEqual(cmp.v(2), [0x00000000_ffffffffn, 0xffffffff_00000000n]);
  assert.equal(cmp.fpsr, IOC, 'FCMGE: a quiet NaN is invalid too');
  const sqrt = simd([0x6ee1f802], { 0: [0x4010_0000_0000_0000n, 0xbff0_0000_0000_0000n] }, [2]); // fsqrt .2d: 4, -1
  assert.deepEqual(sqrt.v(2), [0x4000_0000_0000_0000n, 0x7ff8_0000_0000_0000n]);
});

test('FP vectors: fused multiply-add by element, pairwise and across-lanes reductions', () => {
  // fmla v2.2d, v0.2d, v1.d[1]: 2 + 3 * 0.5, 1 + -4 * 0.5
  const fmla = simd([0x4fc11802], { 0: [0x4008_0000_0000_0000n, 0xc010_0000_0000_0000n], 1: [0n, 0x3fe0_0000_0000_0000n], 2: [0x4000_0000_0000_0000n, 0x3ff0_0000_0000_0000n] }, [2]);
  assert.deepEqual(fmla.v(2), [0x400c_0000_0000_0000n, 0xbff0_0000_0000_0000n]);
  assert.deepEqual(simd([0x7e70d802], { 0: [0x3ff8_0000_0000_0000n, 0x4002_0000_0000_0000n] }, [2]).v(2), [0x400e_0000_0000_0000n, 0n]); // faddp d2: 3.75
  assert.deepEqual(simd([0x6e30c802], { 0: [0x3f800000_7fc00000n, 0x40000000_c0400000n], 2: ONES }, [2]).v(2), [0x40000000n, 0n]); // fmaxnmv: 2.0
});

test('FP vectors: conversions and rounding to integral', () => {
  const toInt = simd([0x4ea1b802], { 0: [0x4f32d05e_bfc00000n, 0x3f000000_7fc00000n] }, [2]); // fcvtzs .4s: -1.5, 3e9, NaN, 0.5
  assert.deepEqual(toInt.v(2), [0x7fffffff_ffffffffn, 0n]);
  assert.equal(toInt.fpsr, IOC | IXC);
  const fromInt = simd([0x4e61d802], { 0: [ONES[0], 0x0020_0000_0000_0001n] }, [2]); // scvtf .2d: -1, 2^53 + 1
  assert.deepEqual(fromInt.v(2), [0xbff0_0000_0000_0000n, 0x4340_0000_0000_0000n]);
  assert.equal(fromInt.fpsr, IXC);
  assert.deepEqual(simd([0x6f30e402], { 0: [0xffffffff_00010000n, 0x00000000_00008000n] }, [2]).v(2), [0x47800000_3f800000n, 0x00000000_3f000000n]); // ucvtf #16
  const narrow = simd([0x4e616802], { 0: [0x3ff0_0000_0000_0000n, 0x3fb9_9999_9999_999an], 2: [7n, 9n] }, [2]); // fcvtn2: 1.0, 0.1
  assert.deepEqual(narrow.v(2), [7n, 0x3dcccccd_3f800000n]);
  assert.deepEqual(simd([0x0e617802], { 0: [0x80000000_3fc00000n, 5n] }, [2]).v(2), [0x3ff8_0000_0000_0000n, 0x8000_0000_0000_0000n]); // fcvtl
  const ties = simd([0x4e218802], { 0: [0x3fc00000_3f000000n, 0xc0200000_40200000n] }, [2]); // frintn: 0.5, 1.5, 2.5, -2.5
  assert.deepEqual(ties.v(2), [0x40000000_00000000n, 0xc0000000_40000000n]);
});

test('an Advanced SIMD instruction traps to EL1 (EC 0x07) while CPACR_EL1.FPEN traps it', () => {
  const cpu = cpuWith({ 0: [0x4ea18402, HVC0], 0x200: [HVC0] }, { vbar_el1: BigInt(RAM) });
  assert.equal(runToExit(cpu), CpuExit.Hvc);
  assert.equal(cpu.faultPc, RAM + 0x200, 'taken to VBAR_EL1 + 0x200');
  assert.equal(cpu.getReg('esr_el1'), 0x1fe0_0000n, 'EC 0x07, IL, CV, COND 0xe');
  assert.equal(cpu.getReg('elr_el1'), BigInt(RAM), 'at the instruction');
});

test('an unallocated Advanced SIMD encoding is UNDEFINED (EC 0); one outside the model exits unsupported, named', () => {
  // add v2.1d (64-bit elements in a 64-bit vector: reserved)
  const cpu = cpuWith({ 0: [0x0ee18402, HVC0], 0x200: [HVC0] }, { vbar_el1: BigInt(RAM), cpacr_el1: FPEN });
  assert.equal(runToExit(cpu), CpuExit.Hvc);
  assert.equal(cpu.faultPc, RAM + 0x200);
  assert.equal(cpu.getReg('esr_el1'), 0x0200_0000n, 'EC 0 (unknown), IL');
  const aes = cpuWith([0x4e284820, HVC0], { cpacr_el1: FPEN }); // aese v0.16b, v1.16b (crypto: not modelled)
  assert.equal(runToExit(aes), CpuExit.Unsupported);
  assert.equal(aes.faultInsn, 0x4e284820);
  assert.equal(aes.faultPc, RAM);
  const estimate = cpuWith([0x4ea1d802, HVC0], { cpacr_el1: FPEN }); // frecpe v2.4s, v0.4s (estimates: not modelled)
  assert.equal(runToExit(estimate), CpuExit.Unsupported);
  assert.equal(estimate.faultInsn, 0x4ea1d802);
});
