// Data processing -- scalar floating-point (op0 = x0x1 in the SIMD&FP group: insn[30] = 0,
// insn[28] = 1): FMOV, conversions, FRINT*, arithmetic, compares, FCSEL, on half, single and
// double values in the low bits of the FP/SIMD registers (a write zeroes the rest of the register).
// The arithmetic itself is fp.ts's.

import { Op } from './ops';
import { bit, field, rd, rm, rn, ra } from './insn';
import { Slot, reg, setReg, slot, vregAddress } from './state';
import { condition, setNzcv } from './flags';
import { fpTrapped } from './sysregs';
import { simdFp, undefinedInsn, unsupported } from './exceptions';
import {
  D, FPCR_AHP, H, RA, RM, RN, RP, RZ, S, fixedToFp, fpAbs, fpAdd, fpCompare, fpConvert, fpDiv, fpMaxMin, fpMaxMinNum, fpMul,
  fpMulAdd, fpNeg, fpRoundInt, fpSqrt, fpSub, fpToFixed, fpcrRounding,
} from './fp';

/** The format an ftype field names: 00 single, 01 double, 11 half; 0 for 10 (unallocated here). */
@inline function formatOfType(ftype: u32): u32 {
  return ftype == 0 ? S : ftype == 1 ? D : ftype == 3 ? H : 0;
}

/** The format of ftype = insn[23:22]. */
@inline function formatOf(insn: u32): u32 {
  return formatOfType(field(insn, 22, 2));
}

/** The low 64 bits of vn. */
@inline export function vLow(n: u32): u64 {
  return load<u64>(vregAddress(n));
}

/** vn = the `1 << sizeLog2`-byte value v (sizeLog2 <= 3), the rest of the register zeroed. */
@inline export function setVScalar(n: u32, v: u64, sizeLog2: u32): void {
  const a = vregAddress(n);
  store<u64>(a, sizeLog2 == 3 ? v : v & ((<u64>1 << (8 << sizeLog2)) - 1));
  store<u64>(a, 0, 8);
}

/** The class of a scalar FP instruction (the caller checked insn[30] = 0, insn[28] = 1). */
export function selectScalarFp(insn: u32): Op {
  if (bit(insn, 29)) return Op.UNDEFINED; // S
  if (!bit(insn, 24) && !bit(insn, 21)) return Op.FP_FIXED_CONV; // insn[31] is sf in the conversions
  if (!bit(insn, 24) && field(insn, 10, 6) == 0) return Op.FP_INT_CONV;
  if (bit(insn, 31)) return Op.UNDEFINED; // M, in the others
  if (bit(insn, 24)) return Op.FP_DP3;
  switch (field(insn, 10, 2)) {
    case 1: return Op.FP_CCOMPARE;
    case 2: return Op.FP_DP2;
    case 3: return Op.FP_CSEL;
  }
  if (bit(insn, 12)) return Op.FP_IMM;
  if (bit(insn, 13)) return Op.FP_COMPARE;
  if (bit(insn, 14)) return Op.FP_DP1;
  return Op.UNDEFINED;
}

/** FMOV (register), FABS, FNEG, FSQRT, FCVT, FRINT*, by opcode = insn[20:15]. */
export function fpDataProcessing1(insn: u32, pc: u64): u64 {
  if (fpTrapped()) return simdFp(insn, pc);
  const fmt = formatOf(insn), opcode = field(insn, 15, 6);
  if (fmt == 0) return opcode == 0b000110 ? unsupported(insn, pc) : undefinedInsn(insn, pc); // BFCVT (Armv8.6)
  const a = vLow(rn(insn));
  let r: u64;
  if (opcode >> 2 == 0b0001) { // FCVT: to the format opc = insn[16:15] names
    const to = formatOfType(field(insn, 15, 2));
    if (to == 0 || to == fmt) return undefinedInsn(insn, pc);
    // FPCR.AHP's alternative half-precision format is not modelled: such a conversion exits
    if ((fmt == H || to == H) && (slot(Slot.FPCR) & FPCR_AHP) != 0) return unsupported(insn, pc);
    setVScalar(rd(insn), fpConvert(a, fmt, to, fpcrRounding()), to);
    return pc + 4;
  }
  switch (opcode) {
    case 0b000000: r = a; break;
    case 0b000001: r = fpAbs(a, fmt); break;
    case 0b000010: r = fpNeg(a, fmt); break;
    case 0b000011: r = fpSqrt(a, fmt); break;
    case 0b001000: r = fpRoundInt(a, fmt, RN, false); break;
    case 0b001001: r = fpRoundInt(a, fmt, RP, false); break;
    case 0b001010: r = fpRoundInt(a, fmt, RM, false); break;
    case 0b001011: r = fpRoundInt(a, fmt, RZ, false); break;
    case 0b001100: r = fpRoundInt(a, fmt, RA, false); break;
    case 0b001110: r = fpRoundInt(a, fmt, fpcrRounding(), true); break;  // FRINTX
    case 0b001111: r = fpRoundInt(a, fmt, fpcrRounding(), false); break; // FRINTI
    default:
      // FRINT32*/FRINT64* (Armv8.5) are valid for single and double
      return opcode >> 2 == 0b0100 && fmt != H ? unsupported(insn, pc) : undefinedInsn(insn, pc);
  }
  setVScalar(rd(insn), r, fmt);
  return pc + 4;
}

/** FMUL, FDIV, FADD, FSUB, FMAX, FMIN, FMAXNM, FMINNM, FNMUL, by opcode = insn[15:12]. */
export function fpDataProcessing2(insn: u32, pc: u64): u64 {
  if (fpTrapped()) return simdFp(insn, pc);
  const fmt = formatOf(insn), opcode = field(insn, 12, 4);
  if (fmt == 0 || opcode > 8) return undefinedInsn(insn, pc);
  const a = vLow(rn(insn)), b = vLow(rm(insn));
  let r: u64;
  switch (opcode) {
    case 0: r = fpMul(a, b, fmt); break;
    case 1: r = fpDiv(a, b, fmt); break;
    case 2: r = fpAdd(a, b, fmt); break;
    case 3: r = fpSub(a, b, fmt); break;
    case 4: r = fpMaxMin(a, b, fmt, true); break;
    case 5: r = fpMaxMin(a, b, fmt, false); break;
    case 6: r = fpMaxMinNum(a, b, fmt, true); break;
    case 7: r = fpMaxMinNum(a, b, fmt, false); break;
    default: r = fpNeg(fpMul(a, b, fmt), fmt); // FNMUL
  }
  setVScalar(rd(insn), r, fmt);
  return pc + 4;
}

/** FMADD, FMSUB, FNMADD, FNMSUB, by o1 = insn[21] (negate the addend) and o0 = insn[15] (negate n). */
export function fpDataProcessing3(insn: u32, pc: u64): u64 {
  if (fpTrapped()) return simdFp(insn, pc);
  const fmt = formatOf(insn);
  if (fmt == 0) return undefinedInsn(insn, pc);
  let addend = vLow(ra(insn)), a = vLow(rn(insn));
  if (bit(insn, 21)) addend = fpNeg(addend, fmt);
  if (bit(insn, 21) != bit(insn, 15)) a = fpNeg(a, fmt);
  setVScalar(rd(insn), fpMulAdd(addend, a, vLow(rm(insn)), fmt), fmt);
  return pc + 4;
}

/** FCMP, FCMPE (opcode2 = insn[4:0]: bit 4 E, bit 3 against zero), NZCV from the comparison. */
export function fpCompareInsn(insn: u32, pc: u64): u64 {
  if (fpTrapped()) return simdFp(insn, pc);
  const fmt = formatOf(insn);
  if (fmt == 0 || field(insn, 14, 2) != 0 || field(insn, 0, 3) != 0) return undefinedInsn(insn, pc);
  const b = bit(insn, 3) ? 0 : vLow(rm(insn));
  setNzcv(fpCompare(vLow(rn(insn)), b, fmt, bit(insn, 4)));
  return pc + 4;
}

/** FCCMP, FCCMPE (op = insn[4]): the comparison if cond = insn[15:12] holds, else nzcv = insn[3:0]. */
export function fpConditionalCompare(insn: u32, pc: u64): u64 {
  if (fpTrapped()) return simdFp(insn, pc);
  const fmt = formatOf(insn);
  if (fmt == 0) return undefinedInsn(insn, pc);
  const flags = condition(field(insn, 12, 4)) ? fpCompare(vLow(rn(insn)), vLow(rm(insn)), fmt, bit(insn, 4)) : field(insn, 0, 4);
  setNzcv(flags);
  return pc + 4;
}

/** FCSEL: d = cond ? n : m. */
export function fpConditionalSelect(insn: u32, pc: u64): u64 {
  if (fpTrapped()) return simdFp(insn, pc);
  const fmt = formatOf(insn);
  if (fmt == 0) return undefinedInsn(insn, pc);
  setVScalar(rd(insn), vLow(condition(field(insn, 12, 4)) ? rn(insn) : rm(insn)), fmt);
  return pc + 4;
}

/** FMOV (scalar, immediate): VFPExpandImm(imm8 = insn[20:13]). */
export function fpImmediate(insn: u32, pc: u64): u64 {
  if (fpTrapped()) return simdFp(insn, pc);
  const fmt = formatOf(insn);
  if (fmt == 0 || field(insn, 5, 5) != 0) return undefinedInsn(insn, pc);
  setVScalar(rd(insn), expandImm(field(insn, 13, 8), fmt), fmt);
  return pc + 4;
}

/** VFPExpandImm: sign imm8<7>, exponent NOT(b6):Replicate(b6, E-3):imm8<5:4>, fraction imm8<3:0> on top. */
export function expandImm(imm8: u32, fmt: u32): u64 {
  const e: u32 = fmt == H ? 5 : fmt == S ? 8 : 11, f: u32 = (8 << fmt) - 1 - e;
  const b6 = (imm8 >> 6) & 1;
  const exp: u64 = (<u64>(b6 ^ 1) << (e - 1)) | (<u64>(b6 != 0 ? (1 << (e - 3)) - 1 : 0) << 2) | ((imm8 >> 4) & 3);
  return (<u64>(imm8 >> 7) << (e + f)) | (exp << f) | (<u64>(imm8 & 15) << (f - 4));
}

/** The rounding FCVT[NPMZA][SU] name by rmode = insn[20:19] and opcode<2> = insn[18]. */
@inline function conversionRounding(rmode: u32, away: bool): u32 {
  return away ? RA : rmode == 0 ? RN : rmode == 1 ? RP : rmode == 2 ? RM : RZ;
}

/**
 * Conversion between FP and integer, by sf = insn[31], rmode = insn[20:19], opcode = insn[18:16]:
 * FCVT[NPMZA][SU], SCVTF, UCVTF, FMOV to and from general registers (and the top half of a q
 * register).
 */
export function fpIntConversion(insn: u32, pc: u64): u64 {
  if (fpTrapped()) return simdFp(insn, pc);
  const is64 = bit(insn, 31), ftype = field(insn, 22, 2), rmode = field(insn, 19, 2), opcode = field(insn, 16, 3);
  const fmt = formatOf(insn), intBits: u32 = is64 ? 64 : 32;
  if (opcode >= 6) return fmov(insn, pc, is64, ftype, rmode, opcode == 7);
  if (fmt == 0) return undefinedInsn(insn, pc);
  if (opcode == 2 || opcode == 3) { // SCVTF, UCVTF
    if (rmode != 0) return undefinedInsn(insn, pc);
    setVScalar(rd(insn), fixedToFp(reg(rn(insn)), intBits, opcode == 3, 0, fmt, fpcrRounding()), fmt);
    return pc + 4;
  }
  if (opcode >= 4 && rmode != 0) return undefinedInsn(insn, pc); // FCVTA[SU] only with rmode 00
  const r = fpToFixed(vLow(rn(insn)), fmt, 0, (opcode & 1) != 0, intBits, conversionRounding(rmode, opcode >= 4));
  setReg(rd(insn), r);
  return pc + 4;
}

/** FMOV between a general register and an FP register (opcode 110: to the general register). */
function fmov(insn: u32, pc: u64, is64: bool, ftype: u32, rmode: u32, toFp: bool): u64 {
  let sizeLog2: u32 = 0, top = false;
  if (rmode == 0 && ftype == 3) sizeLog2 = 1;                  // H <-> W or X
  else if (rmode == 0 && !is64 && ftype == 0) sizeLog2 = 2;   // S <-> W
  else if (rmode == 0 && is64 && ftype == 1) sizeLog2 = 3;    // D <-> X
  else if (rmode == 1 && is64 && ftype == 2) top = true;      // V.D[1] <-> X
  else if (rmode == 3 && !is64 && ftype == 1 && !toFp) return unsupported(insn, pc); // FJCVTZS (Armv8.3)
  else return undefinedInsn(insn, pc);
  if (top) {
    if (toFp) store<u64>(vregAddress(rd(insn)), reg(rn(insn)), 8); // the low half stays
    else setReg(rd(insn), load<u64>(vregAddress(rn(insn)), 8));
    return pc + 4;
  }
  if (toFp) setVScalar(rd(insn), reg(rn(insn)), sizeLog2);
  else setReg(rd(insn), sizeLog2 == 3 ? vLow(rn(insn)) : vLow(rn(insn)) & ((<u64>1 << (8 << sizeLog2)) - 1));
  return pc + 4;
}

/**
 * Conversion between FP and fixed-point, by sf, rmode:opcode (00:010 SCVTF, 00:011 UCVTF, 11:000
 * FCVTZS, 11:001 FCVTZU) and scale = insn[15:10] (fbits = 64 - scale).
 */
export function fpFixedConversion(insn: u32, pc: u64): u64 {
  if (fpTrapped()) return simdFp(insn, pc);
  const is64 = bit(insn, 31), fmt = formatOf(insn), op = field(insn, 16, 5), scale = field(insn, 10, 6);
  if (fmt == 0 || (!is64 && scale < 32)) return undefinedInsn(insn, pc);
  const fbits = 64 - scale, intBits: u32 = is64 ? 64 : 32;
  if (op == 0b00010 || op == 0b00011) {
    setVScalar(rd(insn), fixedToFp(reg(rn(insn)), intBits, op == 0b00011, fbits, fmt, fpcrRounding()), fmt);
  } else if (op == 0b11000 || op == 0b11001) {
    setReg(rd(insn), fpToFixed(vLow(rn(insn)), fmt, fbits, op == 0b11001, intBits, RZ));
  } else {
    return undefinedInsn(insn, pc);
  }
  return pc + 4;
}
