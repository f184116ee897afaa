// Integer arithmetic shared by the data-processing classes, written after the Arm ARM shared
// pseudocode functions of the same names (AddWithCarry, ShiftReg, ExtendReg, DecodeBitMasks, ...).

import { M32, signExtend, zeroExtend } from './insn';
import { writeFlags } from './flags';

/** AddWithCarry(x, y, carry) at 64 or 32 bits (sf; a W result is zero-extended), setting NZCV when `setFlags`. */
@inline export function addWithCarry(x: u64, y: u64, carry: u64, sf: bool, setFlags: bool): u64 {
  if (sf) {
    const r = x + y + carry;
    // Carry out of bit 63: the sum wrapped below x (or reached it exactly with a carry in).
    if (setFlags) writeFlags(r, carry != 0 ? r <= x : r < x, (x ^ r) & (y ^ r));
    return r;
  }
  const s = (x & M32) + (y & M32) + carry; // 33 bits: bit 32 is the carry out
  const r = s & M32;
  if (setFlags) writeFlags(r << 32, (s >> 32) != 0, ((x ^ r) & (y ^ r)) << 32);
  return r;
}

/**
 * x + y, or x - y when `sub`: AddWithCarry(x, NOT(y), 1) in the Arm ARM pseudocode, written as a
 * subtraction (fewer operations): C is "no borrow", V "the signs of x and y differ and r's is y's".
 */
@inline export function addSub(x: u64, y: u64, sub: bool, sf: bool, setFlags: bool): u64 {
  if (!sub) return addWithCarry(x, y, 0, sf, setFlags);
  if (!sf) {
    x &= M32;
    y &= M32;
  }
  const r = x - y;
  if (sf) {
    if (setFlags) writeFlags(r, x >= y, (x ^ y) & (x ^ r));
    return r;
  }
  if (setFlags) writeFlags(r << 32, x >= y, ((x ^ y) & (x ^ r)) << 32);
  return r & M32;
}

/** The flags of ANDS/BICS/TST: N and Z from the result, C = V = 0. */
@inline export function setLogicalFlags(r: u64, sf: bool): void {
  writeFlags(sf ? r : r << 32, false, 0);
}

/** ShiftReg: shift type LSL(0), LSR(1), ASR(2), ROR(3); amount < datasize. */
@inline export function shiftReg(v: u64, type: u32, amount: u32, sf: bool): u64 {
  const a = <u64>amount;
  if (sf) {
    switch (type) {
      case 0: return v << a;
      case 1: return v >> a;
      case 2: return <u64>(<i64>v >> a);
      default: return rotr<u64>(v, a);
    }
  }
  const w = <u32>v;
  switch (type) {
    case 0: return <u64>(w << amount);
    case 1: return <u64>(w >>> amount);
    case 2: return <u64><u32>(<i32>w >> amount);
    default: return <u64>rotr<u32>(w, amount);
  }
}

/**
 * ExtendReg: option UXTB, UXTH, UXTW, UXTX, SXTB, SXTH, SXTW, SXTX (0..7), then LSL #shift. The
 * 64-bit forms (LSL) extend nothing: the common case, tested first.
 */
@inline export function extendReg(v: u64, option: u32, shift: u32): u64 {
  if ((option & 3) != 3) {
    const width = 8 << (option & 3);
    v = (option & 4) != 0 ? signExtend(v, width) : zeroExtend(v, width);
  }
  return v << <u64>shift;
}

/** The `tmask` half of the last decodeBitMasks result (bitfield moves use both). */
export let tmask: u64 = 0;

/** Ones(k) for k in 1..64 */
@inline function ones(k: u32): u64 {
  return <u64>-1 >> <u64>(64 - k);
}

// By log2(esize): a 1 at the bottom of each esize-bit element, so that a product with it
// replicates an element to 64 bits.
const ELEMENT_ONES: StaticArray<u64> = [
  0xffff_ffff_ffff_ffff, 0x5555_5555_5555_5555, 0x1111_1111_1111_1111, 0x0101_0101_0101_0101,
  0x0001_0001_0001_0001, 0x0000_0001_0000_0001, 1,
];

/** Replicate a 2^len-bit element to 64 bits. */
@inline function replicate(element: u64, len: u32): u64 {
  return element * unchecked(ELEMENT_ONES[len]);
}

/**
 * DecodeBitMasks(immN, imms, immr, immediate, 64): returns wmask and sets `tmask`, or returns 0
 * (never a valid wmask) for a reserved encoding. The 32-bit forms need no datasize of their own:
 * their callers reject immN = 1 (the one case it matters), then truncate the result.
 */
export function decodeBitMasks(n: u32, imms: u32, immr: u32, immediate: bool): u64 {
  const len = 31 - <i32>clz<u32>((n << 6) | (~imms & 0x3f)); // HighestSetBit(immN:NOT(imms))
  if (len < 1) return 0;
  const esize: u32 = 1 << len;
  const levels = esize - 1;
  const s = imms & levels, r = immr & levels;
  if (immediate && s == levels) return 0; // an all-ones element is not encodable
  const emask = ones(esize);
  const welem = ones(s + 1);
  // ROR(welem, r) within the element
  const rotated = ((welem >> <u64>r) | (welem << <u64>((esize - r) & 63))) & emask;
  tmask = replicate(ones(((s - r) & levels) + 1), len);
  return replicate(rotated, len);
}

/** The high 64 bits of the unsigned 128-bit product (UMULH). */
export function umulh(a: u64, b: u64): u64 {
  const al = a & M32, ah = a >> 32, bl = b & M32, bh = b >> 32;
  const lh = al * bh, hl = ah * bl;
  const mid = ((al * bl) >> 32) + (lh & M32) + (hl & M32);
  return ah * bh + (lh >> 32) + (hl >> 32) + (mid >> 32);
}

/** The high 64 bits of the signed 128-bit product (SMULH): the unsigned one, corrected for signs. */
export function smulh(a: u64, b: u64): u64 {
  let h = umulh(a, b);
  if (<i64>a < 0) h -= b;
  if (<i64>b < 0) h -= a;
  return h;
}
