/**
 * The scalar floating-point and SIMD&FP load/store classes of the differential test, and the FP
 * state a case starts from: FP/SIMD register values at the edges of each format (±0, infinities,
 * quiet and signalling NaNs with payloads, denormals, the largest and smallest normals, rounding ties,
 * the bounds of integer conversions) and FPCR with any rounding mode, FZ, FZ16 and DN.
 * The same address conventions as gen.ts: BASE (x28) and INDEX (x27) keep every access in scratch
 * and aligned to its element size.
 */
import { BASE, INDEX, type Ctx, type Gen, type Rng, dest, laneValues, scaledOffset, src } from './gen-base';

const u = (v: number): number => v >>> 0;

// --- Values --------------------------------------------------------------------------------------

/** Format parameters by log2 of the size in bytes: 1 half, 2 single, 3 double. */
const FORMATS = {
  1: { e: 5, f: 10 },
  2: { e: 8, f: 23 },
  3: { e: 11, f: 52 },
} as const;

function randomBits(r: Rng, n: number): bigint {
  return r.u64() & ((1n << BigInt(n)) - 1n);
}

/** How many kinds of value fpValue draws from. */
const THEMES = 16;

/** Doubles that sit on the edges of the integer conversions and the rounding ties. */
const NUMBERS = [0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 1, -1, 3, 0.25, 0.75, 2147483647.5, 2147483648, -2147483648.5,
  -2147483649, 4294967295.5, 4294967296, -4294967296, 9223372036854775807, -9223372036854775808, 18446744073709551615,
  -9223372036854777856, 65504, 65520, 6.103515625e-5, 3.4028234663852886e38, 1.1754943508222875e-38, 1e10, 1e-10, 0.1];

/**
 * A value of format `size` (1, 2, 3) at one of the edges the FP rules care about: of kind `theme`
 * half the time (a case's registers share one, so that operations meet the pairs that tie, or two
 * NaNs, or two denormals), else of any kind.
 */
export function fpValue(r: Rng, size: 1 | 2 | 3, theme: number): bigint {
  const { e, f } = FORMATS[size];
  const bits = 8 << size;
  const maxExp = (1n << BigInt(e)) - 1n, bias = (1n << BigInt(e - 1)) - 1n, F = BigInt(f);
  const sign = BigInt(r.bit()) << BigInt(bits - 1);
  // an exponent beyond the format's range (half precision has few) is clamped to its normals
  const pack = (exp: bigint, frac: bigint): bigint => sign | ((exp < 0n ? 1n : exp > maxExp ? maxExp - 1n : exp) << F) | frac;
  const fracMask = (1n << F) - 1n, quiet = 1n << (F - 1n);
  switch (r.bit() ? theme : r.int(THEMES)) {
    case 0: return pack(0n, 0n);
    case 1: return pack(maxExp, 0n);
    case 2: return pack(maxExp, quiet | randomBits(r, f - 1)); // quiet NaN
    case 3: return pack(maxExp, (randomBits(r, f - 1) || 1n)); // signalling NaN
    case 4: return pack(0n, r.pick([1n, fracMask, randomBits(r, f) || 1n, quiet])); // denormal
    case 5: return pack(r.pick([1n, maxExp - 1n, 2n]), r.pick([0n, fracMask, randomBits(r, f)]));
    case 6: { // a double from NUMBERS, converted to the format by the host's rounding where it must
      const n = r.pick(NUMBERS);
      const d = new DataView(new ArrayBuffer(8));
      if (size === 3) {
        d.setFloat64(0, n);
        return d.getBigUint64(0);
      }
      if (size === 2) {
        d.setFloat32(0, n);
        return BigInt(d.getUint32(0));
      }
      return pack(bias + BigInt(r.range(-3, 4)), r.pick([0n, 1n << (F - 1n), 3n << (F - 2n)]));
    }
    case 7: // a short significand near 1: sums and products of these round at ties
      return pack(bias + BigInt(r.range(-4, 4)), randomBits(r, 4) << (F - 4n));
    case 8: // around the integer conversion bounds: 2^(15..64)
      return pack(bias + BigInt(r.range(Math.min(15, e === 5 ? 14 : 15), Math.min(64, Number(bias)))), r.pick([0n, fracMask, randomBits(r, f)]));
    case 9: // near the bottom of the normal range, where results flush or become denormal
      return pack(BigInt(r.range(1, Math.min(Number(maxExp) - 1, 60))), randomBits(r, f));
    case 10: case 12: case 13: // a full significand: sums of two of these, one odd, tie
      return pack(bias + BigInt(r.range(0, 1)), randomBits(r, f));
    case 11: case 14: { // exactly halfway between two values of the next narrower format
      const narrow = size === 3 ? 23 : 10;
      return pack(bias + BigInt(r.range(-8, 8)), (randomBits(r, narrow) << BigInt(f - narrow)) | (1n << BigInt(f - narrow - 1)));
    }
    default: return pack(bias + BigInt(r.range(-40, 40)), randomBits(r, f));
  }
}

/** 64 bits of FP values of format `size`: one double, two singles or four halves. */
function fpLane64(r: Rng, size: 1 | 2 | 3, theme: number): bigint {
  let v = 0n;
  for (let bit = 0; bit < 64; bit += 8 << size) v |= fpValue(r, size, theme) << BigInt(bit);
  return v;
}

/**
 * Values for q0..q31: FP values, mostly of one format per case (so that operations meet operands of
 * their own format, and ties and NaN pairs come up), or (now and then) random bits.
 */
export function vregValues(r: Rng, favoured: 1 | 2 | 3): bigint[] {
  const theme = r.int(THEMES);
  const size = (): 1 | 2 | 3 => (r.int(4) === 0 ? r.pick([1, 2, 3] as const) : favoured);
  return Array.from({ length: 32 }, () => {
    if (r.int(10) === 0) return (r.u64() << 64n) | r.u64();
    if (r.int(8) === 0) return (laneValues(r) << 64n) | laneValues(r); // integer lanes at their edges (SIMD)
    return (fpLane64(r, size(), theme) << 64n) | fpLane64(r, size(), theme);
  });
}

/** FPCR: any rounding mode; FZ, FZ16 and DN each now and then. */
export function fpcrValue(r: Rng): bigint {
  let v = BigInt(r.int(4)) << 22n;
  if (r.int(4) === 0) v |= 1n << 24n; // FZ
  if (r.int(4) === 0) v |= 1n << 19n; // FZ16
  if (r.int(4) === 0) v |= 1n << 25n; // DN
  return v;
}

/** FPSR: mostly clear, else some cumulative flags already set. */
export function fpsrValue(r: Rng): bigint {
  return r.int(4) === 0 ? BigInt(r.u32() & 0x9f) : 0n;
}

// --- Encoders -----------------------------------------------------------------------------------

const enc = {
  fp1: (ftype: number, opcode: number, rn: number, rd: number) =>
    u(0x1e204000 | (ftype << 22) | (opcode << 15) | (rn << 5) | rd),
  fp2: (ftype: number, rm: number, opcode: number, rn: number, rd: number) =>
    u(0x1e200800 | (ftype << 22) | (rm << 16) | (opcode << 12) | (rn << 5) | rd),
  fp3: (ftype: number, o1: number, rm: number, o0: number, ra: number, rn: number, rd: number) =>
    u(0x1f000000 | (ftype << 22) | (o1 << 21) | (rm << 16) | (o0 << 15) | (ra << 10) | (rn << 5) | rd),
  fcmp: (ftype: number, rm: number, rn: number, opc2: number) => u(0x1e202000 | (ftype << 22) | (rm << 16) | (rn << 5) | opc2),
  fccmp: (ftype: number, rm: number, cond: number, rn: number, op: number, nzcv: number) =>
    u(0x1e200400 | (ftype << 22) | (rm << 16) | (cond << 12) | (rn << 5) | (op << 4) | nzcv),
  fcsel: (ftype: number, rm: number, cond: number, rn: number, rd: number) =>
    u(0x1e200c00 | (ftype << 22) | (rm << 16) | (cond << 12) | (rn << 5) | rd),
  fmovImm: (ftype: number, imm8: number, rd: number) => u(0x1e201000 | (ftype << 22) | (imm8 << 13) | rd),
  fpInt: (sf: number, ftype: number, rmode: number, opcode: number, rn: number, rd: number) =>
    u((sf << 31) | 0x1e200000 | (ftype << 22) | (rmode << 19) | (opcode << 16) | (rn << 5) | rd),
  fpFixed: (sf: number, ftype: number, rmode: number, opcode: number, scale: number, rn: number, rd: number) =>
    u((sf << 31) | 0x1e000000 | (ftype << 22) | (rmode << 19) | (opcode << 16) | (scale << 10) | (rn << 5) | rd),
  ldstUnsigned: (size: number, opc: number, imm12: number, rn: number, rt: number) =>
    u((size << 30) | 0x3d000000 | (opc << 22) | (imm12 << 10) | (rn << 5) | rt),
  ldstRegister: (size: number, opc: number, rm: number, option: number, s: number, rn: number, rt: number) =>
    u((size << 30) | 0x3c200800 | (opc << 22) | (rm << 16) | (option << 13) | (s << 12) | (rn << 5) | rt),
  ldstImm9: (size: number, opc: number, imm9: number, mode: number, rn: number, rt: number) =>
    u((size << 30) | 0x3c000000 | (opc << 22) | ((imm9 & 0x1ff) << 12) | (mode << 10) | (rn << 5) | rt),
  literal: (opc: number, imm19: number, rt: number) => u((opc << 30) | 0x1c000000 | ((imm19 & 0x7ffff) << 5) | rt),
  pair: (opc: number, mode: number, l: number, imm7: number, rt2: number, rn: number, rt: number) =>
    u((opc << 30) | 0x2c000000 | (mode << 23) | (l << 22) | ((imm7 & 0x7f) << 15) | (rt2 << 10) | (rn << 5) | rt),
  multiple: (q: number, post: number, l: number, rm: number, opcode: number, size: number, rn: number, rt: number) =>
    u((q << 30) | 0x0c000000 | (post << 23) | (l << 22) | (rm << 16) | (opcode << 12) | (size << 10) | (rn << 5) | rt),
  single: (q: number, post: number, l: number, r: number, rm: number, opcode: number, s: number, size: number, rn: number, rt: number) =>
    u((q << 30) | 0x0d000000 | (post << 23) | (l << 22) | (r << 21) | (rm << 16) | (opcode << 13) | (s << 12) | (size << 10) | (rn << 5) | rt),
};

const v = (r: Rng): number => r.int(32);
/** ftype: 00 single, 01 double, 11 half */
/** ftype (00 single, 01 double, 11 half), mostly of the case's favoured format (1 half, 2 single, 3 double). */
const ftype = (r: Rng, favoured: 1 | 2 | 3): number => [3, 0, 1][(r.int(4) === 0 ? r.int(3) + 1 : favoured) - 1]!;

// --- Scalar FP data processing --------------------------------------------------------------------

export const scalarFp: Gen[] = [
  // FMOV, FABS, FNEG, FSQRT, FRINT[NPMZAXI]
  ({ r, fpSize }) => [enc.fp1(ftype(r, fpSize), r.pick([0, 1, 2, 3, 3, 8, 9, 10, 11, 12, 14, 15]), v(r), v(r))],
  // FCVT between precisions
  ({ r, fpSize }) => {
    const from = ftype(r, fpSize);
    let to: number;
    do to = ftype(r, fpSize); while (to === from);
    return [enc.fp1(from, 0b000100 | to, v(r), v(r))];
  },
  // FMUL, FDIV, FADD, FSUB, FMAX, FMIN, FMAXNM, FMINNM, FNMUL
  ({ r, fpSize }) => [enc.fp2(ftype(r, fpSize), v(r), r.pick([0, 1, 2, 2, 3, 3, 4, 5, 6, 7, 8]), v(r), v(r))],
  // FMADD, FMSUB, FNMADD, FNMSUB
  ({ r, fpSize }) => [enc.fp3(ftype(r, fpSize), r.bit(), v(r), r.bit(), v(r), v(r), v(r))],
  // FCMP, FCMPE, against a register or zero
  ({ r, fpSize }) => [enc.fcmp(ftype(r, fpSize), v(r), v(r), r.pick([0, 8, 16, 24]))],
  ({ r, fpSize }) => [enc.fccmp(ftype(r, fpSize), v(r), r.int(16), v(r), r.bit(), r.int(16))],
  ({ r, fpSize }) => [enc.fcsel(ftype(r, fpSize), v(r), r.int(16), v(r), v(r))],
  ({ r, fpSize }) => [enc.fmovImm(ftype(r, fpSize), r.int(256), v(r))],
  // FCVT[NPMZ][SU], FCVTA[SU], SCVTF, UCVTF
  ({ r, fpSize }) => {
    const [rmode, opcode] = r.pick([[0, 0], [0, 1], [1, 0], [1, 1], [2, 0], [2, 1], [3, 0], [3, 1], [0, 4], [0, 5], [0, 2], [0, 3]] as const);
    const toFp = opcode === 2 || opcode === 3;
    return [enc.fpInt(r.bit(), ftype(r, fpSize), rmode, opcode, toFp ? src(r) : v(r), toFp ? v(r) : dest(r))];
  },
  // FMOV between general and FP registers: H with W or X, S with W, D with X, the top of a q register with X
  ({ r }) => {
    const [sf, type, rmode] = r.pick([[0, 3, 0], [1, 3, 0], [0, 0, 0], [1, 1, 0], [1, 2, 1]] as const);
    const toFp = r.bit();
    return [enc.fpInt(sf, type, rmode, toFp ? 7 : 6, toFp ? src(r) : v(r), toFp ? v(r) : dest(r))];
  },
  // fixed-point SCVTF, UCVTF, FCVTZS, FCVTZU
  ({ r, fpSize }) => {
    const sf = r.bit(), [rmode, opcode] = r.pick([[0, 2], [0, 3], [3, 0], [3, 1]] as const);
    const toFp = rmode === 0, scale = sf ? r.int(64) : r.range(32, 63);
    return [enc.fpFixed(sf, ftype(r, fpSize), rmode, opcode, scale, toFp ? src(r) : v(r), toFp ? v(r) : dest(r))];
  },
];

// --- SIMD&FP loads and stores ------------------------------------------------------------------

/** size:opc of LDR/STR b, h, s, d, q: [size, opc, log2 bytes] */
const FP_REGISTER_FORMS = [[0, 0, 0], [0, 1, 0], [1, 0, 1], [1, 1, 1], [2, 0, 2], [2, 1, 2], [3, 0, 3], [3, 1, 3], [0, 2, 4], [0, 3, 4]] as const;

export const loadsAndStoresFp: Gen[] = [
  ({ r }) => {
    const [size, opc, log2] = r.pick(FP_REGISTER_FORMS);
    const bytes = 1 << log2;
    switch (r.int(3)) {
      case 0: return [enc.ldstUnsigned(size, opc, r.int(32), BASE, v(r))];
      case 1: return [enc.ldstRegister(size, opc, INDEX, r.pick([0b010, 0b011, 0b110, 0b111]), r.bit(), BASE, v(r))];
      default: {
        const mode = r.pick([0, 1, 3]); // unscaled, post-index, pre-index
        const imm9 = mode !== 0 ? r.range(-4, 4) * 16 : scaledOffset(r, bytes, 240);
        return [enc.ldstImm9(size, opc, imm9, mode, BASE, v(r))];
      }
    }
  },
  // LDP/STP/LDNP/STNP of s, d, q
  ({ r }) => {
    const opc = r.int(3), size = 4 << opc, load = r.bit(), mode = r.int(4);
    const writeback = mode === 1 || mode === 3;
    const offset = writeback ? r.range(-4, 4) * 16 : scaledOffset(r, size, 240);
    const rt = v(r);
    let rt2 = v(r);
    while (load && rt2 === rt) rt2 = v(r);
    return [enc.pair(opc, mode, load, offset / size, rt2, BASE, rt)];
  },
  // LDR (literal) of s, d, q: an aligned target in the code already placed
  (c: Ctx) => {
    const here = 4 + c.wordsBefore * 4;
    const opc = c.r.int(3), size = 4 << opc;
    const slots = Math.floor(here / size);
    if (slots === 0) return [enc.fmovImm(ftype(c.r, c.fpSize), c.r.int(256), v(c.r))];
    return [enc.literal(opc, (c.r.int(slots) * size - here) / 4, v(c.r))];
  },
  // LD1-LD4/ST1-ST4 (multiple structures): post-index by the size (when it keeps BASE 16-aligned) or by INDEX
  ({ r }) => {
    const [opcode, regs] = r.pick([[0b0000, 4], [0b0010, 4], [0b0100, 3], [0b0110, 3], [0b0111, 1], [0b1000, 2], [0b1010, 2]] as const);
    const selem = opcode === 0 ? 4 : opcode === 0b0100 ? 3 : opcode === 0b1000 ? 2 : 1;
    const q = r.bit(), size = selem === 1 || q ? r.int(4) : r.int(3);
    const total = (q ? 16 : 8) * regs;
    const post = r.bit(), rm = post ? (total % 16 === 0 && r.bit() ? 31 : INDEX) : 0;
    return [enc.multiple(q, post, r.bit(), rm, opcode, size, BASE, v(r))];
  },
  // LD1-LD4/ST1-ST4 (single structure) and LD1R-LD4R: post-index by INDEX only
  ({ r }) => {
    const selem = r.range(1, 4), post = r.bit(), q = r.bit();
    const opcodeLow = (selem - 1) >> 1, R = (selem - 1) & 1;
    const kind = r.int(5);
    let opcode: number, s: number, size: number, load = r.bit();
    switch (kind) {
      case 0: opcode = 0b000; s = r.bit(); size = r.int(4); break;             // bytes
      case 1: opcode = 0b010; s = r.bit(); size = r.pick([0, 2]); break;       // halves
      case 2: opcode = 0b100; s = r.bit(); size = 0; break;                    // words
      case 3: opcode = 0b100; s = 0; size = 1; break;                          // doublewords
      default: opcode = 0b110; s = 0; size = r.int(4); load = 1; break;        // replicate
    }
    return [enc.single(q, post, load, R, post ? INDEX : 0, opcode | opcodeLow, s, size, BASE, v(r))];
  },
];
