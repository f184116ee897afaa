// Advanced SIMD floating-point, vector and scalar (insn[28] = 1): the FP opcodes of three same,
// two-register miscellaneous, across lanes, scalar pairwise, shift by immediate (fixed-point
// conversions) and indexed element, single and double precision (half-precision arithmetic is
// Armv8.2: unsupported). The arithmetic is fp.ts's, lane by lane; sz = insn[22] picks the format.

import { bit, field, rd, rm, rn } from './insn';
import { Status, commit, lane, ones, resultFrom, setLane } from './advsimd-lanes';
import {
  D, RA, RM, RN, RODD, RP, RZ, S, fixedToFp, fpAbs, fpAdd, fpCompareEq, fpCompareGe, fpCompareGt, fpConvert,
  fpDiv, fpMaxMin, fpMaxMinNum, fpMul, fpMulAdd, fpNeg, fpRSqrtStep, fpRecipStep, fpRoundInt, fpSqrt, fpSub,
  fpToFixed, fpcrRounding,
} from './fp';

/** The format of an FP element: sz = insn[22] (single or double). */
@inline function formatOf(insn: u32): u32 {
  return bit(insn, 22) ? D : S;
}

/** Elements of a vector (Q) or the one of a scalar form. */
@inline function elementsOf(insn: u32, fmt: u32): u32 {
  return bit(insn, 28) ? 1 : (bit(insn, 30) ? 16 : 8) >> fmt;
}

/** Bytes the result takes. */
@inline function bytesOf(insn: u32, fmt: u32): u32 {
  return bit(insn, 28) ? <u32>1 << fmt : bit(insn, 30) ? 16 : 8;
}

/** Double-precision vectors are 128-bit only. */
@inline function reservedSize(insn: u32, fmt: u32): bool {
  return fmt == D && !bit(insn, 28) && !bit(insn, 30);
}

// The three-same operations, by U:a:opcode<2:0> (a = size<1>, opcode 11xxx).
const FMAXNM = 0b000, FMLA = 0b001, FADD = 0b010, FMULX = 0b011, FCMEQ = 0b100, FMAX = 0b110, FRECPS = 0b111;
const FMINNM = 0b1000, FMLS = 0b1001, FSUB = 0b1010, FMIN = 0b1110, FRSQRTS = 0b1111;
const FMAXNMP = 0b10000, FADDP = 0b10010, FMUL = 0b10011, FCMGE = 0b10100, FACGE = 0b10101, FMAXP = 0b10110, FDIV = 0b10111;
const FMINNMP = 0b11000, FABD = 0b11010, FCMGT = 0b11100, FACGT = 0b11101, FMINP = 0b11110;

/** One lane of a three-same operation `op` (pairwise ones as their element operation). */
function threeSameLane(op: u32, a: u64, b: u64, acc: u64, fmt: u32): u64 {
  switch (op) {
    case FMAXNM: case FMAXNMP: return fpMaxMinNum(a, b, fmt, true);
    case FMINNM: case FMINNMP: return fpMaxMinNum(a, b, fmt, false);
    case FMLA: return fpMulAdd(acc, a, b, fmt);
    case FMLS: return fpMulAdd(acc, fpNeg(a, fmt), b, fmt);
    case FADD: case FADDP: return fpAdd(a, b, fmt);
    case FSUB: return fpSub(a, b, fmt);
    case FMULX: return fpMul(a, b, fmt, true);
    case FMUL: return fpMul(a, b, fmt);
    case FDIV: return fpDiv(a, b, fmt);
    case FABD: return fpAbs(fpSub(a, b, fmt), fmt);
    case FMAX: case FMAXP: return fpMaxMin(a, b, fmt, true);
    case FMIN: case FMINP: return fpMaxMin(a, b, fmt, false);
    case FRECPS: return fpRecipStep(a, b, fmt);
    case FRSQRTS: return fpRSqrtStep(a, b, fmt);
    case FCMEQ: return fpCompareEq(a, b, fmt) ? ones(fmt) : 0;
    case FCMGE: return fpCompareGe(a, b, fmt) ? ones(fmt) : 0;
    case FCMGT: return fpCompareGt(a, b, fmt) ? ones(fmt) : 0;
    case FACGE: return fpCompareGe(fpAbs(a, fmt), fpAbs(b, fmt), fmt) ? ones(fmt) : 0;
    default: return fpCompareGt(fpAbs(a, fmt), fpAbs(b, fmt), fmt) ? ones(fmt) : 0; // FACGT
  }
}

/** Advanced SIMD (scalar) three same, FP opcodes (11xxx). */
export function fpThreeSame(insn: u32): Status {
  const op = field(insn, 11, 3) | (field(insn, 23, 1) << 3) | (field(insn, 29, 1) << 4);
  const fmt = formatOf(insn), scalar = bit(insn, 28);
  const pairwise = op == FMAXNMP || op == FADDP || op == FMAXP || op == FMINNMP || op == FMINP;
  switch (op) {
    case 0b00101: case 0b01101: case 0b10001: case 0b11001: return Status.UNSUPPORTED; // FMLAL, FMLSL, FMLAL2, FMLSL2 (Armv8.2)
    case 0b01011: case 0b01100: case 0b11011: case 0b11111: return Status.UNDEFINED;
    default: break;
  }
  if (scalar) {
    switch (op) {
      case FMULX: case FCMEQ: case FRECPS: case FRSQRTS: case FCMGE: case FACGE: case FABD: case FCMGT: case FACGT: break;
      default: return Status.UNDEFINED;
    }
  }
  if (reservedSize(insn, fmt)) return Status.UNDEFINED;
  const d = rd(insn), n = rn(insn), m = rm(insn), elements = elementsOf(insn, fmt);
  for (let i: u32 = 0; i < elements; i++) {
    let r: u64;
    if (pairwise) { // adjacent pairs of Vm:Vn, Vn's first
      const half = elements >> 1, src = i < half ? n : m, j = (i % half) << 1;
      r = threeSameLane(op, lane(src, j, fmt), lane(src, j + 1, fmt), 0, fmt);
    } else {
      r = threeSameLane(op, lane(n, i, fmt), lane(m, i, fmt), lane(d, i, fmt), fmt);
    }
    setLane(i, fmt, r);
  }
  commit(d, bytesOf(insn, fmt));
  return Status.DONE;
}

/** Advanced SIMD scalar pairwise, FP: FMAXNMP, FADDP, FMAXP, FMINNMP, FMINP of Vn's two elements. */
export function fpScalarPairwise(insn: u32): Status {
  if (!bit(insn, 29)) return Status.UNSUPPORTED; // the half-precision forms (Armv8.2)
  const opcode = field(insn, 12, 5), min = bit(insn, 23), fmt = formatOf(insn), n = rn(insn);
  const a = lane(n, 0, fmt), b = lane(n, 1, fmt);
  let r: u64;
  if (opcode == 0b01100) r = fpMaxMinNum(a, b, fmt, !min);
  else if (opcode == 0b01101 && !min) r = fpAdd(a, b, fmt);
  else if (opcode == 0b01111) r = fpMaxMin(a, b, fmt, !min);
  else return Status.UNDEFINED;
  setLane(0, fmt, r);
  commit(rd(insn), <u32>1 << fmt);
  return Status.DONE;
}

/** Advanced SIMD across lanes, FP: FMAXNMV, FMINNMV, FMAXV, FMINV of a 4S vector, as a tree. */
export function fpAcrossLanes(insn: u32): Status {
  if (!bit(insn, 29)) return Status.UNSUPPORTED; // the half-precision forms (Armv8.2)
  if (bit(insn, 22) || !bit(insn, 30)) return Status.UNDEFINED;
  const n = rn(insn), num = field(insn, 12, 5) == 0b01100, max = !bit(insn, 23);
  // Reduce: op(op(e0, e1), op(e2, e3))
  const lo = reduce(lane(n, 0, S), lane(n, 1, S), num, max), hi = reduce(lane(n, 2, S), lane(n, 3, S), num, max);
  setLane(0, S, reduce(lo, hi, num, max));
  commit(rd(insn), 4);
  return Status.DONE;
}

@inline function reduce(a: u64, b: u64, num: bool, max: bool): u64 {
  return num ? fpMaxMinNum(a, b, S, max) : fpMaxMin(a, b, S, max);
}

/** A comparison with zero: FCMGT, FCMGE, FCMEQ, FCMLE, FCMLT #0.0 (by U:opcode). */
function compareZero(uop: u32, a: u64, fmt: u32): bool {
  switch (uop) {
    case 0b001100: return fpCompareGt(a, 0, fmt);
    case 0b101100: return fpCompareGe(a, 0, fmt);
    case 0b001101: return fpCompareEq(a, 0, fmt);
    case 0b101101: return fpCompareGe(0, a, fmt); // FCMLE: 0 >= a
    default: return fpCompareGt(0, a, fmt);       // FCMLT: 0 > a
  }
}

/** The rounding mode of FCVT[NPMZA][SU] and FRINT[NPMZA] by opcode<0>:a:o1 as their encodings pair them. */
function conversionRounding(opcode: u32, a: bool): u32 {
  // 11000 FRINTN/FRINTP, 11001 FRINTM/FRINTZ, 11010 FCVTN?/FCVTP?, 11011 FCVTM?/FCVTZ?, 11100 FCVTA?
  const low = opcode & 1;
  if (opcode == 0b11100) return RA;
  if (low == 0) return a ? RP : RN;
  return a ? RZ : RM;
}

/** Advanced SIMD (scalar) two-register miscellaneous, FP opcodes. */
export function fpTwoRegMisc(insn: u32): Status {
  const opcode = field(insn, 12, 5), u = bit(insn, 29), a = bit(insn, 23), scalar = bit(insn, 28);
  const uop = opcode | (<u32>u << 5), q = bit(insn, 30), d = rd(insn), n = rn(insn);
  // FCVTN, FCVTXN (narrowing), FCVTL (widening): single <-> half (sz = 0), double <-> single (sz = 1)
  if (opcode == 0b10110 || opcode == 0b10111) {
    if (a || (opcode == 0b10111 && (u || scalar)) || (scalar && !u)) return Status.UNDEFINED;
    const wide = bit(insn, 22) ? D : S, narrow = wide - 1;
    if (u && wide != D) return Status.UNDEFINED; // FCVTXN: double to single only
    const part: u32 = !scalar && q ? 1 : 0, elements: u32 = scalar ? 1 : 8 >> narrow;
    if (opcode == 0b10111) { // FCVTL{2}
      for (let i: u32 = 0; i < elements; i++) setLane(i, wide, fpConvert(lane(n, part * elements + i, narrow), narrow, wide, fpcrRounding()));
      commit(d, 16);
      return Status.DONE;
    }
    if (part != 0) resultFrom(d);
    const rounding = u ? RODD : fpcrRounding();
    for (let i: u32 = 0; i < elements; i++) setLane(part * elements + i, narrow, fpConvert(lane(n, i, wide), wide, narrow, rounding));
    commit(d, scalar ? <u32>1 << narrow : 8 << part);
    return Status.DONE;
  }
  const fmt = formatOf(insn);
  let valid: bool;
  switch (uop) {
    case 0b011000: case 0b011001: case 0b111001: valid = !scalar; break; // FRINTN/P, FRINTM/Z, FRINTX/I
    case 0b111000: valid = !scalar && !a; break;                          // FRINTA
    case 0b011010: case 0b111010: case 0b011011: case 0b111011: valid = true; break; // FCVT[NPMZ][SU]
    case 0b011100: case 0b111100: valid = !a; break;                      // FCVTA[SU] (a = 1: URECPE, URSQRTE)
    case 0b011101: case 0b111101: valid = !a; break;                      // SCVTF, UCVTF (a = 1: FRECPE, FRSQRTE)
    case 0b001100: case 0b101100: case 0b001101: case 0b101101: case 0b001110: valid = a; break; // compares with 0
    case 0b001111: case 0b101111: valid = a && !scalar; break;             // FABS, FNEG
    case 0b111111: valid = a && !scalar; break;                           // FSQRT
    default: valid = false;
  }
  if (!valid) {
    // Not modelled: the estimates URECPE, URSQRTE, FRECPE, FRSQRTE, FRECPX; FRINT32*, FRINT64* (Armv8.5)
    const estimate = ((opcode == 0b11100 || opcode == 0b11101) && a) || (uop == 0b011111 && a && scalar);
    return estimate || (opcode == 0b11110 && !a) ? Status.UNSUPPORTED : Status.UNDEFINED;
  }
  if (reservedSize(insn, fmt)) return Status.UNDEFINED;
  const elements = elementsOf(insn, fmt), rounding = conversionRounding(opcode, a), bits: u32 = 8 << fmt;
  for (let i: u32 = 0; i < elements; i++) {
    const x = lane(n, i, fmt);
    let r: u64;
    switch (opcode) {
      case 0b11000: case 0b11001:
        if (uop == 0b111001) r = fpRoundInt(x, fmt, fpcrRounding(), !a); // FRINTX (exact), FRINTI
        else r = fpRoundInt(x, fmt, u ? RA : rounding, false);
        break;
      case 0b11010: case 0b11011: case 0b11100: r = fpToFixed(x, fmt, 0, u, bits, rounding); break;
      case 0b11101: r = fixedToFp(x, bits, u, 0, fmt, fpcrRounding()); break;
      case 0b01111: r = u ? fpNeg(x, fmt) : fpAbs(x, fmt); break;
      case 0b11111: r = fpSqrt(x, fmt); break;
      default: r = compareZero(uop, x, fmt) ? ones(fmt) : 0;
    }
    setLane(i, fmt, r);
  }
  commit(d, bytesOf(insn, fmt));
  return Status.DONE;
}

/** Shift by immediate, FP: SCVTF, UCVTF, FCVTZS, FCVTZU (vector and scalar, fixed-point). */
export function fpShiftImmediate(insn: u32): Status {
  const immh = field(insn, 19, 4), u = bit(insn, 29);
  if (immh < 4) return immh < 2 ? Status.UNDEFINED : Status.UNSUPPORTED; // half precision: Armv8.2
  const fmt = immh >= 8 ? D : S, bits: u32 = 8 << fmt;
  if (reservedSize(insn, fmt)) return Status.UNDEFINED;
  const fbits = 2 * bits - field(insn, 16, 7), toFp = field(insn, 11, 5) == 0b11100;
  const elements = elementsOf(insn, fmt), n = rn(insn);
  for (let i: u32 = 0; i < elements; i++) {
    const x = lane(n, i, fmt);
    setLane(i, fmt, toFp ? fixedToFp(x, bits, u, fbits, fmt, fpcrRounding()) : fpToFixed(x, fmt, fbits, u, bits, RZ));
  }
  commit(rd(insn), bytesOf(insn, fmt));
  return Status.DONE;
}

/** Indexed element, FP: FMLA, FMLS, FMUL, FMULX by element (vector and scalar). */
export function fpIndexedElement(insn: u32): Status {
  const size = field(insn, 22, 2), opcode = field(insn, 12, 4), u = bit(insn, 29);
  if (size == 0) return Status.UNSUPPORTED; // half precision: Armv8.2
  if (size == 1 || (u && opcode != 0b1001)) return u ? Status.UNSUPPORTED : Status.UNDEFINED; // FCMLA (Armv8.3)
  const fmt = formatOf(insn), l = <u32>bit(insn, 21), h = <u32>bit(insn, 11);
  if (fmt == D && l) return Status.UNDEFINED;
  if (reservedSize(insn, fmt)) return Status.UNDEFINED;
  const index = fmt == D ? h : (h << 1) | l, m = field(insn, 16, 5); // M:Rm
  const d = rd(insn), n = rn(insn), elements = elementsOf(insn, fmt);
  const y = lane(m, index, fmt);
  for (let i: u32 = 0; i < elements; i++) {
    const x = lane(n, i, fmt);
    let r: u64;
    if (opcode == 0b0001) r = fpMulAdd(lane(d, i, fmt), x, y, fmt);
    else if (opcode == 0b0101) r = fpMulAdd(lane(d, i, fmt), fpNeg(x, fmt), y, fmt);
    else r = fpMul(x, y, fmt, u);
    setLane(i, fmt, r);
  }
  commit(d, bytesOf(insn, fmt));
  return Status.DONE;
}
