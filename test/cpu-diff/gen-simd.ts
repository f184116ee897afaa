/**
 * Random Advanced SIMD instructions for the differential test: every class, every size and form an
 * Armv8.0 core allocates (crypto and the later extensions aside), nothing UNPREDICTABLE, on any of
 * v0..v31 (the harness loads and compares them all, with FPCR and FPSR: QC and the FP flags).
 * Lane-boundary values come from the registers: gen.ts laneValues (per-lane minimum, maximum, -1, 0,
 * 1, small table indexes) and gen-fp.ts (FP edge values, any FPCR).
 */
import { type Gen, type Rng, dest, src } from './gen-base';

const u = (v: number): number => v >>> 0;

/** Any vector register. */
const vreg = (r: Rng): number => r.int(32);

/** Common fields: Q (insn[30]), U (insn[29]), size (insn[23:22]), Rm, Rn, Rd. */
function fields(base: number, q: number, uBit: number, size: number, rm: number, rn: number, rd: number): number {
  return u(base | (q << 30) | (uBit << 29) | (size << 22) | (rm << 16) | (rn << 5) | rd);
}

/** A size in `sizes`; 64-bit elements only in a 128-bit vector (so Q is 1 with size 3). */
function sizeAndQ(r: Rng, sizes: readonly number[], scalar: boolean): [number, number] {
  const size = r.pick(sizes);
  return [size, scalar || size === 3 ? 1 : r.bit()];
}

type Form = readonly [uBit: number, opcode: number, sizes: readonly number[]];
const ALL = [0, 1, 2, 3], BHS = [0, 1, 2], HS = [1, 2], D = [3], B = [0];

// Three same, integer (opcode insn[15:11]); the logical ops (00011) use size as their opcode.
const THREE_SAME: Form[] = [
  ...[0, 1].flatMap((ub): Form[] => [
    [ub, 0b00000, BHS], [ub, 0b00001, ALL], [ub, 0b00010, BHS], [ub, 0b00011, ALL], [ub, 0b00100, BHS],
    [ub, 0b00101, ALL], [ub, 0b00110, ALL], [ub, 0b00111, ALL], [ub, 0b01000, ALL], [ub, 0b01001, ALL],
    [ub, 0b01010, ALL], [ub, 0b01011, ALL], [ub, 0b01100, BHS], [ub, 0b01101, BHS], [ub, 0b01110, BHS],
    [ub, 0b01111, BHS], [ub, 0b10000, ALL], [ub, 0b10001, ALL], [ub, 0b10010, BHS], [ub, 0b10100, BHS],
    [ub, 0b10101, BHS], [ub, 0b10110, HS],
  ]),
  [0, 0b10011, BHS], [1, 0b10011, B], [0, 0b10111, ALL],
];
const SCALAR_THREE_SAME: Form[] = [0, 1].flatMap((ub): Form[] => [
  [ub, 0b00001, ALL], [ub, 0b00101, ALL], [ub, 0b01001, ALL], [ub, 0b01011, ALL], [ub, 0b00110, D], [ub, 0b00111, D],
  [ub, 0b01000, D], [ub, 0b01010, D], [ub, 0b10000, D], [ub, 0b10001, D], [ub, 0b10110, HS],
]);
// Three different (opcode insn[15:12])
const THREE_DIFF: Form[] = [
  ...[0, 1].flatMap((ub): Form[] => [0, 1, 2, 3, 4, 5, 6, 7, 8, 10, 12].map((op): Form => [ub, op, BHS])),
  [0, 0b1001, HS], [0, 0b1011, HS], [0, 0b1101, HS], [0, 0b1110, [0, 3]],
];
const SCALAR_THREE_DIFF: Form[] = [[0, 0b1001, HS], [0, 0b1011, HS], [0, 0b1101, HS]];
// Two-register miscellaneous (opcode insn[16:12]), integer
const TWO_MISC: Form[] = [
  [0, 0b00000, BHS], [1, 0b00000, [0, 1]], [0, 0b00001, B], [0, 0b00010, BHS], [1, 0b00010, BHS], [0, 0b00011, ALL],
  [1, 0b00011, ALL], [0, 0b00100, BHS], [1, 0b00100, BHS], [0, 0b00101, B], [1, 0b00101, [0, 1]], [0, 0b00110, BHS],
  [1, 0b00110, BHS], [0, 0b00111, ALL], [1, 0b00111, ALL], [0, 0b01000, ALL], [1, 0b01000, ALL], [0, 0b01001, ALL],
  [1, 0b01001, ALL], [0, 0b01010, ALL], [0, 0b01011, ALL], [1, 0b01011, ALL], [0, 0b10010, BHS], [1, 0b10010, BHS],
  [1, 0b10011, BHS], [0, 0b10100, BHS], [1, 0b10100, BHS],
];
const SCALAR_TWO_MISC: Form[] = [
  [0, 0b00011, ALL], [1, 0b00011, ALL], [0, 0b00111, ALL], [1, 0b00111, ALL], [0, 0b01000, D], [1, 0b01000, D],
  [0, 0b01001, D], [1, 0b01001, D], [0, 0b01010, D], [0, 0b01011, D], [1, 0b01011, D], [1, 0b10010, BHS],
  [0, 0b10100, BHS], [1, 0b10100, BHS],
];
// Across lanes (opcode insn[16:12]): sizes 0, 1, and 2 in a 128-bit vector
const ACROSS: Form[] = [[0, 0b00011, BHS], [1, 0b00011, BHS], [0, 0b01010, BHS], [1, 0b01010, BHS], [0, 0b11010, BHS], [1, 0b11010, BHS], [0, 0b11011, BHS]];
// Indexed element (opcode insn[15:12]), integer
const INDEXED: Form[] = [
  [1, 0b0000, HS], [0, 0b0010, HS], [1, 0b0010, HS], [0, 0b0011, HS], [1, 0b0100, HS], [0, 0b0110, HS], [1, 0b0110, HS],
  [0, 0b0111, HS], [0, 0b1000, HS], [0, 0b1010, HS], [1, 0b1010, HS], [0, 0b1011, HS], [0, 0b1100, HS], [0, 0b1101, HS],
];
const SCALAR_INDEXED: Form[] = [[0, 0b0011, HS], [0, 0b0111, HS], [0, 0b1011, HS], [0, 0b1100, HS], [0, 0b1101, HS]];

/** Shift by immediate (opcode insn[15:11]): kind says how immh:immb reads. */
type ShiftKind = 'right' | 'left' | 'narrow' | 'long';
type ShiftForm = readonly [uBit: number, opcode: number, kind: ShiftKind];
const SHIFT_VECTOR: ShiftForm[] = [
  [0, 0b00000, 'right'], [1, 0b00000, 'right'], [0, 0b00010, 'right'], [1, 0b00010, 'right'], [0, 0b00100, 'right'],
  [1, 0b00100, 'right'], [0, 0b00110, 'right'], [1, 0b00110, 'right'], [1, 0b01000, 'right'], [0, 0b01010, 'left'],
  [1, 0b01010, 'left'], [1, 0b01100, 'left'], [0, 0b01110, 'left'], [1, 0b01110, 'left'],
  [0, 0b10000, 'narrow'], [1, 0b10000, 'narrow'], [0, 0b10001, 'narrow'], [1, 0b10001, 'narrow'],
  [0, 0b10010, 'narrow'], [1, 0b10010, 'narrow'], [0, 0b10011, 'narrow'], [1, 0b10011, 'narrow'],
  [0, 0b10100, 'long'], [1, 0b10100, 'long'],
];
/** The scalar forms: the plain shifts and inserts of 64-bit elements, saturating ones of any size. */
const SHIFT_SCALAR: ShiftForm[] = SHIFT_VECTOR.filter(([ub, op, kind]) => kind !== 'long' && !(ub === 0 && (op === 0b10000 || op === 0b10001)));
const SCALAR_ANY_SIZE = new Set([0b01100, 0b01110]);

function shiftImmediate(r: Rng, scalar: boolean): number {
  const [ub, opcode, kind] = r.pick(scalar ? SHIFT_SCALAR : SHIFT_VECTOR);
  let size: number, q: number;
  if (kind === 'narrow' || kind === 'long') {
    size = r.int(3);
    q = scalar ? 1 : r.bit();
  } else if (scalar) {
    size = SCALAR_ANY_SIZE.has(opcode) ? r.int(4) : 3;
    q = 1;
  } else {
    [size, q] = sizeAndQ(r, ALL, false);
  }
  const esize = 8 << size;
  // right shifts 1..esize (narrowing: of the 2 * esize element, still 1..esize), left shifts 0..esize-1
  const amount = kind === 'right' || kind === 'narrow' ? r.range(1, esize) : r.int(esize);
  const immhb = kind === 'right' || kind === 'narrow' ? 2 * esize - amount : esize + amount;
  const base = scalar ? 0x5f000400 : 0x0f000400;
  return u(base | (q << 30) | (ub << 29) | (immhb << 16) | (opcode << 11) | (vreg(r) << 5) | vreg(r));
}

function indexed(r: Rng, scalar: boolean): number {
  const [ub, opcode, sizes] = r.pick(scalar ? SCALAR_INDEXED : INDEXED);
  const size = r.pick(sizes), q = scalar ? 1 : r.bit();
  const index = r.int(size === 1 ? 8 : 4);
  // 16-bit: index H:L:M, Vm in v0..v15; 32-bit: index H:L, Vm M:Vm<3:0>
  const hlm = size === 1 ? index : index << 1;
  const h = hlm >> 2, l = (hlm >> 1) & 1, m = hlm & 1;
  const base = scalar ? 0x5f000000 : 0x0f000000;
  return u(base | (q << 30) | (ub << 29) | (size << 22) | (l << 21) | (m << 20) | (vreg(r) << 16) | (opcode << 12) | (h << 11) | (vreg(r) << 5) | vreg(r));
}

/** A form of a class with Rm (three same, three different) or without (`hasRm` false: two-register miscellaneous). */
function form(r: Rng, forms: readonly Form[], base: number, opcodeShift: number, scalar: boolean, hasRm = true): number {
  const [ub, opcode, sizes] = r.pick(forms);
  const [size, q] = sizeAndQ(r, sizes, scalar);
  return fields(base | (opcode << opcodeShift), q, ub, size, hasRm ? vreg(r) : 0, vreg(r), vreg(r));
}

function copy(r: Rng): number {
  const size = r.int(4), index = r.int(16 >> size), imm5 = ((index << 1) | 1) << size;
  const enc = (q: number, op: number, imm4: number, rn: number, rd: number): number =>
    u(0x0e000400 | (q << 30) | (op << 29) | ((imm5 & 31) << 16) | (imm4 << 11) | (rn << 5) | rd);
  switch (r.int(7)) {
    case 0: return enc(size === 3 ? 1 : r.bit(), 0, 0b0000, vreg(r), vreg(r));                  // DUP (element)
    case 1: return enc(size === 3 ? 1 : r.bit(), 0, 0b0001, src(r), vreg(r));                  // DUP (general)
    case 2: return enc(1, 0, 0b0011, src(r), vreg(r));                                         // INS (general)
    case 3: return enc(1, 1, r.int(16 >> size) << size, vreg(r), vreg(r));                      // INS (element)
    case 4: {                                                                                    // SMOV
      const s = r.int(3), i = r.int(16 >> s), q = s === 2 ? 1 : r.bit();
      return u(0x0e002c00 | (q << 30) | ((((i << 1) | 1) << s) << 16) | (vreg(r) << 5) | dest(r));
    }
    case 5: {                                                                                    // UMOV
      const s = r.int(4), i = r.int(16 >> s);
      return u(0x0e003c00 | ((s === 3 ? 1 : 0) << 30) | ((((i << 1) | 1) << s) << 16) | (vreg(r) << 5) | dest(r));
    }
    default: return u(0x5e000400 | ((imm5 & 31) << 16) | (vreg(r) << 5) | vreg(r));            // DUP (element), scalar
  }
}

function modifiedImmediate(r: Rng): number {
  const op = r.bit(), cmode = r.int(16), q = cmode === 15 && op ? 1 : r.bit();
  const imm8 = r.pick([0, 0xff, 0x80, 0x7f, 0x01, r.int(256)]);
  return u(0x0f000400 | (q << 30) | (op << 29) | ((imm8 >> 5) << 16) | (cmode << 12) | ((imm8 & 31) << 5) | vreg(r));
}

function permute(r: Rng): number {
  const [size, q] = sizeAndQ(r, ALL, false);
  return fields(0x0e000800 | (r.pick([1, 2, 3, 5, 6, 7]) << 12), q, 0, size, vreg(r), vreg(r), vreg(r));
}

function extract(r: Rng): number {
  const q = r.bit();
  return fields(0x2e000000 | (r.int(q ? 16 : 8) << 11), q, 0, 0, vreg(r), vreg(r), vreg(r));
}

function tableLookup(r: Rng): number {
  return fields(0x0e000000 | (r.int(4) << 13) | (r.bit() << 12), r.bit(), 0, 0, vreg(r), vreg(r), vreg(r));
}

// The FP forms: U, a (size<1>), opcode, as the classes' tables list them (single and double precision).
type FpForm = readonly [uBit: number, a: number, opcode: number];
const FP_THREE_SAME: FpForm[] = [
  [0, 0, 0b11000], [0, 0, 0b11001], [0, 0, 0b11010], [0, 0, 0b11011], [0, 0, 0b11100], [0, 0, 0b11110], [0, 0, 0b11111],
  [0, 1, 0b11000], [0, 1, 0b11001], [0, 1, 0b11010], [0, 1, 0b11110], [0, 1, 0b11111],
  [1, 0, 0b11000], [1, 0, 0b11010], [1, 0, 0b11011], [1, 0, 0b11100], [1, 0, 0b11101], [1, 0, 0b11110], [1, 0, 0b11111],
  [1, 1, 0b11000], [1, 1, 0b11010], [1, 1, 0b11100], [1, 1, 0b11101], [1, 1, 0b11110],
];
const FP_SCALAR_THREE_SAME: FpForm[] = [
  [0, 0, 0b11011], [0, 0, 0b11100], [0, 0, 0b11111], [0, 1, 0b11111], [1, 0, 0b11100], [1, 0, 0b11101], [1, 1, 0b11010],
  [1, 1, 0b11100], [1, 1, 0b11101],
];
const FP_CONVERSIONS: FpForm[] = [0, 1].flatMap((ub): FpForm[] => [
  [ub, 0, 0b11010], [ub, 1, 0b11010], [ub, 0, 0b11011], [ub, 1, 0b11011], [ub, 0, 0b11100], [ub, 0, 0b11101],
]);
const FP_COMPARE_ZERO: FpForm[] = [[0, 1, 0b01100], [1, 1, 0b01100], [0, 1, 0b01101], [1, 1, 0b01101], [0, 1, 0b01110]];
const FP_TWO_MISC: FpForm[] = [
  ...FP_CONVERSIONS, ...FP_COMPARE_ZERO,
  [0, 0, 0b11000], [0, 1, 0b11000], [1, 0, 0b11000], [0, 0, 0b11001], [0, 1, 0b11001], [1, 0, 0b11001], [1, 1, 0b11001],
  [0, 1, 0b01111], [1, 1, 0b01111], [1, 1, 0b11111],
];
const FP_SCALAR_TWO_MISC: FpForm[] = [...FP_CONVERSIONS, ...FP_COMPARE_ZERO];

/** An FP form of a class (base: its encoding with every variable field 0). */
function fpForm(r: Rng, forms: readonly FpForm[], base: number, hasRm: boolean, scalar: boolean): number {
  const [ub, a, opcode] = r.pick(forms);
  const sz = r.bit(), q = scalar || sz ? 1 : r.bit();
  const opcodeShift = hasRm ? 11 : 12;
  return fields(base | (opcode << opcodeShift), q, ub, (a << 1) | sz, hasRm ? vreg(r) : 0, vreg(r), vreg(r));
}

/** FCVTN, FCVTXN, FCVTL (vector, either half) and FCVTXN (scalar). */
function fpConvertPrecision(r: Rng): number {
  if (r.int(4) === 0) return fields(0x5e200800 | (0b10110 << 12), 1, 1, 1, 0, vreg(r), vreg(r)); // FCVTXN (scalar)
  const [ub, opcode] = r.pick([[0, 0b10110], [1, 0b10110], [0, 0b10111]] as const);
  const sz = ub ? 1 : r.bit();
  return fields(0x0e200800 | (opcode << 12), r.bit(), ub, sz, 0, vreg(r), vreg(r));
}

/** SCVTF, UCVTF, FCVTZS, FCVTZU with fbits (vector and scalar). */
function fpFixedPoint(r: Rng): number {
  const scalar = r.bit(), double = r.bit(), q = scalar || double ? 1 : r.bit();
  const bits = double ? 64 : 32, fbits = r.range(1, bits);
  const base = scalar ? 0x5f000400 : 0x0f000400;
  return u(base | (q << 30) | (r.bit() << 29) | ((2 * bits - fbits) << 16) | (r.pick([0b11100, 0b11111]) << 11) | (vreg(r) << 5) | vreg(r));
}

/** FMLA, FMLS, FMUL, FMULX by element (vector and scalar). */
function fpIndexed(r: Rng): number {
  const scalar = r.bit(), sz = r.bit(), q = scalar || sz ? 1 : r.bit();
  const [ub, opcode] = r.pick([[0, 0b0001], [0, 0b0101], [0, 0b1001], [1, 0b1001]] as const);
  const h = r.bit(), l = sz ? 0 : r.bit();
  const base = scalar ? 0x5f000000 : 0x0f000000;
  return u(base | (q << 30) | (ub << 29) | ((2 | sz) << 22) | (l << 21) | (vreg(r) << 16) | (opcode << 12) | (h << 11) | (vreg(r) << 5) | vreg(r));
}

/** FMAXNMV, FMINNMV, FMAXV, FMINV (4S); FADDP, FMAXP, FMINP, FMAXNMP, FMINNMP (scalar). */
function fpReductions(r: Rng): number {
  if (r.bit()) return fields(0x0e300800 | (r.pick([0b01100, 0b01111]) << 12), 1, 1, r.bit() << 1, 0, vreg(r), vreg(r));
  const [a, opcode] = r.pick([[0, 0b01100], [1, 0b01100], [0, 0b01101], [0, 0b01111], [1, 0b01111]] as const);
  return fields(0x5e300800 | (opcode << 12), 1, 1, (a << 1) | r.bit(), 0, vreg(r), vreg(r));
}

const FP_CLASSES: ((r: Rng) => number)[] = [
  (r) => fpForm(r, FP_THREE_SAME, 0x0e200400, true, false),
  (r) => fpForm(r, FP_THREE_SAME, 0x0e200400, true, false),
  (r) => fpForm(r, FP_SCALAR_THREE_SAME, 0x5e200400, true, true),
  (r) => fpForm(r, FP_TWO_MISC, 0x0e200800, false, false),
  (r) => fpForm(r, FP_SCALAR_TWO_MISC, 0x5e200800, false, true),
  fpConvertPrecision,
  fpFixedPoint,
  fpIndexed,
  fpReductions,
];

/** One Advanced SIMD instruction of each class (the FP ones together count three). */
const CLASSES: ((r: Rng) => number)[] = [
  (r) => form(r, THREE_SAME, 0x0e200400, 11, false),
  (r) => form(r, SCALAR_THREE_SAME, 0x5e200400, 11, true),
  (r) => {
    const [ub, opcode, sizes] = r.pick(THREE_DIFF);
    return fields(0x0e200000 | (opcode << 12), r.bit(), ub, r.pick(sizes), vreg(r), vreg(r), vreg(r));
  },
  (r) => form(r, SCALAR_THREE_DIFF, 0x5e200000, 12, true),
  (r) => form(r, TWO_MISC, 0x0e200800, 12, false, false),
  (r) => form(r, SCALAR_TWO_MISC, 0x5e200800, 12, true, false),
  (r) => {
    const [ub, opcode, sizes] = r.pick(ACROSS);
    const size = r.pick(sizes);
    return fields(0x0e300800 | (opcode << 12), size === 2 ? 1 : r.bit(), ub, size, 0, vreg(r), vreg(r));
  },
  (r) => fields(0x5e300800 | (0b11011 << 12), 1, 0, 3, 0, vreg(r), vreg(r)), // ADDP (scalar)
  (r) => shiftImmediate(r, false),
  (r) => shiftImmediate(r, true),
  (r) => indexed(r, false),
  (r) => indexed(r, true),
  copy,
  modifiedImmediate,
  permute,
  extract,
  tableLookup,
  (r) => r.pick(FP_CLASSES)(r),
  (r) => r.pick(FP_CLASSES)(r),
  (r) => r.pick(FP_CLASSES)(r),
];

/** The Advanced SIMD classes, for gen.ts's mixes. */
export const advancedSimd: Gen[] = CLASSES.map((g): Gen => ({ r }) => [g(r)]);
