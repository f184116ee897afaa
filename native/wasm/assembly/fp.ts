// The floating-point core: Arm's FP arithmetic on half, single and double values held as raw bits
// (u64), done in integer arithmetic so that every operation is exact before its one rounding (wasm
// has no fused multiply-add and no rounding modes). It follows the Arm ARM's pseudocode (FPUnpack,
// FPRound, FPProcessNaNs, FPAdd, FPMulAdd, FPToFixed, ...): rounding by FPCR.RMode or as the
// instruction says, FPCR.FZ/FZ16 flush-to-zero, FPCR.DN default NaN, NaN propagation (signalling
// before quiet, first operand first, quieted), and the FPSR cumulative flags. FPCR.AHP (the
// alternative half-precision format) is not modelled: half values are always IEEE.
//
// The API the instructions use (scalar FP and Advanced SIMD alike): every function takes and returns
// bit patterns in the low bits of a u64, with `fmt` the size of the format (H, S, D), reads FPCR
// from the CPU state and ORs the exceptions it raises into FPSR.

import { Slot, setSlot, slot } from './state';

/** Formats by log2 of their size in bytes. */
export const H: u32 = 1;
export const S: u32 = 2;
export const D: u32 = 3;

/** Rounding modes: FPCR.RMode's encoding, then the ones only instructions ask for. */
export const RN: u32 = 0;      // to nearest, ties to even
export const RP: u32 = 1;      // towards +infinity
export const RM: u32 = 2;      // towards -infinity
export const RZ: u32 = 3;      // towards zero
export const RA: u32 = 4;      // to nearest, ties away from zero (FCVTA*, FRINTA)
export const RODD: u32 = 5;    // to odd (FCVTXN)

// FPCR bits
export const FPCR_FZ16: u64 = 1 << 19;
export const FPCR_FZ: u64 = 1 << 24;
export const FPCR_DN: u64 = 1 << 25;
export const FPCR_AHP: u64 = 1 << 26;

// FPSR cumulative exception bits
export const IOC: u64 = 1 << 0; // invalid operation
export const DZC: u64 = 1 << 1; // division by zero
export const OFC: u64 = 1 << 2; // overflow
export const UFC: u64 = 1 << 3; // underflow
export const IXC: u64 = 1 << 4; // inexact
export const IDC: u64 = 1 << 7; // input denormal

/** FPCR.RMode */
@inline export function fpcrRounding(): u32 {
  return <u32>(slot(Slot.FPCR) >> 22) & 3;
}

@inline export function raise(flags: u64): void {
  setSlot(Slot.FPSR, slot(Slot.FPSR) | flags);
}

// --- Format parameters ---------------------------------------------------------------------------

@inline function fracBits(fmt: u32): u32 { return fmt == H ? 10 : fmt == S ? 23 : 52; }
@inline function expBits(fmt: u32): u32 { return fmt == H ? 5 : fmt == S ? 8 : 11; }
@inline function bias(fmt: u32): i32 { return (1 << (expBits(fmt) - 1)) - 1; }
@inline function signBit(fmt: u32): u64 { return <u64>1 << <u64>((8 << fmt) - 1); }
@inline function expMask(fmt: u32): u64 { return ((<u64>1 << expBits(fmt)) - 1) << fracBits(fmt); }
@inline function fracMask(fmt: u32): u64 { return (<u64>1 << fracBits(fmt)) - 1; }
@inline function quietBit(fmt: u32): u64 { return <u64>1 << (fracBits(fmt) - 1); }

@inline export function signOf(a: u64, fmt: u32): bool { return (a & signBit(fmt)) != 0; }
@inline export function fpZero(sign: bool, fmt: u32): u64 { return sign ? signBit(fmt) : 0; }
@inline export function fpInfinity(sign: bool, fmt: u32): u64 { return fpZero(sign, fmt) | expMask(fmt); }
@inline export function fpMaxNormal(sign: bool, fmt: u32): u64 { return fpZero(sign, fmt) | (expMask(fmt) - (<u64>1 << fracBits(fmt))) | fracMask(fmt); }
@inline export function fpDefaultNaN(fmt: u32): u64 { return expMask(fmt) | quietBit(fmt); }
/** 2.0, 1.5 and 3.0 with sign, as the reciprocal steps return them. */
@inline function fpConst(sign: bool, fmt: u32, biasedExp: u64, frac: u64): u64 {
  return fpZero(sign, fmt) | (biasedExp << fracBits(fmt)) | (frac << (fracBits(fmt) - 1));
}
@inline export function fpNeg(a: u64, fmt: u32): u64 { return a ^ signBit(fmt); }
@inline export function fpAbs(a: u64, fmt: u32): u64 { return a & ~signBit(fmt); }

@inline export function isNaN(a: u64, fmt: u32): bool { return (a & expMask(fmt)) == expMask(fmt) && (a & fracMask(fmt)) != 0; }
@inline export function isSignalling(a: u64, fmt: u32): bool { return isNaN(a, fmt) && (a & quietBit(fmt)) == 0; }

// --- Unpacking -------------------------------------------------------------------------------------

/** What FPUnpack found. DENORMAL values are unpacked as exactly as normal ones. */
export enum Kind { ZERO, FINITE, INFINITY, QNAN, SNAN }

// The last operand unpacked: value = (-1)^sign * sig * 2^(exp - 63), sig normalized (bit 63 set)
// unless the value is zero.
let uKind: Kind = Kind.ZERO;
let uSign: bool = false;
let uExp: i32 = 0;
let uSig: u64 = 0;

/** Flush-to-zero of inputs and outputs for `fmt` (FZ16 for half precision). */
@inline function flushes(fmt: u32, fpcr: u64): bool {
  return (fpcr & (fmt == H ? FPCR_FZ16 : FPCR_FZ)) != 0;
}

/**
 * FPUnpack: `a` into uKind, uSign, uExp, uSig. A denormal is flushed to zero when `flush`; for single
 * and double precision that raises IDC (FZ16 raises nothing).
 */
function unpack(a: u64, fmt: u32, flush: bool): Kind {
  const f = fracBits(fmt);
  const e = <i32>((a & expMask(fmt)) >> f);
  const frac = a & fracMask(fmt);
  uSign = signOf(a, fmt);
  uSig = 0;
  if (e == 0) {
    if (frac == 0 || flush) {
      if (frac != 0 && fmt != H) raise(IDC);
      uKind = Kind.ZERO;
      return uKind;
    }
    const lz = <i32>clz(frac);
    uSig = frac << <u64>lz;
    uExp = 1 - bias(fmt) - f + 63 - lz;
    uKind = Kind.FINITE;
    return uKind;
  }
  if (e == (1 << expBits(fmt)) - 1) {
    uKind = frac == 0 ? Kind.INFINITY : (frac & quietBit(fmt)) != 0 ? Kind.QNAN : Kind.SNAN;
    return uKind;
  }
  uSig = ((<u64>1 << f) | frac) << <u64>(63 - f);
  uExp = e - bias(fmt);
  uKind = Kind.FINITE;
  return uKind;
}

// --- Rounding ------------------------------------------------------------------------------------

/**
 * FPRound: the value (-1)^sign * sig * 2^(exp - 63) (sig normalized, its low bit sticky, or zero)
 * rounded to `fmt` as `rounding` says, flushed to zero if tiny and `flush`; raises UFC, OFC, IXC.
 */
export function round(sign: bool, exp: i32, sig: u64, fmt: u32, rounding: u32, flush: bool): u64 {
  if (sig == 0) return fpZero(sign, fmt);
  const f = fracBits(fmt);
  const minExp = 1 - bias(fmt);
  if (flush && exp < minExp) {
    raise(UFC);
    return fpZero(sign, fmt);
  }
  let biased = exp + bias(fmt);
  let mant: u64, rem: u64; // the kept bits, and the rest as a fraction of one unit (2^63 = one half)
  let shift = 63 - <i32>f;
  if (biased < 1) {
    shift += 1 - biased;
    biased = 0;
  }
  if (shift < 64) {
    mant = sig >> <u64>shift;
    rem = sig << <u64>(64 - shift);
  } else {
    mant = 0;
    rem = shift == 64 ? sig : 1;
  }
  if (biased == 0 && rem != 0) raise(UFC);
  const half: u64 = <u64>1 << 63;
  let up = false;
  switch (rounding) {
    case RN: up = rem > half || (rem == half && (mant & 1) != 0); break;
    case RP: up = rem != 0 && !sign; break;
    case RM: up = rem != 0 && sign; break;
    case RA: up = rem >= half; break;
    case RODD: if (rem != 0) mant |= 1; break;
  }
  if (up) mant++;
  // A normal value's mant includes the leading 1, which adds the 1 the biased exponent lacks; a
  // carry out of the fraction lands in the exponent the same way.
  const bits = (<u64>max(biased, 1) - 1 << <u64>f) + mant;
  if ((bits >> f) >= (<u64>1 << expBits(fmt)) - 1) {
    raise(OFC | IXC);
    const toInfinity = rounding == RN || rounding == RA || (rounding == RP && !sign) || (rounding == RM && sign);
    return toInfinity ? fpInfinity(sign, fmt) : fpMaxNormal(sign, fmt);
  }
  if (rem != 0) raise(IXC);
  return fpZero(sign, fmt) | bits;
}

/** Normalizes the 128-bit hi:lo (nonzero), value hi:lo * 2^(exp - 127), and rounds it. */
function round128(sign: bool, exp: i32, hi: u64, lo: u64, fmt: u32, rounding: u32, flush: bool): u64 {
  if (hi == 0) {
    hi = lo;
    lo = 0;
    exp -= 64;
  }
  const lz = <i32>clz(hi);
  if (lz != 0) {
    hi = (hi << <u64>lz) | (lo >> <u64>(64 - lz));
    lo <<= <u64>lz;
  }
  return round(sign, exp - lz, hi | <u64>(lo != 0), fmt, rounding, flush);
}

// --- NaNs ---------------------------------------------------------------------------------------

/** FPProcessNaN: a NaN operand as the result: quieted (IOC if it signalled), or the default NaN. */
export function processNaN(a: u64, fmt: u32): u64 {
  if (isSignalling(a, fmt)) raise(IOC);
  return (slot(Slot.FPCR) & FPCR_DN) != 0 ? fpDefaultNaN(fmt) : a | quietBit(fmt);
}

/** FPProcessNaNs when a or b is a NaN: the first signalling one, else the first quiet one. */
export function processNaNs(a: u64, b: u64, fmt: u32): u64 {
  if (isSignalling(a, fmt)) return processNaN(a, fmt);
  if (isSignalling(b, fmt)) return processNaN(b, fmt);
  return processNaN(isNaN(a, fmt) ? a : b, fmt);
}

/** FPProcessNaNs3 when a, b or c is a NaN. */
function processNaNs3(a: u64, b: u64, c: u64, fmt: u32): u64 {
  if (isSignalling(a, fmt)) return processNaN(a, fmt);
  if (isSignalling(b, fmt)) return processNaN(b, fmt);
  if (isSignalling(c, fmt)) return processNaN(c, fmt);
  return processNaN(isNaN(a, fmt) ? a : isNaN(b, fmt) ? b : c, fmt);
}

function invalid(fmt: u32): u64 {
  raise(IOC);
  return fpDefaultNaN(fmt);
}

// --- Exact sums ----------------------------------------------------------------------------------

// A 128-bit magnitude: value = hi:lo * 2^(exp - 127).
let sHi: u64 = 0;
let sLo: u64 = 0;

/** hi:lo >> n into sHi:sLo, the bits shifted out ORed into the low bit. */
function shiftRightJam(hi: u64, lo: u64, n: i32): void {
  if (n == 0) {
    sHi = hi; sLo = lo;
  } else if (n < 64) {
    sLo = (lo >> <u64>n) | (hi << <u64>(64 - n)) | <u64>((lo << <u64>(64 - n)) != 0);
    sHi = hi >> <u64>n;
  } else if (n < 128) {
    sLo = (n == 64 ? hi : hi >> <u64>(n - 64)) | <u64>(lo != 0 || (n > 64 && (hi << <u64>(128 - n)) != 0));
    sHi = 0;
  } else {
    sLo = <u64>(hi != 0 || lo != 0);
    sHi = 0;
  }
}

/**
 * The exact sum of two nonzero finite values given as 128-bit magnitudes with exponents (each
 * normalized: bit 127 set, its low bits zero below the precision), times 2^scale, rounded. An exact zero is
 * +0, or -0 when rounding towards -infinity.
 */
function addExact(signA: bool, expA: i32, hiA: u64, loA: u64, signB: bool, expB: i32, hiB: u64, loB: u64,
                  fmt: u32, rounding: u32, flush: bool, scale: i32 = 0): u64 {
  if (expA < expB || (expA == expB && (hiA < hiB || (hiA == hiB && loA < loB)))) {
    const s = signA; signA = signB; signB = s;
    const e = expA; expA = expB; expB = e;
    let t = hiA; hiA = hiB; hiB = t;
    t = loA; loA = loB; loB = t;
  }
  // |a| >= |b|: a one place down to make room for a carry, b aligned with it.
  shiftRightJam(hiA, loA, 1);
  const aHi = sHi, aLo = sLo;
  shiftRightJam(hiB, loB, min(expA - expB + 1, 200));
  let hi: u64, lo: u64;
  if (signA == signB) {
    lo = aLo + sLo;
    hi = aHi + sHi + <u64>(lo < aLo);
  } else {
    lo = aLo - sLo;
    hi = aHi - sHi - <u64>(aLo < sLo);
  }
  if (hi == 0 && lo == 0) return fpZero(rounding == RM, fmt);
  return round128(signA, expA + 1 + scale, hi, lo, fmt, rounding, flush);
}

/** The 128-bit product a * b into sHi:sLo. */
function mul64(a: u64, b: u64): void {
  const a0 = a & 0xffff_ffff, a1 = a >> 32, b0 = b & 0xffff_ffff, b1 = b >> 32;
  const p00 = a0 * b0, p01 = a0 * b1, p10 = a1 * b0, p11 = a1 * b1;
  const mid = (p00 >> 32) + (p01 & 0xffff_ffff) + (p10 & 0xffff_ffff);
  sLo = (mid << 32) | (p00 & 0xffff_ffff);
  sHi = p11 + (p01 >> 32) + (p10 >> 32) + (mid >> 32);
}

// --- Arithmetic ----------------------------------------------------------------------------------

/** FPAdd */
export function fpAdd(a: u64, b: u64, fmt: u32): u64 {
  return addSub(a, b, fmt, false);
}

/** FPSub (not fpAdd of fpNeg(b): a NaN b keeps its sign) */
export function fpSub(a: u64, b: u64, fmt: u32): u64 {
  return addSub(a, b, fmt, true);
}

function addSub(a: u64, b: u64, fmt: u32, negate: bool): u64 {
  const fpcr = slot(Slot.FPCR), flush = flushes(fmt, fpcr), rounding = fpcrRounding();
  const ka = unpack(a, fmt, flush), signA = uSign, expA = uExp, sigA = uSig;
  const kb = unpack(b, fmt, flush), signB = uSign != negate, expB = uExp, sigB = uSig;
  if (isNaN(a, fmt) || isNaN(b, fmt)) return processNaNs(a, b, fmt);
  if (ka == Kind.INFINITY && kb == Kind.INFINITY && signA != signB) return invalid(fmt);
  if (ka == Kind.INFINITY) return fpInfinity(signA, fmt);
  if (kb == Kind.INFINITY) return fpInfinity(signB, fmt);
  if (ka == Kind.ZERO && kb == Kind.ZERO) return fpZero(signA == signB ? signA : rounding == RM, fmt);
  if (ka == Kind.ZERO) return round(signB, expB, sigB, fmt, rounding, flush);
  if (kb == Kind.ZERO) return round(signA, expA, sigA, fmt, rounding, flush);
  return addExact(signA, expA, sigA, 0, signB, expB, sigB, 0, fmt, rounding, flush);
}

/** FPMul; with `extended` FPMulX (infinity times zero is 2.0, not invalid). */
export function fpMul(a: u64, b: u64, fmt: u32, extended: bool = false): u64 {
  const fpcr = slot(Slot.FPCR), flush = flushes(fmt, fpcr);
  const ka = unpack(a, fmt, flush), expA = uExp, sigA = uSig;
  const kb = unpack(b, fmt, flush), expB = uExp, sigB = uSig;
  if (isNaN(a, fmt) || isNaN(b, fmt)) return processNaNs(a, b, fmt);
  const sign = signOf(a, fmt) != signOf(b, fmt);
  if ((ka == Kind.INFINITY && kb == Kind.ZERO) || (ka == Kind.ZERO && kb == Kind.INFINITY)) {
    return extended ? fpConst(sign, fmt, <u64>bias(fmt) + 1, 0) : invalid(fmt);
  }
  if (ka == Kind.INFINITY || kb == Kind.INFINITY) return fpInfinity(sign, fmt);
  if (ka == Kind.ZERO || kb == Kind.ZERO) return fpZero(sign, fmt);
  mul64(sigA, sigB);
  return round128(sign, expA + expB + 1, sHi, sLo, fmt, fpcrRounding(), flush);
}

/**
 * FPMulAdd: addend + a * b with one rounding. The negated forms (FMSUB, FNMADD, FNMSUB, FMLS) negate
 * their operands with fpNeg first, as Arm's pseudocode does (a NaN's sign flips too).
 */
export function fpMulAdd(addend: u64, a: u64, b: u64, fmt: u32): u64 {
  return mulAdd(addend, a, b, fmt, fpcrRounding());
}

/** addend + a * b, times 2^scale, with one rounding. */
function mulAdd(addend: u64, a: u64, b: u64, fmt: u32, rounding: u32, scale: i32 = 0): u64 {
  const fpcr = slot(Slot.FPCR), flush = flushes(fmt, fpcr);
  const kc = unpack(addend, fmt, flush), signC = uSign, expC = uExp, sigC = uSig;
  const ka = unpack(a, fmt, flush), expA = uExp, sigA = uSig;
  const kb = unpack(b, fmt, flush), expB = uExp, sigB = uSig;
  const infZero = (ka == Kind.INFINITY && kb == Kind.ZERO) || (ka == Kind.ZERO && kb == Kind.INFINITY);
  if (isNaN(addend, fmt) || isNaN(a, fmt) || isNaN(b, fmt)) {
    const r = processNaNs3(addend, a, b, fmt);
    return kc == Kind.QNAN && infZero ? invalid(fmt) : r;
  }
  const signP = signOf(a, fmt) != signOf(b, fmt);
  const infP = ka == Kind.INFINITY || kb == Kind.INFINITY, zeroP = ka == Kind.ZERO || kb == Kind.ZERO;
  if (infZero || (kc == Kind.INFINITY && infP && signC != signP)) return invalid(fmt);
  if (kc == Kind.INFINITY) return fpInfinity(signC, fmt);
  if (infP) return fpInfinity(signP, fmt);
  if (kc == Kind.ZERO && zeroP) return fpZero(signC == signP ? signC : rounding == RM, fmt);
  if (zeroP) return round(signC, expC + scale, sigC, fmt, rounding, flush);
  mul64(sigA, sigB);
  let pHi = sHi, pLo = sLo, expP = expA + expB + 1;
  if ((pHi >> 63) == 0) { // normalize: the product of two normalized significands has bit 126 or 127 set
    pHi = (pHi << 1) | (pLo >> 63);
    pLo <<= 1;
    expP--;
  }
  if (kc == Kind.ZERO) return round128(signP, expP + scale, pHi, pLo, fmt, rounding, flush);
  return addExact(signC, expC, sigC, 0, signP, expP, pHi, pLo, fmt, rounding, flush, scale);
}

/** FPDiv */
export function fpDiv(a: u64, b: u64, fmt: u32): u64 {
  const fpcr = slot(Slot.FPCR), flush = flushes(fmt, fpcr);
  const ka = unpack(a, fmt, flush), expA = uExp, sigA = uSig;
  const kb = unpack(b, fmt, flush), expB = uExp, sigB = uSig;
  if (isNaN(a, fmt) || isNaN(b, fmt)) return processNaNs(a, b, fmt);
  const sign = signOf(a, fmt) != signOf(b, fmt);
  if ((ka == Kind.INFINITY && kb == Kind.INFINITY) || (ka == Kind.ZERO && kb == Kind.ZERO)) return invalid(fmt);
  if (ka == Kind.INFINITY || kb == Kind.ZERO) {
    if (ka != Kind.INFINITY) raise(DZC);
    return fpInfinity(sign, fmt);
  }
  if (ka == Kind.ZERO || kb == Kind.INFINITY) return fpZero(sign, fmt);
  // Long division of the significands (both one place down: remainders stay below 2^64).
  let r = sigA >> 1, q: u64 = 0;
  const d = sigB >> 1;
  for (let i = 0; i < 64; i++) {
    q <<= 1;
    if (r >= d) {
      r -= d;
      q |= 1;
    }
    r <<= 1;
  }
  // q = sigA / sigB * 2^63, bit 63 or 62 set
  return round128(sign, expA - expB + 64, 0, q | <u64>(r != 0), fmt, fpcrRounding(), flush);
}

/** FPSqrt */
export function fpSqrt(a: u64, fmt: u32): u64 {
  const fpcr = slot(Slot.FPCR), flush = flushes(fmt, fpcr);
  const k = unpack(a, fmt, flush);
  if (isNaN(a, fmt)) return processNaN(a, fmt);
  if (k == Kind.ZERO) return fpZero(uSign, fmt);
  if (uSign) return invalid(fmt);
  if (k == Kind.INFINITY) return fpInfinity(false, fmt);
  // value = M * 2^e, M = sig / 2^63 in [1, 2); with e even, sqrt = sqrt(M * 2^118) * 2^(e/2 - 59),
  // and M * 2^118 = sig << 55 (sig << 56 for odd e, halving the exponent's excess).
  const odd = uExp & 1;
  const rHi = uSig >> <u64>(9 - odd), rLo = uSig << <u64>(55 + odd);
  let root: u64 = 0, rem: u64 = 0;
  for (let i = 59; i >= 0; i--) {
    const pair = i >= 32 ? (rHi >> <u64>(2 * i - 64)) & 3 : (rLo >> <u64>(2 * i)) & 3;
    rem = (rem << 2) | pair;
    const trial = (root << 2) | 1;
    root <<= 1;
    if (rem >= trial) {
      rem -= trial;
      root |= 1;
    }
  }
  // root in [2^59, 2^60): value root * 2^((e - odd)/2 - 59)
  return round(false, (uExp - odd) >> 1, (root << 4) | <u64>(rem != 0), fmt, fpcrRounding(), flush);
}

// --- Comparisons, maximum and minimum -----------------------------------------------------------

/** -1, 0 or 1 as unpacked a is below, equal to or above unpacked b (neither a NaN). */
function compareUnpacked(ka: Kind, signA: bool, expA: i32, sigA: u64, kb: Kind, signB: bool, expB: i32, sigB: u64): i32 {
  if (ka == Kind.ZERO && kb == Kind.ZERO) return 0;
  // Order the magnitudes: zero < finite (by exponent, then significand) < infinity.
  let mag: i32 = 0;
  if (ka != kb) mag = ka < kb ? -1 : 1;
  else if (ka == Kind.FINITE) mag = expA != expB ? (expA < expB ? -1 : 1) : sigA != sigB ? (sigA < sigB ? -1 : 1) : 0;
  const negA = signA && ka != Kind.ZERO, negB = signB && kb != Kind.ZERO;
  if (negA != negB) return negA ? -1 : 1;
  return negA ? -mag : mag;
}

// The operands unpackBoth unpacked.
let kindA: Kind = Kind.ZERO, kindB: Kind = Kind.ZERO;
let signA_: bool = false, signB_: bool = false;
let expA_: i32 = 0, expB_: i32 = 0;
let sigA_: u64 = 0, sigB_: u64 = 0;

/**
 * FPUnpack of both operands, first of all: Arm's operations unpack (and flush, raising IDC) before
 * they look for NaNs.
 */
function unpackBoth(a: u64, b: u64, fmt: u32): void {
  const flush = flushes(fmt, slot(Slot.FPCR));
  kindA = unpack(a, fmt, flush); signA_ = uSign; expA_ = uExp; sigA_ = uSig;
  kindB = unpack(b, fmt, flush); signB_ = uSign; expB_ = uExp; sigB_ = uSig;
}

/** Compares the operands unpackBoth unpacked (neither a NaN). */
function compareValues(): i32 {
  return compareUnpacked(kindA, signA_, expA_, sigA_, kindB, signB_, expB_, sigB_);
}

/**
 * FPCompare: NZCV (in bits 3:0) for FCMP (`signalAll` false: IOC for a signalling NaN only) and
 * FCMPE (IOC for any NaN). Unordered is 0011.
 */
export function fpCompare(a: u64, b: u64, fmt: u32, signalAll: bool): u32 {
  unpackBoth(a, b, fmt);
  if (isNaN(a, fmt) || isNaN(b, fmt)) {
    if (signalAll || isSignalling(a, fmt) || isSignalling(b, fmt)) raise(IOC);
    return 0b0011;
  }
  const c = compareValues();
  return c == 0 ? 0b0110 : c < 0 ? 0b1000 : 0b0010;
}

/** FPCompareEQ (FCMEQ): IOC for a signalling NaN only. */
export function fpCompareEq(a: u64, b: u64, fmt: u32): bool {
  unpackBoth(a, b, fmt);
  if (isNaN(a, fmt) || isNaN(b, fmt)) {
    if (isSignalling(a, fmt) || isSignalling(b, fmt)) raise(IOC);
    return false;
  }
  return compareValues() == 0;
}

/** FPCompareGE (FCMGE, FACGE on fpAbs values): IOC for any NaN. */
export function fpCompareGe(a: u64, b: u64, fmt: u32): bool {
  unpackBoth(a, b, fmt);
  if (isNaN(a, fmt) || isNaN(b, fmt)) {
    raise(IOC);
    return false;
  }
  return compareValues() >= 0;
}

/** FPCompareGT (FCMGT, FACGT on fpAbs values): IOC for any NaN. */
export function fpCompareGt(a: u64, b: u64, fmt: u32): bool {
  unpackBoth(a, b, fmt);
  if (isNaN(a, fmt) || isNaN(b, fmt)) {
    raise(IOC);
    return false;
  }
  return compareValues() > 0;
}

/** FPMax (`isMax`) or FPMin. Equal zeros: +0 is the larger. */
export function fpMaxMin(a: u64, b: u64, fmt: u32, isMax: bool): u64 {
  const flush = flushes(fmt, slot(Slot.FPCR));
  const ka = unpack(a, fmt, flush), signA = uSign, expA = uExp, sigA = uSig;
  const kb = unpack(b, fmt, flush), signB = uSign, expB = uExp, sigB = uSig;
  if (isNaN(a, fmt) || isNaN(b, fmt)) return processNaNs(a, b, fmt);
  if (ka == Kind.ZERO && kb == Kind.ZERO) return fpZero(isMax ? signA && signB : signA || signB, fmt);
  const c = compareUnpacked(ka, signA, expA, sigA, kb, signB, expB, sigB);
  const takeA = isMax ? c > 0 : c < 0;
  const k = takeA ? ka : kb, sign = takeA ? signA : signB;
  if (k == Kind.INFINITY) return fpInfinity(sign, fmt);
  if (k == Kind.ZERO) return fpZero(sign, fmt);
  // Through FPRound, as Arm's FPMax: exact, but a denormal result is flushed under FZ.
  return round(sign, takeA ? expA : expB, takeA ? sigA : sigB, fmt, RZ, flush);
}

/** FPMaxNum / FPMinNum (FMAXNM, FMINNM): a quiet NaN against a number loses. */
export function fpMaxMinNum(a: u64, b: u64, fmt: u32, isMax: bool): u64 {
  const qa = isNaN(a, fmt) && !isSignalling(a, fmt), qb = isNaN(b, fmt) && !isSignalling(b, fmt);
  const lose = fpInfinity(isMax, fmt); // -infinity for a maximum, +infinity for a minimum
  if (qa && !isNaN(b, fmt)) a = lose;
  else if (qb && !isNaN(a, fmt)) b = lose;
  return fpMaxMin(a, b, fmt, isMax);
}

// --- Conversions ---------------------------------------------------------------------------------

/**
 * FPRoundInt (FRINT*): a rounded to an integral value in `fmt`, by `rounding`; `exact` (FRINTX)
 * raises IXC when that changed the value.
 */
export function fpRoundInt(a: u64, fmt: u32, rounding: u32, exact: bool): u64 {
  if (isNaN(a, fmt)) return processNaN(a, fmt);
  const flush = flushes(fmt, slot(Slot.FPCR));
  const k = unpack(a, fmt, flush);
  if (k == Kind.INFINITY) return fpInfinity(uSign, fmt);
  if (k == Kind.ZERO) return fpZero(uSign, fmt);
  if (uExp >= <i32>fracBits(fmt)) return a; // already integral
  const sign = uSign, exp = uExp;
  const int = roundToInteger(sign, exp, uSig, rounding);
  if (exact && intInexact) raise(IXC);
  if (int == 0) return fpZero(sign, fmt);
  const lz = <i32>clz(int);
  return round(sign, 63 - lz, int << <u64>lz, fmt, RZ, false);
}

/** Whether the last roundToInteger lost a fraction, and whether its result overflowed 64 bits. */
let intInexact = false;
let intOverflow = false;

/** The magnitude sig * 2^(exp - 63) rounded to an integer by `rounding` (with the sign for RP/RM). */
function roundToInteger(sign: bool, exp: i32, sig: u64, rounding: u32): u64 {
  intOverflow = exp >= 64;
  intInexact = false;
  if (exp >= 63) return intOverflow ? <u64>-1 : sig;
  const shift = 63 - exp;
  let int: u64, rem: u64;
  if (shift < 64) {
    int = sig >> <u64>shift;
    rem = sig << <u64>(64 - shift);
  } else {
    int = 0;
    rem = shift == 64 ? sig : <u64>(sig != 0);
  }
  intInexact = rem != 0;
  const half: u64 = <u64>1 << 63;
  let up = false;
  switch (rounding) {
    case RN: up = rem > half || (rem == half && (int & 1) != 0); break;
    case RP: up = rem != 0 && !sign; break;
    case RM: up = rem != 0 && sign; break;
    case RA: up = rem >= half; break;
  }
  if (up) {
    int++;
    if (int == 0) intOverflow = true;
  }
  return int;
}

/**
 * FPToFixed (FCVT[NPMZA][SU], and FCVTZ[SU] with fbits): a * 2^fbits rounded by `rounding` to an
 * integer of `intBits` (32 or 64) bits, saturated (IOC) if out of range; IXC if inexact.
 */
export function fpToFixed(a: u64, fmt: u32, fbits: u32, unsigned: bool, intBits: u32, rounding: u32): u64 {
  const mask: u64 = intBits == 64 ? <u64>-1 : (<u64>1 << intBits) - 1;
  if (isNaN(a, fmt)) {
    raise(IOC);
    return 0;
  }
  const flush = flushes(fmt, slot(Slot.FPCR));
  const k = unpack(a, fmt, flush);
  const sign = uSign;
  const maxPos: u64 = unsigned ? mask : mask >> 1;
  const minNeg: u64 = unsigned ? 0 : (mask >> 1) + 1; // the magnitude of the most negative
  if (k == Kind.INFINITY) {
    raise(IOC);
    return sign ? (unsigned ? 0 : (<u64>0 - minNeg) & mask) : maxPos;
  }
  if (k == Kind.ZERO) return 0;
  const int = roundToInteger(sign, uExp + <i32>fbits, uSig, rounding);
  if (sign && int != 0) {
    if (intOverflow || int > minNeg) {
      raise(IOC);
      return (<u64>0 - minNeg) & mask;
    }
  } else if (intOverflow || int > maxPos) {
    raise(IOC);
    return maxPos;
  }
  if (intInexact) raise(IXC);
  return (sign ? <u64>0 - int : int) & mask;
}

/**
 * FixedToFP (SCVTF, UCVTF): the `intBits`-bit integer v (signed unless `unsigned`) / 2^fbits,
 * rounded to `fmt` by `rounding`.
 */
export function fixedToFp(v: u64, intBits: u32, unsigned: bool, fbits: u32, fmt: u32, rounding: u32): u64 {
  if (intBits == 32) v = unsigned ? v & 0xffff_ffff : <u64><i64><i32>v;
  const sign = !unsigned && <i64>v < 0;
  const mag = sign ? <u64>0 - v : v;
  if (mag == 0) return 0;
  const lz = <i32>clz(mag);
  return round(sign, 63 - lz - <i32>fbits, mag << <u64>lz, fmt, rounding, flushes(fmt, slot(Slot.FPCR)));
}

/**
 * FPConvert (FCVT between precisions): rounded by `rounding`. FZ16 plays no part (FZ does, for
 * single and double); a NaN keeps its sign and the top of its payload, quieted.
 */
export function fpConvert(a: u64, from: u32, to: u32, rounding: u32): u64 {
  const fpcr = slot(Slot.FPCR);
  if (isNaN(a, from)) {
    if (isSignalling(a, from)) raise(IOC);
    if ((fpcr & FPCR_DN) != 0) return fpDefaultNaN(to);
    const payload = a & fracMask(from);
    const fromF = fracBits(from), toF = fracBits(to);
    const frac = toF >= fromF ? payload << <u64>(toF - fromF) : payload >> <u64>(fromF - toF);
    return fpZero(signOf(a, from), to) | expMask(to) | quietBit(to) | frac;
  }
  const k = unpack(a, from, from != H && (fpcr & FPCR_FZ) != 0);
  if (k == Kind.INFINITY) return fpInfinity(uSign, to);
  if (k == Kind.ZERO) return fpZero(uSign, to);
  return round(uSign, uExp, uSig, to, rounding, to != H && (fpcr & FPCR_FZ) != 0);
}

// --- Reciprocal steps (FRECPS, FRSQRTS) ----------------------------------------------------------

/** FPRecipStepFused: 2 - a * b with one rounding; infinity times zero gives 2.0. */
export function fpRecipStep(a: u64, b: u64, fmt: u32): u64 {
  return step(a, b, fmt, false);
}

/** FPRSqrtStepFused: (3 - a * b) / 2 with one rounding; infinity times zero gives 1.5. */
export function fpRSqrtStep(a: u64, b: u64, fmt: u32): u64 {
  return step(a, b, fmt, true);
}

function step(a: u64, b: u64, fmt: u32, rsqrt: bool): u64 {
  a = fpNeg(a, fmt);
  const flush = flushes(fmt, slot(Slot.FPCR));
  const ka = unpack(a, fmt, flush), signA = uSign;
  const kb = unpack(b, fmt, flush), signB = uSign;
  if (isNaN(a, fmt) || isNaN(b, fmt)) return processNaNs(a, b, fmt);
  const one = <u64>bias(fmt);
  if ((ka == Kind.INFINITY && kb == Kind.ZERO) || (ka == Kind.ZERO && kb == Kind.INFINITY)) {
    return rsqrt ? fpConst(false, fmt, one, 1) : fpConst(false, fmt, one + 1, 0);
  }
  if (ka == Kind.INFINITY || kb == Kind.INFINITY) return fpInfinity(signA != signB, fmt);
  // 2 + a*b, or (3 + a*b) / 2, with a negated above: one fused multiply-add, its one rounding after the halving.
  const rounding = fpcrRounding();
  if (!rsqrt) return mulAdd(fpConst(false, fmt, one + 1, 0), a, b, fmt, rounding);
  return mulAdd(fpConst(false, fmt, one + 1, 1), a, b, fmt, rounding, -1);
}
