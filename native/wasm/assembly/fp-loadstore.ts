// Loads and stores of SIMD&FP registers (the load/store group with V = insn[26] = 1): LDR/STR of
// b, h, s, d and q registers in every addressing form, LDP/STP/LDNP/STNP of s, d and q, LDR
// (literal), and LD1-LD4/ST1-ST4 (multiple structures, single structure, replicate). KVM reports
// no syndrome for an access to a SIMD&FP register outside RAM: every one exits MMIO_NO_SYNDROME,
// before any effect.

import { Op } from './ops';
import { bit, field, ra, rd, rm, rn, signExtend } from './insn';
import { extendReg } from './alu';
import { Slot, reg, regSp, setRegSp, setSlot, vregAddress } from './state';
import { fpTrapped } from './sysregs';
import { alignmentFault, simdFp, undefinedInsn } from './exceptions';
import { Ext, Mmio, inRamAt, outside, ramBase, readRam, resumePc, unalignedInRam, writeRam, RAM } from './memory';
import { setVScalar, vLow } from './fp-scalar';

/** The class of a load/store with V = 1, by op0 = insn[29:28] and insn[24]. */
export function selectLoadStoreFp(insn: u32): Op {
  switch (field(insn, 28, 2)) {
    case 0: return bit(insn, 31) || bit(insn, 25) ? Op.UNDEFINED : Op.LDST_FP_STRUCT;
    case 1: return bit(insn, 24) ? Op.UNSUPPORTED : Op.LOAD_FP_LITERAL; // LDAPUR/STLUR SIMD&FP (Armv8.4 RCPC)
    case 2: return Op.LDST_FP_PAIR;
    default: return Op.LDST_FP_REGISTER;
  }
}

// --- Memory ----------------------------------------------------------------------------------------

/** Where execution goes when vAccessible found an access that cannot complete. */
let blockedPc: u64 = 0;

/**
 * True if `count` consecutive accesses of `1 << sizeLog2` bytes from addr all complete in RAM; else
 * false with blockedPc set by the first that does not: an alignment fault or a no-syndrome exit.
 */
function vAccessible(addr: u64, sizeLog2: u32, count: u32, isWrite: bool, pc: u64, insn: u32): bool {
  // Aligned, or (MMU on) anywhere in Normal RAM: unaligned accesses complete there.
  if (inRamAt(addr - ramBase, sizeLog2, count) || unalignedInRam(addr - ramBase, <u64>count << sizeLog2)) return true;
  const bytes: u64 = 1 << sizeLog2;
  let bad = addr;
  while (inRamAt(bad - ramBase, sizeLog2)) bad += bytes;
  if (sizeLog2 == 4 && (bad & 15) != 0) {
    blockedPc = alignmentFault(bad, isWrite, pc);
  } else {
    outside(bad, min(sizeLog2, 3), isWrite, 0, pc, insn, Mmio.NO_SYNDROME, 0, Ext.ZERO, false);
    if (sizeLog2 == 4) setSlot(Slot.MMIO_SIZE, 16);
    blockedPc = resumePc;
  }
  return false;
}

/** Register t = the `1 << sizeLog2` bytes at RAM offset off (the rest of the register zeroed). */
function loadV(off: usize, sizeLog2: u32, t: u32): void {
  if (sizeLog2 == 4) {
    const v = vregAddress(t);
    store<u64>(v, load<u64>(off, RAM));
    store<u64>(v, load<u64>(off + 8, RAM), 8);
  } else setVScalar(t, readRam(off, sizeLog2), sizeLog2);
}

/** The low `1 << sizeLog2` bytes of register t to RAM offset off. */
function storeV(off: usize, sizeLog2: u32, t: u32): void {
  if (sizeLog2 == 4) {
    const v = vregAddress(t);
    store<u64>(off, load<u64>(v), RAM);
    store<u64>(off + 8, load<u64>(v, 8), RAM);
  } else writeRam(off, sizeLog2, vLow(t));
}

// --- Single registers and pairs ------------------------------------------------------------------

/**
 * LDR/STR (SIMD&FP), by size = insn[31:30] and opc = insn[23:22] (size 00 with opc 1x: q), in the
 * form insn[24], insn[21], insn[11:10] say: unsigned immediate, register offset, imm9 unscaled,
 * post-index or pre-index.
 */
export function loadStoreFpRegister(insn: u32, pc: u64): u64 {
  if (fpTrapped()) return simdFp(insn, pc);
  const opc = field(insn, 22, 2), isLoad = (opc & 1) != 0;
  if (opc >= 2 && field(insn, 30, 2) != 0) return undefinedInsn(insn, pc);
  const sizeLog2 = opc >= 2 ? 4 : field(insn, 30, 2);
  const base = regSp(rn(insn));
  let addr = base, writeback = false, updated: u64 = 0;
  if (bit(insn, 24)) {
    addr = base + (<u64>field(insn, 10, 12) << sizeLog2);
  } else if (bit(insn, 21)) {
    const option = field(insn, 13, 3);
    if (field(insn, 10, 2) != 2 || (option & 2) == 0) return undefinedInsn(insn, pc);
    addr = base + extendReg(reg(rm(insn)), option, bit(insn, 12) ? sizeLog2 : 0);
  } else {
    const form = field(insn, 10, 2);
    if (form == 2) return undefinedInsn(insn, pc); // no unprivileged forms
    updated = base + signExtend(<u64>field(insn, 12, 9), 9);
    writeback = form != 0;
    addr = form == 1 ? base : updated;
  }
  if (!vAccessible(addr, sizeLog2, 1, !isLoad, pc, insn)) return blockedPc;
  const off = <usize>(addr - ramBase);
  if (isLoad) loadV(off, sizeLog2, rd(insn));
  else storeV(off, sizeLog2, rd(insn));
  if (writeback) setRegSp(rn(insn), updated);
  return pc + 4;
}

/** LDR (literal, SIMD&FP), by opc = insn[31:30]: s, d, q. */
export function loadFpLiteral(insn: u32, pc: u64): u64 {
  if (fpTrapped()) return simdFp(insn, pc);
  const opc = field(insn, 30, 2);
  if (opc == 3) return undefinedInsn(insn, pc);
  const sizeLog2 = opc + 2;
  const addr = pc + signExtend(<u64>(field(insn, 5, 19) << 2), 21);
  if (!vAccessible(addr, sizeLog2, 1, false, pc, insn)) return blockedPc;
  loadV(<usize>(addr - ramBase), sizeLog2, rd(insn));
  return pc + 4;
}

/**
 * LDP/STP/LDNP/STNP (SIMD&FP), by opc = insn[31:30] (s, d, q), L = insn[22] and insn[24:23]: 00
 * no-allocate offset, 01 post-index, 10 offset, 11 pre-index. Both halves complete, or neither.
 */
export function loadStoreFpPair(insn: u32, pc: u64): u64 {
  if (fpTrapped()) return simdFp(insn, pc);
  const opc = field(insn, 30, 2), isLoad = bit(insn, 22), index = field(insn, 23, 2);
  if (opc == 3) return undefinedInsn(insn, pc);
  const sizeLog2 = opc + 2;
  const base = regSp(rn(insn));
  const updated = base + (signExtend(<u64>field(insn, 15, 7), 7) << sizeLog2);
  const addr = index == 1 ? base : updated;
  if (!vAccessible(addr, sizeLog2, 2, !isLoad, pc, insn)) return blockedPc;
  const off = <usize>(addr - ramBase), second = off + (<usize>1 << sizeLog2);
  if (isLoad) {
    loadV(off, sizeLog2, rd(insn));
    loadV(second, sizeLog2, ra(insn));
  } else {
    storeV(off, sizeLog2, rd(insn));
    storeV(second, sizeLog2, ra(insn));
  }
  if (index & 1) setRegSp(rn(insn), updated);
  return pc + 4;
}

// --- Structures ----------------------------------------------------------------------------------

// LD1-LD4/ST1-ST4 (multiple structures), by opcode = insn[15:12]: registers (rpt) and structure
// elements (selem) packed as rpt << 4 | selem, 0 for unallocated.
const MULTIPLE: StaticArray<u8> = [
  0x14, 0, 0x41, 0, 0x13, 0, 0x31, 0x11, 0x12, 0, 0x21, 0, 0, 0, 0, 0,
];

/** Element e (of `1 << sizeLog2` bytes) of register t, as a byte address. */
@inline function elementAddress(t: u32, e: u32, sizeLog2: u32): usize {
  return vregAddress(t & 31) + (<usize>e << sizeLog2);
}

@inline function copyElement(to: usize, from: usize, sizeLog2: u32): void {
  switch (sizeLog2) {
    case 0: store<u8>(to, load<u8>(from)); break;
    case 1: store<u16>(to, load<u16>(from)); break;
    case 2: store<u32>(to, load<u32>(from)); break;
    default: store<u64>(to, load<u64>(from));
  }
}

/**
 * Advanced SIMD load/store multiple structures (insn[24] = 0) and single structure (insn[24] = 1),
 * with post-index (insn[23]) by the bytes transferred (Rm = 31) or by Xm.
 */
export function loadStoreFpStructure(insn: u32, pc: u64): u64 {
  if (fpTrapped()) return simdFp(insn, pc);
  const post = bit(insn, 23), m = rm(insn);
  if (!post && m != 0) return undefinedInsn(insn, pc);
  const total = bit(insn, 24) ? singleStructure(insn, pc) : multipleStructures(insn, pc);
  if (total < 0) return blockedPc;
  if (post) setRegSp(rn(insn), regSp(rn(insn)) + (m == 31 ? <u64>total : reg(m)));
  return pc + 4;
}

/** LD1-LD4/ST1-ST4 (multiple structures): the bytes transferred, or -1 (blockedPc set). */
function multipleStructures(insn: u32, pc: u64): i32 {
  const q = bit(insn, 30), isLoad = bit(insn, 22), sizeLog2 = field(insn, 10, 2), t = rd(insn);
  const shape = MULTIPLE[field(insn, 12, 4)];
  const rpt: u32 = shape >> 4, selem: u32 = shape & 15;
  if (bit(insn, 21) || shape == 0 || (sizeLog2 == 3 && !q && selem != 1)) {
    blockedPc = undefinedInsn(insn, pc);
    return -1;
  }
  const elements: u32 = (q ? 16 : 8) >> sizeLog2;
  const count = rpt * selem * elements;
  const addr = regSp(rn(insn));
  if (!vAccessible(addr, sizeLog2, count, !isLoad, pc, insn)) return -1;
  let off = <usize>(addr - ramBase) + RAM;
  if (isLoad && !q) for (let r: u32 = 0; r < rpt * selem; r++) store<u64>(vregAddress((t + r) & 31), 0, 8);
  for (let r: u32 = 0; r < rpt; r++) {
    for (let e: u32 = 0; e < elements; e++) {
      for (let s: u32 = 0; s < selem; s++) {
        const v = elementAddress(t + r + s, e, sizeLog2);
        if (isLoad) copyElement(v, off, sizeLog2);
        else copyElement(off, v, sizeLog2);
        off += <usize>1 << sizeLog2;
      }
    }
  }
  return <i32>(count << sizeLog2);
}

/**
 * LD1-LD4/ST1-ST4 (single structure) and LD1R-LD4R, by opcode = insn[15:13], S = insn[12], size =
 * insn[11:10], R = insn[21]: the bytes transferred, or -1 (blockedPc set).
 */
function singleStructure(insn: u32, pc: u64): i32 {
  const q = bit(insn, 30), isLoad = bit(insn, 22), opcode = field(insn, 13, 3), s = field(insn, 12, 1);
  const size = field(insn, 10, 2), t = rd(insn);
  const selem: u32 = (((opcode & 1) << 1) | field(insn, 21, 1)) + 1;
  let sizeLog2 = opcode >> 1, index: u32 = 0;
  let ok = true;
  switch (sizeLog2) {
    case 0: index = (<u32>q << 3) | (s << 2) | size; break;
    case 1: ok = (size & 1) == 0; index = (<u32>q << 2) | (s << 1) | (size >> 1); break;
    case 2:
      if (size == 0) index = (<u32>q << 1) | s;
      else if (size == 1 && s == 0) { sizeLog2 = 3; index = <u32>q; }
      else ok = false;
      break;
    default: ok = isLoad && s == 0; sizeLog2 = size; // replicate
  }
  if (!ok) {
    blockedPc = undefinedInsn(insn, pc);
    return -1;
  }
  const addr = regSp(rn(insn));
  if (!vAccessible(addr, sizeLog2, selem, !isLoad, pc, insn)) return -1;
  let off = <usize>(addr - ramBase) + RAM;
  for (let i: u32 = 0; i < selem; i++) {
    if (opcode >> 1 == 3) { // LDnR: the element in every lane (of the low 64 bits only, unless Q)
      const elements: u32 = (q ? 16 : 8) >> sizeLog2;
      for (let e: u32 = 0; e < elements; e++) copyElement(elementAddress(t + i, e, sizeLog2), off, sizeLog2);
      if (!q) store<u64>(vregAddress((t + i) & 31), 0, 8);
    } else if (isLoad) {
      copyElement(elementAddress(t + i, index, sizeLog2), off, sizeLog2);
    } else {
      copyElement(off, elementAddress(t + i, index, sizeLog2), sizeLog2);
    }
    off += <usize>1 << sizeLog2;
  }
  return <i32>(selem << sizeLog2);
}
