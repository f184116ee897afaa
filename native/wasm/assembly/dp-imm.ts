// Data processing -- immediate (op0 = 100x). Classes by insn[25:23], as the Arm ARM lists them.

import { bit, field, rd, rn, sf, signExtend } from './insn';
import { Op } from './ops';
import { addSub, bitMasks, setLogicalFlags, tmask } from './alu';
import { reg, regSp, setReg, setRegSp, sized } from './state';
import { RETRY, undefinedInsn, undefinedOrRetry } from './exceptions';

/** PC-rel. addressing: ADR, ADRP (op = insn[31]); immhi:immlo, in pages for ADRP. */
@inline export function pcRelAddressing(insn: u32, pc: u64): u64 {
  const imm = signExtend(<u64>((field(insn, 5, 19) << 2) | field(insn, 29, 2)), 21);
  setReg(rd(insn), sf(insn) ? (pc & ~(<u64>0xfff)) + (imm << 12) : pc + imm);
  return pc + 4;
}

/**
 * Add/subtract (immediate): ADD, ADDS, SUB, SUBS, sf, op and S constant per Op, `lsl12` (sh =
 * insn[22]: imm12 shifted by 12) too: the rare shifted form is an Op of its own.
 */
@inline export function addSubImmediate(insn: u32, pc: u64, is64: bool, sub: bool, setFlags: bool, lsl12: bool): u64 {
  const imm = <u64>field(insn, 10, 12) << (lsl12 ? 12 : 0);
  const r = addSub(regSp(rn(insn)), imm, sub, is64, setFlags);
  // The flag-setting forms write XZR for register 31 (CMP/CMN); the others write SP.
  if (setFlags) setReg(rd(insn), r);
  else setRegSp(rd(insn), r);
  return pc + 4;
}

/** Logical (immediate): AND, ORR, EOR, ANDS (sf and opc constant per Op) with a bitmask immediate. */
@inline export function logicalImmediate(insn: u32, pc: u64, is64: bool, opc: u32, fast: bool): u64 {
  if (!is64 && bit(insn, 22)) return undefinedOrRetry(insn, pc, fast);
  const imm = bitMasks(insn, true, fast);
  if (imm == 0) return undefinedOrRetry(insn, pc, fast);
  const x = reg(rn(insn));
  const r = sized(opc == 0 || opc == 3 ? x & imm : opc == 1 ? x | imm : x ^ imm, is64);
  if (opc == 3) {
    setLogicalFlags(r, is64);
    setReg(rd(insn), r);
  } else {
    setRegSp(rd(insn), r); // AND/ORR/EOR (immediate) write SP for register 31
  }
  return pc + 4;
}

/** Move wide (immediate): MOVN, MOVZ, MOVK (opc = insn[30:29]; 01 is unallocated). */
@inline export function moveWide(insn: u32, pc: u64, fast: bool): u64 {
  const is64 = sf(insn), opc = field(insn, 29, 2), hw = field(insn, 21, 2);
  if (opc == 1 || (!is64 && hw >= 2)) return undefinedOrRetry(insn, pc, fast);
  const shift = <u64>(hw << 4);
  const imm = <u64>field(insn, 5, 16) << shift;
  let r: u64;
  if (opc == 0) r = ~imm;
  else if (opc == 2) r = imm;
  else r = (reg(rd(insn)) & ~(<u64>0xffff << shift)) | imm;
  setReg(rd(insn), sized(r, is64));
  return pc + 4;
}

/**
 * Bitfield: SBFM, BFM, UBFM (opc = insn[30:29]) and their aliases ASR, LSL, LSR, SXTB/H/W, UXTB/H, BFI,
 * BFXIL/SBFX/UBFX..., computed as the Arm ARM does from wmask and tmask.
 */
@inline export function bitfield(insn: u32, pc: u64, fast: bool): u64 {
  const is64 = sf(insn), opc = field(insn, 29, 2), n = field(insn, 22, 1);
  const immr = field(insn, 16, 6), imms = field(insn, 10, 6);
  if (opc == 3 || n != <u32>is64 || (!is64 && ((immr | imms) & 32) != 0)) return undefinedOrRetry(insn, pc, fast);
  const wmask = bitMasks(insn, false, fast);
  if (wmask == 0) return pc | RETRY; // not cached yet, in the fast loop (valid encodings have a mask)
  const src = reg(rn(insn));
  const dst: u64 = opc == 1 ? reg(rd(insn)) : 0; // BFM keeps the bits it does not insert
  const rotated = is64 ? rotr<u64>(src, immr) : <u64>rotr<u32>(<u32>src, immr);
  const bot = (dst & ~wmask) | (rotated & wmask);
  // SBFM fills the top with the sign bit src<imms>; UBFM with zeros; BFM keeps dst.
  const top: u64 = opc == 0 ? 0 - ((src >> imms) & 1) : dst;
  setReg(rd(insn), sized((top & ~tmask) | (bot & tmask), is64));
  return pc + 4;
}

/** Extract: EXTR (ROR by an immediate when Rn = Rm), the lsb-th bits of Rn:Rm. */
export function extract(insn: u32, pc: u64): u64 {
  const is64 = sf(insn), lsb = field(insn, 10, 6);
  if (field(insn, 29, 2) != 0 || bit(insn, 21) || field(insn, 22, 1) != <u32>is64 || (!is64 && lsb >= 32)) {
    return undefinedInsn(insn, pc);
  }
  const hi = reg(rn(insn)), lo = reg(field(insn, 16, 5));
  let r: u64;
  if (lsb == 0) r = lo;
  else if (is64) r = (lo >> lsb) | (hi << (64 - lsb));
  else r = ((lo & 0xffff_ffff) >> lsb) | (hi << (32 - lsb));
  setReg(rd(insn), sized(r, is64));
  return pc + 4;
}

// Indexed by insn[25:23]; 011 is "add/subtract (immediate, with tags)" (MTE, not implemented
// here, so UNDEFINED as on an Armv8.0 core).
const DP_IMMEDIATE: StaticArray<Op> = [
  Op.PC_REL, Op.PC_REL, Op.ADD_W_IMM, Op.UNDEFINED,
  Op.AND_W_IMM, Op.MOVE_WIDE, Op.BITFIELD, Op.EXTRACT,
];

export function selectDpImmediate(insn: u32): Op {
  const op = DP_IMMEDIATE[field(insn, 23, 3)];
  // one Op per sf:op:S (add/subtract), sf:opc (logical)
  if (op == Op.ADD_W_IMM && bit(insn, 22)) return Op.ADD_SUB_IMM_LSL12;
  return op == Op.ADD_W_IMM || op == Op.AND_W_IMM ? op + field(insn, 29, 3) : op;
}
