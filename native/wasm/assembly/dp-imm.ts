// Data processing -- immediate (op0 = 100x). Classes by insn[25:23], as the Arm ARM lists them.

import { bit, field, imm2Of, immOf, rd, rn, sf, signExtend, xd, xn, xt } from './insn';
import { Op } from './ops';
import { addSub, decodeBitMasks, setLogicalFlags } from './alu';
import { reg, regAt, setReg, setRegAt, sized } from './state';
import { undefinedInsn } from './exceptions';

/** ADR's offset, immhi:immlo; ADRP's (op = insn[31]) in pages. */
export function pcRelOffset(insn: u32): u64 {
  const imm = signExtend(<u64>((field(insn, 5, 19) << 2) | field(insn, 29, 2)), 21);
  return sf(insn) ? imm << 12 : imm;
}

/** PC-rel. addressing: ADR, ADRP (op = insn[31]); immOf: pcRelOffset. */
@inline export function pcRelAddressing(e: usize, insn: u32, pc: u64): u64 {
  setRegAt(xd(e), (sf(insn) ? pc & ~(<u64>0xfff) : pc) + immOf(e));
  return pc + 4;
}

/**
 * Add/subtract (immediate): ADD, ADDS, SUB, SUBS, sf, op and S constant per Op; immOf: imm12, shifted
 * by 12 if sh = insn[22]. Rn is SP for register 31, and so is Rd unless S (CMP, CMN write XZR).
 */
@inline export function addSubImmediate(e: usize, pc: u64, is64: bool, sub: bool, setFlags: bool): u64 {
  setRegAt(xd(e), addSub(regAt(xn(e)), immOf(e), sub, is64, setFlags));
  return pc + 4;
}

/**
 * The bitmask immediate of a logical (immediate) instruction, or 0 for an UNDEFINED one: reserved,
 * or immN = 1 in a 32-bit form.
 */
export function logicalMask(insn: u32): u64 {
  if (!sf(insn) && bit(insn, 22)) return 0;
  return decodeBitMasks(field(insn, 22, 1), field(insn, 10, 6), field(insn, 16, 6), true);
}

/**
 * Logical (immediate): AND, ORR, EOR, ANDS (sf and opc constant per Op); immOf: logicalMask. Rd is
 * SP for register 31, except in ANDS (TST).
 */
@inline export function logicalImmediate(e: usize, pc: u64, is64: bool, opc: u32): u64 {
  const x = regAt(xn(e)), imm = immOf(e);
  const r = sized(opc == 0 || opc == 3 ? x & imm : opc == 1 ? x | imm : x ^ imm, is64);
  if (opc == 3) setLogicalFlags(r, is64);
  setRegAt(xd(e), r);
  return pc + 4;
}

/** Move wide (immediate) is UNDEFINED for opc = insn[30:29] = 01, and hw = insn[22:21] >= 2 in 32 bits. */
export function moveWideUndefined(insn: u32): bool {
  return field(insn, 29, 2) == 1 || (!sf(insn) && field(insn, 21, 2) >= 2);
}

/** Move wide (immediate): MOVN, MOVZ, MOVK (opc = insn[30:29]); immOf: imm16 shifted by hw:0000. */
@inline export function moveWide(e: usize, insn: u32, pc: u64): u64 {
  const opc = field(insn, 29, 2), imm = immOf(e);
  let r: u64;
  if (opc == 0) r = ~imm;
  else if (opc == 2) r = imm;
  else r = (regAt(xt(e)) & ~(<u64>0xffff << <u64>(field(insn, 21, 2) << 4))) | imm;
  setRegAt(xd(e), sized(r, sf(insn)));
  return pc + 4;
}

/** A bitfield move is UNDEFINED for opc = 11, N != sf, and immr or imms >= 32 in 32 bits. */
export function bitfieldUndefined(insn: u32): bool {
  const is64 = sf(insn);
  return field(insn, 29, 2) == 3 || field(insn, 22, 1) != <u32>is64 || (!is64 && ((insn >> 10) & 0x820) != 0);
}

/**
 * Bitfield: SBFM, BFM, UBFM (opc = insn[30:29]) and their aliases ASR, LSL, LSR, SXTB/H/W, UXTB/H, BFI,
 * BFXIL/SBFX/UBFX..., computed as the Arm ARM does from wmask (immOf) and tmask (imm2Of).
 */
@inline export function bitfield(e: usize, insn: u32, pc: u64): u64 {
  const is64 = sf(insn), opc = field(insn, 29, 2), immr = field(insn, 16, 6), imms = field(insn, 10, 6);
  const wmask = immOf(e), tmask = imm2Of(e);
  const src = regAt(xn(e));
  const dst: u64 = opc == 1 ? regAt(xt(e)) : 0; // BFM keeps the bits it does not insert
  const rotated = is64 ? rotr<u64>(src, immr) : <u64>rotr<u32>(<u32>src, immr);
  const bot = (dst & ~wmask) | (rotated & wmask);
  // SBFM fills the top with the sign bit src<imms>; UBFM with zeros; BFM keeps dst.
  const top: u64 = opc == 0 ? 0 - ((src >> imms) & 1) : dst;
  setRegAt(xd(e), sized((top & ~tmask) | (bot & tmask), is64));
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
  return op == Op.ADD_W_IMM || op == Op.AND_W_IMM ? op + field(insn, 29, 3) : op;
}
