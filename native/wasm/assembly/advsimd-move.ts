// Advanced SIMD data movement: copy (DUP, INS, SMOV, UMOV and the scalar DUP), permute (ZIP, UZP,
// TRN), extract (EXT), table lookup (TBL, TBX) and modified immediate (MOVI, MVNI, ORR, BIC, FMOV).

import { bit, field, rd, rm, rn } from './insn';
import { reg, setReg } from './state';
import { Status, commit, lane, resultFrom, sext, setLane } from './advsimd-lanes';

/** Advanced SIMD (scalar) copy. imm5's lowest set bit gives the element size, the bits above it the index. */
export function copy(insn: u32): Status {
  const imm5 = field(insn, 16, 5), imm4 = field(insn, 11, 4), q = bit(insn, 30), op = bit(insn, 29);
  const size = ctz(imm5);
  if (size > 3) return Status.UNDEFINED;
  const index = imm5 >> (size + 1), d = rd(insn), n = rn(insn);
  if (bit(insn, 28)) { // DUP (element), scalar: Vd = Vn[index]
    if (op || imm4 != 0) return Status.UNDEFINED;
    setLane(0, size, lane(n, index, size));
    commit(d, <u32>1 << size);
    return Status.DONE;
  }
  const bytes: u32 = q ? 16 : 8, elements = bytes >> size;
  if (op) { // INS (element): Vd[index] = Vn[imm4 >> size]
    if (!q) return Status.UNDEFINED;
    resultFrom(d);
    setLane(index, size, lane(n, imm4 >> size, size));
    commit(d, 16);
    return Status.DONE;
  }
  switch (imm4) {
    case 0b0000: { // DUP (element)
      if (size == 3 && !q) return Status.UNDEFINED;
      const v = lane(n, index, size);
      for (let i: u32 = 0; i < elements; i++) setLane(i, size, v);
      commit(d, bytes);
      return Status.DONE;
    }
    case 0b0001: { // DUP (general)
      if (size == 3 && !q) return Status.UNDEFINED;
      const v = reg(n);
      for (let i: u32 = 0; i < elements; i++) setLane(i, size, v);
      commit(d, bytes);
      return Status.DONE;
    }
    case 0b0011: // INS (general)
      if (!q) return Status.UNDEFINED;
      resultFrom(d);
      setLane(index, size, reg(n));
      commit(d, 16);
      return Status.DONE;
    case 0b0101: { // SMOV: to Wd (Q = 0) or Xd
      if (size > (q ? 2 : 1)) return Status.UNDEFINED;
      const v = <u64>sext(lane(n, index, size), size);
      setReg(d, q ? v : v & 0xffff_ffff);
      return Status.DONE;
    }
    case 0b0111: // UMOV: to Wd (bytes to words) or Xd (doublewords)
      if (q ? size != 3 : size == 3) return Status.UNDEFINED;
      setReg(d, lane(n, index, size));
      return Status.DONE;
    default:
      return Status.UNDEFINED;
  }
}

/** Advanced SIMD permute: UZP1, TRN1, ZIP1, UZP2, TRN2, ZIP2 (opcode = insn[14:12]). */
export function permute(insn: u32): Status {
  const size = field(insn, 22, 2), opcode = field(insn, 12, 3), q = bit(insn, 30);
  if ((size == 3 && !q) || (opcode & 3) == 0) return Status.UNDEFINED;
  const n = rn(insn), m = rm(insn), bytes: u32 = q ? 16 : 8, elements = bytes >> size, pairs = elements >> 1;
  const part: u32 = opcode >> 2;
  for (let i: u32 = 0; i < elements; i++) {
    let src: u32, j: u32;
    switch (opcode & 3) {
      case 1: { // UZP: the even (odd) elements of Vm:Vn
        const k = (i << 1) + part;
        src = k < elements ? n : m;
        j = k % elements;
        break;
      }
      case 2: // TRN: the even (odd) elements of Vn and Vm interleaved
        src = i & 1 ? m : n;
        j = (i & ~1) + part;
        break;
      default: // ZIP: the low (high) halves of Vn and Vm interleaved
        src = i & 1 ? m : n;
        j = (i >> 1) + part * pairs;
    }
    setLane(i, size, lane(src, j, size));
  }
  commit(rd(insn), bytes);
  return Status.DONE;
}

/** EXT: bytes imm4 onwards of Vm:Vn. */
export function extract(insn: u32): Status {
  const q = bit(insn, 30), imm4 = field(insn, 11, 4), bytes: u32 = q ? 16 : 8;
  if (!q && imm4 >= 8) return Status.UNDEFINED;
  const n = rn(insn), m = rm(insn);
  for (let i: u32 = 0; i < bytes; i++) {
    const k = imm4 + i;
    setLane(i, 0, k < bytes ? lane(n, k, 0) : lane(m, k - bytes, 0));
  }
  commit(rd(insn), bytes);
  return Status.DONE;
}

/** TBL, TBX: bytes of Vn..Vn+len (mod 32) by Vm's indexes; out of range is 0 (TBL) or Vd's byte (TBX). */
export function tableLookup(insn: u32): Status {
  const q = bit(insn, 30), len = field(insn, 13, 2) + 1, tbx = bit(insn, 12), bytes: u32 = q ? 16 : 8;
  const d = rd(insn), n = rn(insn), m = rm(insn);
  const indexes = lane(m, 0, 3), indexesHi = lane(m, 1, 3); // read before Vd may change
  if (tbx) resultFrom(d);
  for (let i: u32 = 0; i < bytes; i++) {
    const index = <u32>((i < 8 ? indexes >> (<u64>i << 3) : indexesHi >> (<u64>(i - 8) << 3)) & 0xff);
    if (index < len << 4) setLane(i, 0, lane((n + (index >> 4)) & 31, index & 15, 0));
    else if (!tbx) setLane(i, 0, 0);
  }
  commit(d, bytes);
  return Status.DONE;
}

/** A byte replicated to the 8 bytes of a u64. */
@inline function replicate8(b: u64): u64 {
  return b * 0x0101_0101_0101_0101;
}

/** AdvSIMDExpandImm(op, cmode, imm8): the 64-bit pattern, or 1 for the one unallocated form. */
function expandImmediate(op: bool, cmode: u32, imm8: u64): u64 {
  switch (cmode >> 1) {
    case 0: case 1: case 2: case 3: return (imm8 << <u64>((cmode >> 1) * 8)) * 0x1_0000_0001;
    case 4: case 5: return (imm8 << <u64>(((cmode >> 1) & 1) * 8)) * 0x0001_0001_0001_0001;
    case 6: return ((cmode & 1) ? (imm8 << 16) | 0xffff : (imm8 << 8) | 0xff) * 0x1_0000_0001;
    default: break;
  }
  if ((cmode & 1) == 0) {
    if (!op) return replicate8(imm8);
    let r: u64 = 0; // each bit of imm8 to a byte of ones
    for (let i: u64 = 0; i < 8; i++) if ((imm8 >> i) & 1) r |= <u64>0xff << (i * 8);
    return r;
  }
  const a = imm8 >> 7, b = (imm8 >> 6) & 1, cdefgh = imm8 & 0x3f;
  if (!op) { // FMOV (vector, single): a:NOT(b):Replicate(b, 5):cdefgh:Zeros(19), twice
    const f = (a << 31) | ((b ^ 1) << 30) | ((b * 0x1f) << 25) | (cdefgh << 19);
    return f * 0x1_0000_0001;
  }
  // FMOV (vector, double): a:NOT(b):Replicate(b, 8):cdefgh:Zeros(48)
  return (a << 63) | ((b ^ 1) << 62) | ((b * 0xff) << 54) | (cdefgh << 48);
}

/** Advanced SIMD modified immediate: MOVI, MVNI, ORR, BIC (vector, immediate), FMOV (vector, immediate). */
export function modifiedImmediate(insn: u32): Status {
  const q = bit(insn, 30), op = bit(insn, 29), cmode = field(insn, 12, 4), d = rd(insn);
  if (bit(insn, 11)) return Status.UNSUPPORTED; // o2 = 1: FMOV (vector, half-precision), Armv8.2
  if (cmode == 0b1111 && op && !q) return Status.UNDEFINED;
  const imm8 = (<u64>field(insn, 16, 3) << 5) | field(insn, 5, 5);
  const imm = expandImmediate(op, cmode, imm8);
  const bytes: u32 = q ? 16 : 8;
  // ORR and BIC: the shifted 32- and 16-bit forms with cmode<0> = 1 (not 11xx)
  const logical = (cmode & 1) != 0 && cmode < 0b1100;
  const invert = op && cmode < 0b1110; // MVNI, BIC
  for (let i: u32 = 0; i < bytes >> 3; i++) {
    let r = invert ? ~imm : imm;
    if (logical) r = op ? lane(d, i, 3) & r : lane(d, i, 3) | r;
    setLane(i, 3, r);
  }
  commit(d, bytes);
  return Status.DONE;
}

