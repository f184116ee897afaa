// Branches, exception generating and system instructions (op0 = 101x): the branches, and the
// class table, indexed like the Arm ARM's by op0 = insn[31:29] and op1's top bits insn[25:24].

import { bit, field, immOf, rd, rn, sf, signExtend, xt } from './insn';
import { condition } from './flags';
import { reg, regAt, setReg, sized } from './state';
import { exceptionReturn, pcAlignmentFault, retry, undefinedOrRetry } from './exceptions';
import { Op } from './ops';
import { taken } from './jit';

/** The offset a branch (immediate) of class `op` adds to its PC: imm26, imm14 or imm19, times 4. */
export function branchOffset(op: Op, insn: u32): u64 {
  if (op == Op.BRANCH_IMM) return signExtend(<u64>(insn << 2), 28);
  if (op == Op.TEST_BRANCH) return signExtend(<u64>(field(insn, 5, 14) << 2), 16);
  return signExtend(<u64>(field(insn, 5, 19) << 2), 21); // CBZ, CBNZ, B.cond
}

// The branches (immediate) take their branchOffset as immOf(e).

/** Unconditional branch (immediate): B, BL (op = insn[31] links). */
@inline export function branchImmediate(e: usize, insn: u32, pc: u64): u64 {
  if (sf(insn)) setReg(30, pc + 4);
  return taken(pc + immOf(e));
}

/** Compare and branch (immediate): CBZ, CBNZ (op = insn[24]). */
@inline export function compareBranch(e: usize, insn: u32, pc: u64): u64 {
  const isZero = sized(regAt(xt(e)), sf(insn)) == 0;
  return isZero != bit(insn, 24) ? taken(pc + immOf(e)) : pc + 4;
}

/** Test and branch (immediate): TBZ, TBNZ (op = insn[24]) on bit b5:b40 of Rt. */
@inline export function testBranch(e: usize, insn: u32, pc: u64): u64 {
  const b = (field(insn, 31, 1) << 5) | field(insn, 19, 5);
  const isZero = ((regAt(xt(e)) >> <u64>b) & 1) == 0;
  return isZero != bit(insn, 24) ? taken(pc + immOf(e)) : pc + 4;
}

/** Conditional branch (immediate): B.cond, cond constant per Op (BC.cond, o0 = insn[4] = 1, is UNDEFINED). */
@inline export function conditionalBranch(e: usize, pc: u64, cond: u32): u64 {
  return condition(cond) ? taken(pc + immOf(e)) : pc + 4;
}

/**
 * Unconditional branch (register), by opc = insn[24:21]: BR, BLR, RET, ERET. op2 = insn[20:16]
 * must be 11111 and op3 = insn[15:10] zero (non-zero op3 are the pointer-authentication forms).
 */
@inline export function branchRegister(insn: u32, pc: u64, fast: bool): u64 {
  const opc = field(insn, 21, 4);
  if (field(insn, 16, 5) != 31 || field(insn, 10, 6) != 0 || rd(insn) != 0) return undefinedOrRetry(insn, pc, fast);
  if (opc == 0b0100 && rn(insn) == 31) return fast ? retry(pc) : exceptionReturn(insn, pc);
  if (opc > 0b0010) return undefinedOrRetry(insn, pc, fast);
  const target = reg(rn(insn)); // read before BLR writes x30: BLR x30 branches to the old value
  if ((target & 3) != 0) {
    if (fast) return retry(pc); // before BLR writes x30: the retry reads it again
    if (opc == 0b0001) setReg(30, pc + 4);
    return pcAlignmentFault(target);
  }
  if (opc == 0b0001) setReg(30, pc + 4);
  return taken(target);
}

// Indexed by op0 = insn[31:29] : insn[25:24].
const BRANCH_SYSTEM: StaticArray<Op> = [
  Op.BRANCH_IMM, Op.BRANCH_IMM, Op.BRANCH_IMM, Op.BRANCH_IMM,             // 000: B
  Op.COMPARE_BRANCH, Op.COMPARE_BRANCH, Op.TEST_BRANCH, Op.TEST_BRANCH,   // 001
  Op.B_EQ, Op.UNDEFINED, Op.UNDEFINED, Op.UNDEFINED,                      // 010: B.cond (decode() adds cond)
  Op.UNDEFINED, Op.UNDEFINED, Op.UNDEFINED, Op.UNDEFINED,                 // 011
  Op.BRANCH_IMM, Op.BRANCH_IMM, Op.BRANCH_IMM, Op.BRANCH_IMM,             // 100: BL
  Op.COMPARE_BRANCH, Op.COMPARE_BRANCH, Op.TEST_BRANCH, Op.TEST_BRANCH,   // 101
  Op.EXCEPTION_GEN, Op.SYSTEM, Op.BRANCH_REG, Op.BRANCH_REG,              // 110
  Op.UNDEFINED, Op.UNDEFINED, Op.UNDEFINED, Op.UNDEFINED,                 // 111
];

export function selectBranchSystem(insn: u32): Op {
  return BRANCH_SYSTEM[(field(insn, 29, 3) << 2) | field(insn, 24, 2)];
}
