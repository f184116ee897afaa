// What the Advanced SIMD handlers share: lanes of the vector registers (element i of esize
// 8 << sz bits at byte i << sz, lane 0 first), the result buffer every handler fills before it
// commits (so a destination that is also a source is read whole before it is written), and the
// saturating arithmetic that sets FPSR.QC.

import { Slot, setSlot, slot, vregAddress } from './state';

/** How a handler ended: its effects are made only when it returns DONE. */
export enum Status { DONE, UNDEFINED, UNSUPPORTED }

/** The result being built: 16 bytes, lanes as in a register. */
export const RESULT: usize = memory.data(16, 16);

/** Element i of vn, esize 8 << sz, zero-extended. */
export function lane(n: u32, i: u32, sz: u32): u64 {
  const a = vregAddress(n) + (<usize>i << sz);
  if (sz == 0) return load<u8>(a);
  if (sz == 1) return load<u16>(a);
  if (sz == 2) return load<u32>(a);
  return load<u64>(a);
}

/** SignExtend of an esize-bit value. */
@inline export function sext(v: u64, sz: u32): i64 {
  const s = <u64>(64 - (8 << sz));
  return <i64>(v << s) >> <i64>s;
}

/** Element i of vn, sign-extended. */
@inline export function slane(n: u32, i: u32, sz: u32): i64 {
  return sext(lane(n, i, sz), sz);
}

/** Ones(esize). */
@inline export function ones(sz: u32): u64 {
  return sz == 3 ? <u64>-1 : (<u64>1 << <u64>(8 << sz)) - 1;
}

/** The largest signed esize-bit value (the smallest is ~ of it). */
@inline export function maxSigned(sz: u32): i64 {
  return <i64>(ones(sz) >> 1);
}

/** Element i of the result = v (truncated to esize). */
export function setLane(i: u32, sz: u32, v: u64): void {
  const a = RESULT + (<usize>i << sz);
  if (sz == 0) store<u8>(a, <u8>v);
  else if (sz == 1) store<u16>(a, <u16>v);
  else if (sz == 2) store<u32>(a, <u32>v);
  else store<u64>(a, v);
}

/** The result starts as vd (for the forms that keep part of it: INS, the "2" narrowing forms, TBX). */
export function resultFrom(d: u32): void {
  const a = vregAddress(d);
  store<u64>(RESULT, load<u64>(a));
  store<u64>(RESULT + 8, load<u64>(a, 8));
}

/** vd = the low `bytes` (1, 2, 4, 8 or 16) of the result, zero above: a D-form zeroes bits 127:64. */
export function commit(d: u32, bytes: u32): void {
  const a = vregAddress(d);
  const lo = load<u64>(RESULT);
  store<u64>(a, bytes >= 8 ? lo : lo & ((<u64>1 << <u64>(bytes << 3)) - 1));
  store<u64>(a, bytes > 8 ? load<u64>(RESULT + 8) : 0, 8);
}

/** FPSR.QC: cumulative saturation. */
export function setQc(): void {
  setSlot(Slot.FPSR, slot(Slot.FPSR) | (1 << 27));
}

/** SignedSatQ of an exact value (which fits i64) into esize bits, as bits. */
export function satSigned(v: i64, sz: u32): u64 {
  const max = maxSigned(sz);
  if (v > max) {
    setQc();
    return <u64>max;
  }
  if (v < ~max) {
    setQc();
    return <u64>~max & ones(sz);
  }
  return <u64>v & ones(sz);
}

/** UnsignedSatQ of an exact value (which fits i64) into esize bits; sz < 3. */
export function satUnsigned(v: i64, sz: u32): u64 {
  if (v < 0) {
    setQc();
    return 0;
  }
  if (<u64>v > ones(sz)) {
    setQc();
    return ones(sz);
  }
  return <u64>v;
}

/** UnsignedSatQ of an unsigned value (any u64) into esize bits. */
export function satUnsignedOf(v: u64, sz: u32): u64 {
  if (v > ones(sz)) {
    setQc();
    return ones(sz);
  }
  return v;
}

/** SQADD: a + b saturated (a, b sign-extended). */
export function addSatSigned(a: i64, b: i64, sz: u32): u64 {
  if (sz < 3) return satSigned(a + b, sz);
  const r = a + b;
  if (((a ^ r) & (b ^ r)) < 0) {
    setQc();
    return a < 0 ? <u64>i64.MIN_VALUE : <u64>i64.MAX_VALUE;
  }
  return <u64>r;
}

/** SQSUB: a - b saturated. */
export function subSatSigned(a: i64, b: i64, sz: u32): u64 {
  if (sz < 3) return satSigned(a - b, sz);
  const r = a - b;
  if (((a ^ b) & (a ^ r)) < 0) {
    setQc();
    return a < 0 ? <u64>i64.MIN_VALUE : <u64>i64.MAX_VALUE;
  }
  return <u64>r;
}

/** UQADD: a + b saturated (zero-extended). */
export function addSatUnsigned(a: u64, b: u64, sz: u32): u64 {
  if (sz < 3) return satUnsigned(<i64>(a + b), sz);
  const r = a + b;
  if (r < a) {
    setQc();
    return <u64>-1;
  }
  return r;
}

/** UQSUB: a - b saturated. */
export function subSatUnsigned(a: u64, b: u64, sz: u32): u64 {
  if (a < b) {
    setQc();
    return 0;
  }
  return a - b;
}

/** SUQADD: signed a + unsigned b, saturated signed. */
export function addSatSignedUnsigned(a: i64, b: u64, sz: u32): u64 {
  if (sz < 3) return satSigned(a + <i64>b, sz);
  if (b > <u64>i64.MAX_VALUE - <u64>a) {
    setQc();
    return <u64>i64.MAX_VALUE;
  }
  return <u64>a + b;
}

/** USQADD: unsigned a + signed b, saturated unsigned. */
export function addSatUnsignedSigned(a: u64, b: i64, sz: u32): u64 {
  if (sz < 3) return satUnsigned(<i64>a + b, sz);
  if (b >= 0) return addSatUnsigned(a, <u64>b, 3);
  return subSatUnsigned(a, <u64>-b, 3);
}

/** x >> n for a 64-bit (extended) value and any n >= 0: arithmetic when `signed`. */
export function shiftRight(x: u64, n: u32, signed: bool): u64 {
  if (n >= 64) return signed ? <u64>(<i64>x >> 63) : 0;
  return signed ? <u64>(<i64>x >> <i64>n) : x >> <u64>n;
}

/** (x + 2^(n-1)) >> n, exactly (as if with unbounded precision), for an extended value. */
export function shiftRightRound(x: u64, n: u32, signed: bool): u64 {
  if (n == 0) return x;
  if (n > 64) return 0;
  if (n == 64) return signed ? 0 : x >> 63;
  return shiftRight(x, n, signed) + ((x >> <u64>(n - 1)) & 1);
}

/**
 * x << n saturated, for SQSHL (signed to signed), UQSHL (unsigned to unsigned) and SQSHLU (signed
 * to unsigned); x is the extended element.
 */
export function shiftLeftSat(x: u64, n: u32, sz: u32, signedIn: bool, unsignedOut: bool): u64 {
  if (x == 0) return 0;
  const esize = <u32>8 << sz;
  if (signedIn && <i64>x < 0) {
    if (unsignedOut) {
      setQc();
      return 0;
    }
    const min = ~maxSigned(sz);
    if (n >= esize) {
      setQc();
      return <u64>min & ones(sz);
    }
    const r = <i64>x << <i64>n;
    if ((r >> <i64>n) != <i64>x || r < min) {
      setQc();
      return <u64>min & ones(sz);
    }
    return <u64>r & ones(sz);
  }
  const max: u64 = unsignedOut ? ones(sz) : <u64>maxSigned(sz);
  if (n >= esize) {
    setQc();
    return max;
  }
  const r = x << <u64>n;
  if ((r >> <u64>n) != x || r > max) {
    setQc();
    return max;
  }
  return r;
}

/** SSHL, USHL, SRSHL, URSHL, SQSHL, UQSHL, SQRSHL, UQRSHL: shift by the signed low byte of `by`. */
export function shiftByRegister(x: u64, by: u64, sz: u32, signed: bool, round: bool, saturate: bool): u64 {
  const shift = <i32><i8>by;
  if (shift >= 0) {
    if (saturate) return shiftLeftSat(x, shift, sz, signed, !signed);
    return shift >= (8 << sz) ? 0 : (x << <u64>shift) & ones(sz);
  }
  const r = round ? shiftRightRound(x, -shift, signed) : shiftRight(x, -shift, signed);
  return r & ones(sz);
}

/** Polynomial multiplication over {0,1} of two values of up to 32 bits (PMUL, PMULL). */
export function polyMul(a: u64, b: u64): u64 {
  let r: u64 = 0;
  for (let i: u64 = 0; i < 32; i++) if ((b >> i) & 1) r ^= a << i;
  return r;
}
