// Advanced SIMD integer arithmetic, vector and scalar (insn[28] = 1: one element, and the result
// zeroes the rest of the register): three same, three different, two-register miscellaneous,
// across lanes, pairwise, shift by immediate and vector x indexed element. Field names are the
// Arm ARM's; sz is log2 of the element's bytes. The FP opcodes of each class go to advsimd-fp.ts.

import { bit, field, rd, rm, rn } from './insn';
import {
  Status, addSatSigned, addSatSignedUnsigned, addSatUnsigned, addSatUnsignedSigned, commit, lane, ones,
  polyMul, resultFrom, satSigned, satUnsigned, satUnsignedOf, setLane, setQc, sext, shiftByRegister, shiftLeftSat, shiftRight,
  shiftRightRound, slane, subSatSigned, subSatUnsigned, maxSigned,
} from './advsimd-lanes';
import { fpAcrossLanes, fpIndexedElement, fpScalarPairwise, fpShiftImmediate, fpThreeSame, fpTwoRegMisc } from './advsimd-fp';

/** Elements of esize 8 << sz in a vector (Q) or the one of a scalar form. */
@inline function elementsOf(insn: u32, sz: u32): u32 {
  return bit(insn, 28) ? 1 : (bit(insn, 30) ? 16 : 8) >> sz;
}

/** Bytes the result takes: the vector (Q) or the scalar element. */
@inline function bytesOf(insn: u32, sz: u32): u32 {
  return bit(insn, 28) ? <u32>1 << sz : bit(insn, 30) ? 16 : 8;
}

/** All ones or zero, as a comparison's result lane. */
@inline function mask(c: bool, sz: u32): u64 {
  return c ? ones(sz) : 0;
}

/** |a - b| of extended values (sz < 3: exact). */
@inline function absDiff(a: u64, b: u64, signed: bool): u64 {
  return signed ? (<i64>a > <i64>b ? a - b : b - a) : a > b ? a - b : b - a;
}

/** SQDMULH, SQRDMULH: the high half of 2ab (rounded), saturated; sz 1 or 2. */
function doublingMulHigh(a: i64, b: i64, sz: u32, round: bool): u64 {
  const esize = <i64>(8 << sz);
  if (a == ~maxSigned(sz) && b == a) { // the one product that overflows
    setQc();
    return <u64>maxSigned(sz);
  }
  const p = 2 * a * b + (round ? <i64>1 << (esize - 1) : 0);
  return <u64>(p >> esize) & ones(sz);
}

/** SQDMULL: 2ab in 2 * esize bits, saturated; sz 1 or 2. */
function doublingMulLong(a: i64, b: i64, sz: u32): u64 {
  if (a == ~maxSigned(sz) && b == a) {
    setQc();
    return <u64>maxSigned(sz + 1);
  }
  return <u64>(2 * a * b) & ones(sz + 1);
}

// --- Three same (and its scalar form) ---------------------------------------------------------------

/** Whether U:opcode (integer three same) allows size = 11; `scalar` for the scalar class. */
function sizeAllowed(uop: u32, size: u32, q: bool, scalar: bool): bool {
  const opcode = uop & 31;
  if (scalar) {
    switch (opcode) {
      case 0b00001: case 0b00101: case 0b01001: case 0b01011: return true; // saturating: every size
      case 0b00110: case 0b00111: case 0b01000: case 0b01010: case 0b10000: case 0b10001: return size == 3;
      case 0b10110: return size == 1 || size == 2; // SQDMULH, SQRDMULH
      default: return false;
    }
  }
  if (size == 3 && !q) return false;
  switch (opcode) {
    case 0b00001: case 0b00101: case 0b00110: case 0b00111: case 0b01000: case 0b01001: case 0b01010:
    case 0b01011: case 0b10000: case 0b10001: return true;
    case 0b10011: return uop == 0b10011 ? size != 3 : size == 0; // MUL; PMUL bytes only
    case 0b10110: return size == 1 || size == 2;
    case 0b10111: return uop == 0b10111; // ADDP (U = 0)
    default: return size != 3;
  }
}

/** One lane of an integer three-same operation (U:opcode), a from Vn, b from Vm, d from Vd. */
function threeSameLane(uop: u32, a: u64, b: u64, d: u64, sz: u32): u64 {
  const signed = (uop & 32) == 0;
  const x = signed ? <u64>sext(a, sz) : a, y = signed ? <u64>sext(b, sz) : b;
  const m = ones(sz);
  switch (uop & 31) {
    case 0b00000: return shiftRight(x + y, 1, signed) & m;             // SHADD, UHADD
    case 0b00001: return signed ? addSatSigned(<i64>x, <i64>y, sz) : addSatUnsigned(x, y, sz);
    case 0b00010: return shiftRight(x + y + 1, 1, signed) & m;         // SRHADD, URHADD
    case 0b00100: return shiftRight(x - y, 1, true) & m;               // SHSUB, UHSUB (exact: sz < 3)
    case 0b00101: return signed ? subSatSigned(<i64>x, <i64>y, sz) : subSatUnsigned(x, y, sz);
    case 0b00110: return mask(signed ? <i64>x > <i64>y : x > y, sz);    // CMGT, CMHI
    case 0b00111: return mask(signed ? <i64>x >= <i64>y : x >= y, sz);  // CMGE, CMHS
    case 0b01000: return shiftByRegister(x, b, sz, signed, false, false); // SSHL, USHL
    case 0b01001: return shiftByRegister(x, b, sz, signed, false, true);  // SQSHL, UQSHL
    case 0b01010: return shiftByRegister(x, b, sz, signed, true, false);  // SRSHL, URSHL
    case 0b01011: return shiftByRegister(x, b, sz, signed, true, true);   // SQRSHL, UQRSHL
    case 0b01100: case 0b10100: return (signed ? <i64>x >= <i64>y : x >= y) ? a : b; // SMAX(P), UMAX(P)
    case 0b01101: case 0b10101: return (signed ? <i64>x <= <i64>y : x <= y) ? a : b; // SMIN(P), UMIN(P)
    case 0b01110: return absDiff(x, y, signed) & m;                    // SABD, UABD
    case 0b01111: return (d + absDiff(x, y, signed)) & m;              // SABA, UABA
    case 0b10000: case 0b10111: return (signed ? a + b : a - b) & m;   // ADD, ADDP; SUB
    case 0b10001: return mask(signed ? (a & b) != 0 : a == b, sz);     // CMTST, CMEQ
    case 0b10010: return (signed ? d + a * b : d - a * b) & m;         // MLA, MLS
    case 0b10011: return (signed ? a * b : polyMul(a, b)) & m;         // MUL, PMUL
    default: return doublingMulHigh(sext(a, sz), sext(b, sz), sz, !signed); // SQDMULH, SQRDMULH
  }
}

/** Logical (three same, opcode 00011): AND, BIC, ORR, ORN, EOR, BSL, BIT, BIF by U:size. */
function logical(insn: u32): Status {
  if (bit(insn, 28)) return Status.UNDEFINED;
  const d = rd(insn), n = rn(insn), m = rm(insn), bytes: u32 = bit(insn, 30) ? 16 : 8;
  for (let i: u32 = 0; i < bytes >> 3; i++) {
    const a = lane(n, i, 3), b = lane(m, i, 3), c = lane(d, i, 3);
    let r: u64;
    switch (field(insn, 22, 2) | (<u32>bit(insn, 29) << 2)) {
      case 0: r = a & b; break;
      case 1: r = a & ~b; break;
      case 2: r = a | b; break;
      case 3: r = a | ~b; break;
      case 4: r = a ^ b; break;
      case 5: r = (c & a) | (~c & b); break;   // BSL
      case 6: r = (b & a) | (~b & c); break;   // BIT
      default: r = (~b & a) | (b & c); break;  // BIF
    }
    setLane(i, 3, r);
  }
  commit(d, bytes);
  return Status.DONE;
}

/** Advanced SIMD (scalar) three same, integer opcodes. */
export function threeSame(insn: u32): Status {
  const opcode = field(insn, 11, 5);
  if (opcode >= 0b11000) return fpThreeSame(insn);
  if (opcode == 0b00011) return logical(insn);
  const size = field(insn, 22, 2), uop = opcode | (<u32>bit(insn, 29) << 5), scalar = bit(insn, 28);
  if (!sizeAllowed(uop, size, bit(insn, 30), scalar)) return Status.UNDEFINED;
  const d = rd(insn), n = rn(insn), m = rm(insn), elements = elementsOf(insn, size);
  if (opcode == 0b10100 || opcode == 0b10101 || opcode == 0b10111) {
    // Pairwise: the operation on adjacent pairs of Vm:Vn (Vn's pairs first).
    const half = elements >> 1;
    for (let i: u32 = 0; i < elements; i++) {
      const src = i < half ? n : m, j = (i % half) << 1;
      setLane(i, size, threeSameLane(uop, lane(src, j, size), lane(src, j + 1, size), 0, size));
    }
  } else {
    for (let i: u32 = 0; i < elements; i++) {
      setLane(i, size, threeSameLane(uop, lane(n, i, size), lane(m, i, size), lane(d, i, size), size));
    }
  }
  commit(d, bytesOf(insn, size));
  return Status.DONE;
}

// --- Three different (and its scalar form) ------------------------------------------------------------

/** Advanced SIMD (scalar) three different: the long, wide and narrowing-high forms, integer. */
export function threeDifferent(insn: u32): Status {
  const size = field(insn, 22, 2), opcode = field(insn, 12, 4), u = bit(insn, 29), scalar = bit(insn, 28);
  const saturating = opcode == 0b1001 || opcode == 0b1011 || opcode == 0b1101; // SQDML*L, SQDMULL
  if (scalar && (!saturating || u)) return Status.UNDEFINED;
  if (opcode == 0b1111 || (u && (saturating || opcode == 0b1110))) return Status.UNDEFINED;
  if (opcode == 0b1110) {
    if (size == 3) return pmull64(insn); // PMULL 1Q (FEAT_PMULL)
    if (size != 0) return Status.UNDEFINED;
  } else if (size == 3 || (saturating && size == 0)) {
    return Status.UNDEFINED;
  }
  const d = rd(insn), n = rn(insn), m = rm(insn), signed = !u && opcode != 0b1110, wide = size + 1;
  const part: u32 = !scalar && bit(insn, 30) ? 1 : 0;
  const elements: u32 = scalar ? 1 : 8 >> size, base = part * elements;
  const narrowing = opcode == 0b0100 || opcode == 0b0110;
  if (narrowing && part != 0) resultFrom(d);
  for (let i: u32 = 0; i < elements; i++) {
    // Operands extended to 64 bits: a from Vn (wide for the W and narrowing forms), b from Vm.
    const wideN = opcode == 0b0001 || opcode == 0b0011 || narrowing;
    const a: u64 = wideN ? lane(n, i, wide) : signed ? <u64>slane(n, base + i, size) : lane(n, base + i, size);
    const b: u64 = narrowing ? lane(m, i, wide) : signed ? <u64>slane(m, base + i, size) : lane(m, base + i, size);
    const acc = lane(d, i, wide), wm = ones(wide);
    let r: u64;
    switch (opcode) {
      case 0b0000: case 0b0001: r = a + b; break;                       // [SU]ADDL, [SU]ADDW
      case 0b0010: case 0b0011: r = a - b; break;                       // [SU]SUBL, [SU]SUBW
      case 0b0100: case 0b0110: {                                      // ADDHN, RADDHN, SUBHN, RSUBHN
        const esize = <u64>(8 << size);
        const s = (opcode == 0b0100 ? a + b : a - b) + (u ? <u64>1 << (esize - 1) : 0);
        setLane(base + i, size, (s & wm) >> esize);
        continue;
      }
      case 0b0101: r = acc + absDiff(a, b, signed); break;              // [SU]ABAL
      case 0b0111: r = absDiff(a, b, signed); break;                    // [SU]ABDL
      case 0b1000: r = acc + a * b; break;                              // [SU]MLAL
      case 0b1010: r = acc - a * b; break;                              // [SU]MLSL
      case 0b1100: r = a * b; break;                                    // [SU]MULL
      case 0b1110: r = polyMul(a, b); break;                            // PMULL (bytes)
      default: {
        const p = doublingMulLong(<i64>a, <i64>b, size);
        if (opcode == 0b1101) r = p;
        else {
          const x = sext(acc, wide), y = sext(p, wide);
          r = opcode == 0b1001 ? addSatSigned(x, y, wide) : subSatSigned(x, y, wide);
        }
      }
    }
    setLane(i, wide, r & wm);
  }
  commit(d, narrowing ? 8 << part : scalar ? <u32>1 << wide : 16);
  return Status.DONE;
}

/** PMULL{2} of 64-bit elements: a 128-bit carry-less product. */
function pmull64(insn: u32): Status {
  const part: u32 = bit(insn, 30) ? 1 : 0;
  const a = lane(rn(insn), part, 3), b = lane(rm(insn), part, 3);
  let lo: u64 = 0, hi: u64 = 0;
  for (let i: u64 = 0; i < 64; i++) {
    if ((b >> i) & 1) {
      lo ^= a << i;
      if (i != 0) hi ^= a >> (64 - i);
    }
  }
  setLane(0, 3, lo);
  setLane(1, 3, hi);
  commit(rd(insn), 16);
  return Status.DONE;
}

// --- Two-register miscellaneous (and its scalar form) -----------------------------------------------

/** CLS, CLZ of an esize-bit value. */
function countLeading(x: u64, sz: u32, sign: bool): u64 {
  const esize = <u64>(8 << sz);
  if (!sign) return clz(x) - (64 - esize);
  // CLZ(x<N-1:1> EOR x<N-2:0>): of the sign-extended value, whose bits above the element cancel
  const s = <u64>sext(x, sz);
  return clz(s ^ <u64>(<i64>s >> 1)) - (65 - esize);
}

/** RBIT of a byte. */
function reverseByte(x: u64): u64 {
  let r: u64 = 0;
  for (let i: u64 = 0; i < 8; i++) r |= ((x >> i) & 1) << (7 - i);
  return r;
}

/** Advanced SIMD (scalar) two-register miscellaneous, integer opcodes. */
export function twoRegMisc(insn: u32): Status {
  const size = field(insn, 22, 2), opcode = field(insn, 12, 5), u = bit(insn, 29), q = bit(insn, 30);
  const scalar = bit(insn, 28), uop = opcode | (<u32>u << 5);
  const d = rd(insn), n = rn(insn);
  if (opcode >= 0b01100 && opcode != 0b10010 && opcode != 0b10011 && opcode != 0b10100) return fpTwoRegMisc(insn);
  // Narrowing: XTN, SQXTUN, SQXTN, UQXTN (and SHLL, which widens): a half of the result.
  if (opcode == 0b10010 || opcode == 0b10100) {
    if (size == 3 || (uop == 0b010010 && scalar)) return Status.UNDEFINED; // XTN has no scalar form
    const part: u32 = !scalar && q ? 1 : 0, elements: u32 = scalar ? 1 : 8 >> size;
    if (part != 0) resultFrom(d);
    for (let i: u32 = 0; i < elements; i++) {
      const x = lane(n, i, size + 1);
      let r: u64;
      if (uop == 0b010010) r = x;                                          // XTN
      else if (uop == 0b110010) r = satUnsigned(sext(x, size + 1), size);  // SQXTUN (scalar, or vector: sext fits)
      else if (u) r = satUnsignedOf(x, size);                              // UQXTN
      else r = satSigned(sext(x, size + 1), size);                         // SQXTN
      setLane(part * elements + i, size, r);
    }
    commit(d, scalar ? <u32>1 << size : 8 << part);
    return Status.DONE;
  }
  if (uop == 0b110011) { // SHLL{2}: by esize
    if (scalar || size == 3) return Status.UNDEFINED;
    const part: u32 = q ? 1 : 0, elements: u32 = 8 >> size;
    for (let i: u32 = 0; i < elements; i++) setLane(i, size + 1, lane(n, part * elements + i, size) << <u64>(8 << size));
    commit(d, 16);
    return Status.DONE;
  }
  if (!valid2RegMisc(uop, size, q, scalar)) return Status.UNDEFINED;
  if (uop == 0b100101) { // NOT, RBIT (size 00, 01) of bytes
    const bytes: u32 = q ? 16 : 8;
    for (let i: u32 = 0; i < bytes; i++) setLane(i, 0, size == 0 ? ~lane(n, i, 0) : reverseByte(lane(n, i, 0)));
    commit(d, bytes);
    return Status.DONE;
  }
  const elements = elementsOf(insn, size);
  if (opcode == 0b00010 || opcode == 0b00110) { // [SU]ADDLP, [SU]ADALP: adjacent pairs, widened
    const half = elements >> 1;
    for (let i: u32 = 0; i < half; i++) {
      const a = u ? lane(n, 2 * i, size) : <u64>slane(n, 2 * i, size);
      const b = u ? lane(n, 2 * i + 1, size) : <u64>slane(n, 2 * i + 1, size);
      setLane(i, size + 1, a + b + (opcode == 0b00110 ? lane(d, i, size + 1) : 0));
    }
    commit(d, bytesOf(insn, size));
    return Status.DONE;
  }
  if (opcode <= 0b00001) { // REV64, REV32, REV16: element order reversed within containers
    const container = 3 - (uop == 0b000000 ? 0 : uop == 0b100000 ? 1 : 2); // log2 bytes: 3, 2, 1
    const flip = (<u32>1 << (container - size)) - 1;
    for (let i: u32 = 0; i < elements; i++) setLane(i ^ flip, size, lane(n, i, size));
    commit(d, bytesOf(insn, size));
    return Status.DONE;
  }
  for (let i: u32 = 0; i < elements; i++) {
    const x = lane(n, i, size), s = slane(n, i, size), m = ones(size);
    let r: u64;
    switch (uop) {
      case 0b000011: r = addSatSignedUnsigned(sext(lane(d, i, size), size), x, size); break; // SUQADD
      case 0b100011: r = addSatUnsignedSigned(lane(d, i, size), s, size); break;         // USQADD
      case 0b000100: r = countLeading(x, size, true); break;                              // CLS
      case 0b100100: r = countLeading(x, size, false); break;                             // CLZ
      case 0b000101: r = popcnt(x); break;                                                // CNT
      case 0b000111: r = s < 0 ? subSatSigned(0, s, size) : x; break;                    // SQABS
      case 0b100111: r = subSatSigned(0, s, size); break;                                 // SQNEG
      case 0b001000: r = mask(s > 0, size); break;                                        // CMGT #0
      case 0b101000: r = mask(s >= 0, size); break;                                       // CMGE #0
      case 0b001001: r = mask(s == 0, size); break;                                       // CMEQ #0
      case 0b101001: r = mask(s <= 0, size); break;                                       // CMLE #0
      case 0b001010: r = mask(s < 0, size); break;                                        // CMLT #0
      case 0b001011: r = (s < 0 ? 0 - x : x) & m; break;                                  // ABS
      default: r = (0 - x) & m; break;                                                    // NEG
    }
    setLane(i, size, r);
  }
  commit(d, bytesOf(insn, size));
  return Status.DONE;
}

/** The size/Q rules of the integer two-register miscellaneous forms left to twoRegMisc's loop. */
function valid2RegMisc(uop: u32, size: u32, q: bool, scalar: bool): bool {
  if (scalar) {
    switch (uop) {
      case 0b000011: case 0b100011: case 0b000111: case 0b100111: return true;
      case 0b001000: case 0b101000: case 0b001001: case 0b101001: case 0b001010: case 0b001011: case 0b101011:
        return size == 3;
      default: return false;
    }
  }
  if (size == 3 && !q) return false;
  switch (uop) {
    case 0b000000: return size != 3;                 // REV64
    case 0b100000: return size < 2;                  // REV32
    case 0b000001: return size == 0;                 // REV16
    case 0b000010: case 0b100010: case 0b000110: case 0b100110: // [SU]ADDLP, [SU]ADALP
    case 0b000100: case 0b100100: return size != 3;  // CLS, CLZ
    case 0b000101: return size == 0;                 // CNT
    case 0b100101: return size < 2;                  // NOT, RBIT
    case 0b000011: case 0b100011: case 0b000111: case 0b100111: case 0b001000: case 0b101000:
    case 0b001001: case 0b101001: case 0b001010: case 0b001011: case 0b101011: return true;
    default: return false;
  }
}

// --- Across lanes, and scalar pairwise --------------------------------------------------------------

/** Advanced SIMD across lanes, integer: SADDLV, UADDLV, SMAXV, UMAXV, SMINV, UMINV, ADDV. */
export function acrossLanes(insn: u32): Status {
  const size = field(insn, 22, 2), opcode = field(insn, 12, 5), u = bit(insn, 29), q = bit(insn, 30);
  if (opcode == 0b01100 || opcode == 0b01111) return fpAcrossLanes(insn); // FMAXNMV, FMAXV, ...
  const long = opcode == 0b00011;
  if (!long && opcode != 0b01010 && opcode != 0b11010 && !(opcode == 0b11011 && !u)) return Status.UNDEFINED;
  if (size == 3 || (size == 2 && !q)) return Status.UNDEFINED;
  const n = rn(insn), elements: u32 = (q ? 16 : 8) >> size;
  let acc: u64 = u ? lane(n, 0, size) : <u64>slane(n, 0, size);
  for (let i: u32 = 1; i < elements; i++) {
    const x: u64 = u ? lane(n, i, size) : <u64>slane(n, i, size);
    if (long || opcode == 0b11011) acc += x;
    else if (opcode == 0b01010) acc = (u ? x > acc : <i64>x > <i64>acc) ? x : acc;
    else acc = (u ? x < acc : <i64>x < <i64>acc) ? x : acc;
  }
  const rsize = long ? size + 1 : size;
  setLane(0, rsize, acc);
  commit(rd(insn), <u32>1 << rsize);
  return Status.DONE;
}

/** Advanced SIMD scalar pairwise, integer: ADDP (scalar) of the two 64-bit elements. */
export function scalarPairwise(insn: u32): Status {
  if (field(insn, 12, 5) != 0b11011 || bit(insn, 29)) return fpScalarPairwise(insn); // FADDP, FMAXP, ...
  if (field(insn, 22, 2) != 3) return Status.UNDEFINED;
  const n = rn(insn);
  setLane(0, 3, lane(n, 0, 3) + lane(n, 1, 3));
  commit(rd(insn), 8);
  return Status.DONE;
}

// --- Shift by immediate (and its scalar form) ------------------------------------------------------------

/** Advanced SIMD (scalar) shift by immediate, integer opcodes. */
export function shiftImmediate(insn: u32): Status {
  const immh = field(insn, 19, 4), opcode = field(insn, 11, 5), u = bit(insn, 29), q = bit(insn, 30);
  const scalar = bit(insn, 28), uop = opcode | (<u32>u << 5);
  if (immh == 0) return Status.UNDEFINED; // (vector: modified immediate, decoded before)
  if (opcode == 0b11100 || opcode == 0b11111) return fpShiftImmediate(insn); // [SU]CVTF, FCVTZ[SU] (fixed-point)
  const size = 31 - clz(immh), esize: u32 = 8 << size, immhb = field(insn, 16, 7);
  const d = rd(insn), n = rn(insn);
  const narrowing = opcode >= 0b10000 && opcode <= 0b10011, long = opcode == 0b10100;
  if (narrowing || long) {
    if (size == 3 || (long && scalar)) return Status.UNDEFINED;
    if (narrowing && scalar && (uop == 0b010000 || uop == 0b010001)) return Status.UNDEFINED; // SHRN, RSHRN
    const part: u32 = !scalar && q ? 1 : 0, elements: u32 = scalar ? 1 : 8 >> size;
    if (long) { // SSHLL, USHLL (SXTL, UXTL)
      const shift = <u64>(immhb - esize);
      for (let i: u32 = 0; i < elements; i++) {
        const x = u ? lane(n, part * elements + i, size) : <u64>slane(n, part * elements + i, size);
        setLane(i, size + 1, x << shift);
      }
      commit(d, 16);
      return Status.DONE;
    }
    // Shift right by 1..esize, then narrow: SHRN, RSHRN truncate; SQSHRUN, SQRSHRUN take a signed
    // element to an unsigned one; SQ(R)SHRN signed to signed; UQ(R)SHRN unsigned to unsigned.
    const shift = 2 * esize - immhb, round = (opcode & 1) != 0, wide = size + 1;
    const truncating = !u && opcode <= 0b10001, signedIn = !(u && opcode >= 0b10010);
    if (part != 0) resultFrom(d);
    for (let i: u32 = 0; i < elements; i++) {
      const x: u64 = signedIn ? <u64>slane(n, i, wide) : lane(n, i, wide);
      const s = round ? shiftRightRound(x, shift, signedIn) : shiftRight(x, shift, signedIn);
      let r: u64;
      if (truncating) r = s;
      else if (!signedIn) r = satUnsignedOf(s, size);
      else r = u ? satUnsigned(<i64>s, size) : satSigned(<i64>s, size);
      setLane(part * elements + i, size, r);
    }
    commit(d, scalar ? <u32>1 << size : 8 << part);
    return Status.DONE;
  }
  if (scalar ? (size != 3 && opcode != 0b01100 && opcode != 0b01110) : (size == 3 && !q)) return Status.UNDEFINED;
  const elements = elementsOf(insn, size);
  const right = 2 * esize - immhb, left = immhb - esize;
  for (let i: u32 = 0; i < elements; i++) {
    const x = lane(n, i, size), s = <u64>slane(n, i, size), acc = lane(d, i, size), m = ones(size);
    let r: u64;
    switch (uop) {
      case 0b000000: r = shiftRight(s, right, true); break;                        // SSHR
      case 0b100000: r = shiftRight(x, right, false); break;                       // USHR
      case 0b000010: r = acc + shiftRight(s, right, true); break;                  // SSRA
      case 0b100010: r = acc + shiftRight(x, right, false); break;                 // USRA
      case 0b000100: r = shiftRightRound(s, right, true); break;                   // SRSHR
      case 0b100100: r = shiftRightRound(x, right, false); break;                  // URSHR
      case 0b000110: r = acc + shiftRightRound(s, right, true); break;             // SRSRA
      case 0b100110: r = acc + shiftRightRound(x, right, false); break;            // URSRA
      case 0b101000: {                                                            // SRI
        const keep = right == esize ? m : ~(m >> <u64>right) & m;
        r = (acc & keep) | shiftRight(x, right, false);
        break;
      }
      case 0b001010: r = x << <u64>left; break;                                    // SHL
      case 0b101010: r = (acc & ((<u64>1 << <u64>left) - 1)) | (x << <u64>left); break; // SLI
      case 0b101100: r = shiftLeftSat(s, left, size, true, true); break;          // SQSHLU
      case 0b001110: r = shiftLeftSat(s, left, size, true, false); break;         // SQSHL (immediate)
      case 0b101110: r = shiftLeftSat(x, left, size, false, true); break;         // UQSHL (immediate)
      default: return Status.UNDEFINED;
    }
    setLane(i, size, r & m);
  }
  commit(d, bytesOf(insn, size));
  return Status.DONE;
}

// --- Vector x indexed element (and its scalar form) --------------------------------------------------

/** Advanced SIMD (scalar) x indexed element, integer opcodes. */
export function indexedElement(insn: u32): Status {
  const size = field(insn, 22, 2), opcode = field(insn, 12, 4), u = bit(insn, 29), scalar = bit(insn, 28);
  const uop = opcode | (<u32>u << 4);
  if (opcode == 0b0001 || opcode == 0b0101 || opcode == 0b1001) return fpIndexedElement(insn); // FMLA, FMLS, FMUL(X)
  if (size == 0 || size == 3) return Status.UNDEFINED;
  // The index and Vm: H:L:M and Vm<3:0> for 16-bit elements, H:L and M:Vm for 32-bit ones.
  const h = <u32>bit(insn, 11), l = <u32>bit(insn, 21), mbit = <u32>bit(insn, 20);
  const index = size == 1 ? (h << 2) | (l << 1) | mbit : (h << 1) | l;
  const m = size == 1 ? field(insn, 16, 4) : field(insn, 16, 5);
  const d = rd(insn), n = rn(insn);
  const long = opcode == 0b0010 || opcode == 0b0011 || opcode == 0b0110 || opcode == 0b0111 || opcode == 0b1010 || opcode == 0b1011;
  const saturating = opcode == 0b0011 || opcode == 0b0111 || opcode == 0b1011 || opcode == 0b1100 || opcode == 0b1101;
  // Later extensions: SQRDMLAH, SQRDMLSH (Armv8.1), FMLAL, FMLSL, SDOT, UDOT (Armv8.2)
  if ((u && opcode == 0b1101) || opcode >= 0b1110 || (!u && (opcode == 0b0000 || opcode == 0b0100))) return Status.UNSUPPORTED;
  if (u && (saturating || opcode == 0b1000)) return Status.UNDEFINED;
  if (scalar && !saturating) return Status.UNDEFINED;
  const signed = !u;
  const ym: u64 = signed ? <u64>slane(m, index, size) : lane(m, index, size);
  if (long) {
    const part: u32 = !scalar && bit(insn, 30) ? 1 : 0, elements: u32 = scalar ? 1 : 8 >> size, wide = size + 1;
    for (let i: u32 = 0; i < elements; i++) {
      const x: u64 = signed ? <u64>slane(n, part * elements + i, size) : lane(n, part * elements + i, size);
      const acc = lane(d, i, wide);
      let r: u64;
      switch (uop) {
        case 0b00010: case 0b10010: r = acc + x * ym; break; // [SU]MLAL
        case 0b00110: case 0b10110: r = acc - x * ym; break; // [SU]MLSL
        case 0b01010: case 0b11010: r = x * ym; break;       // [SU]MULL
        default: {                                           // SQDMLAL, SQDMLSL, SQDMULL
          const p = doublingMulLong(<i64>x, <i64>ym, size);
          if (opcode == 0b1011) r = p;
          else {
            const a = sext(acc, wide), b = sext(p, wide);
            r = opcode == 0b0011 ? addSatSigned(a, b, wide) : subSatSigned(a, b, wide);
          }
        }
      }
      setLane(i, wide, r);
    }
    commit(d, scalar ? <u32>1 << wide : 16);
    return Status.DONE;
  }
  const elements = elementsOf(insn, size);
  for (let i: u32 = 0; i < elements; i++) {
    const x = lane(n, i, size), acc = lane(d, i, size);
    let r: u64;
    switch (uop) {
      case 0b10000: r = acc + x * ym; break;                                   // MLA
      case 0b10100: r = acc - x * ym; break;                                   // MLS
      case 0b01000: r = x * ym; break;                                         // MUL
      default: r = doublingMulHigh(sext(x, size), <i64>ym, size, opcode == 0b1101); // SQDMULH, SQRDMULH
    }
    setLane(i, size, r & ones(size));
  }
  commit(d, bytesOf(insn, size));
  return Status.DONE;
}
