// Executes one decoded instruction (decode.ts): its class's handler. Every handler takes the
// instruction word (and, if it uses them, the decoded fields at `e`) and its address and returns
// where execution continues: pc + 4, a branch target, an exception vector, or (with STOPPED
// flipped in) where run() resumes after stopping for the host.

import { FIRST_COLD, Op } from './ops';
import { opOf } from './insn';
import { addSubImmediate, bitfield, extract, logicalImmediate, moveWide, pcRelAddressing } from './dp-imm';
import {
  addSubCarry, addSubExtended, addSubShifted, conditionalCompare, conditionalSelect, dataProcessing1Source,
  dataProcessing2Source, logicalShifted, multiplyAdd, multiplyAddLong, multiplyHigh,
} from './dp-reg';
import { branchImmediate, branchRegister, compareBranch, conditionalBranch, testBranch } from './branch';
import { exceptionGeneration, system } from './system';
import {
  loadLiteral, loadPairSigned, loadStoreExclusive, loadStoreImm9, loadStorePair, loadStoreRegister,
  loadStoreRegisterOffset, loadStoreUnsigned,
} from './loadstore';
import { Ext } from './memory';
import { retry, simdFp, undefinedInsn, unsupported } from './exceptions';
import { runTranslated } from './jit';
import {
  fpCompareInsn, fpConditionalCompare, fpConditionalSelect, fpDataProcessing1, fpDataProcessing2, fpDataProcessing3,
  fpFixedConversion, fpImmediate, fpIntConversion,
} from './fp-scalar';
import { loadFpLiteral, loadStoreFpPair, loadStoreFpRegister, loadStoreFpStructure } from './fp-loadstore';
import { advancedSimd } from './advsimd';

/**
 * The hot classes. With `fast` (run()'s fast loop) the handlers make no calls: what would need one
 * (an access outside RAM, an UNDEFINED or rare form) returns retry(pc) instead, before any effect, as
 * does every other Op.
 */
@inline export function executeHot(op: Op, e: usize, insn: u32, pc: u64, fast: bool): u64 {
  switch (op) {
    case Op.ADD_W_IMM: return addSubImmediate(e, pc, false, false, false);
    case Op.ADDS_W_IMM: return addSubImmediate(e, pc, false, false, true);
    case Op.SUB_W_IMM: return addSubImmediate(e, pc, false, true, false);
    case Op.SUBS_W_IMM: return addSubImmediate(e, pc, false, true, true);
    case Op.ADD_X_IMM: return addSubImmediate(e, pc, true, false, false);
    case Op.ADDS_X_IMM: return addSubImmediate(e, pc, true, false, true);
    case Op.SUB_X_IMM: return addSubImmediate(e, pc, true, true, false);
    case Op.SUBS_X_IMM: return addSubImmediate(e, pc, true, true, true);
    case Op.ADD_W_SHIFTED: return addSubShifted(e, insn, pc, false, false, false);
    case Op.ADDS_W_SHIFTED: return addSubShifted(e, insn, pc, false, false, true);
    case Op.SUB_W_SHIFTED: return addSubShifted(e, insn, pc, false, true, false);
    case Op.SUBS_W_SHIFTED: return addSubShifted(e, insn, pc, false, true, true);
    case Op.ADD_X_SHIFTED: return addSubShifted(e, insn, pc, true, false, false);
    case Op.ADDS_X_SHIFTED: return addSubShifted(e, insn, pc, true, false, true);
    case Op.SUB_X_SHIFTED: return addSubShifted(e, insn, pc, true, true, false);
    case Op.SUBS_X_SHIFTED: return addSubShifted(e, insn, pc, true, true, true);
    case Op.BRANCH_IMM: return branchImmediate(e, insn, pc);
    case Op.COMPARE_BRANCH: return compareBranch(e, insn, pc);
    case Op.TEST_BRANCH: return testBranch(e, insn, pc);
    case Op.B_EQ: return conditionalBranch(e, pc, 0);
    case Op.B_NE: return conditionalBranch(e, pc, 1);
    case Op.B_CS: return conditionalBranch(e, pc, 2);
    case Op.B_CC: return conditionalBranch(e, pc, 3);
    case Op.B_MI: return conditionalBranch(e, pc, 4);
    case Op.B_PL: return conditionalBranch(e, pc, 5);
    case Op.B_VS: return conditionalBranch(e, pc, 6);
    case Op.B_VC: return conditionalBranch(e, pc, 7);
    case Op.B_HI: return conditionalBranch(e, pc, 8);
    case Op.B_LS: return conditionalBranch(e, pc, 9);
    case Op.B_GE: return conditionalBranch(e, pc, 10);
    case Op.B_LT: return conditionalBranch(e, pc, 11);
    case Op.B_GT: return conditionalBranch(e, pc, 12);
    case Op.B_LE: return conditionalBranch(e, pc, 13);
    case Op.B_AL: return conditionalBranch(e, pc, 14);
    case Op.B_NV: return conditionalBranch(e, pc, 15);
    case Op.BRANCH_REG: return branchRegister(insn, pc, fast);
    case Op.PC_REL: return pcRelAddressing(e, insn, pc);
    case Op.AND_W_IMM: return logicalImmediate(e, pc, false, 0);
    case Op.ORR_W_IMM: return logicalImmediate(e, pc, false, 1);
    case Op.EOR_W_IMM: return logicalImmediate(e, pc, false, 2);
    case Op.ANDS_W_IMM: return logicalImmediate(e, pc, false, 3);
    case Op.AND_X_IMM: return logicalImmediate(e, pc, true, 0);
    case Op.ORR_X_IMM: return logicalImmediate(e, pc, true, 1);
    case Op.EOR_X_IMM: return logicalImmediate(e, pc, true, 2);
    case Op.ANDS_X_IMM: return logicalImmediate(e, pc, true, 3);
    case Op.MOVE_WIDE: return moveWide(e, insn, pc);
    case Op.BITFIELD: return bitfield(e, insn, pc);
    case Op.LOGICAL_SHIFTED: return logicalShifted(e, insn, pc);
    case Op.COND_SELECT: return conditionalSelect(e, insn, pc, fast);
    case Op.MUL_ADD: return multiplyAdd(e, insn, pc);
    case Op.STRB_UIMM: return loadStoreUnsigned(e, insn, pc, 0, 0, fast);
    case Op.LDRB_UIMM: return loadStoreUnsigned(e, insn, pc, 0, 1, fast);
    case Op.LDRSB_X_UIMM: return loadStoreUnsigned(e, insn, pc, 0, 2, fast);
    case Op.LDRSB_W_UIMM: return loadStoreUnsigned(e, insn, pc, 0, 3, fast);
    case Op.STRH_UIMM: return loadStoreUnsigned(e, insn, pc, 1, 0, fast);
    case Op.LDRH_UIMM: return loadStoreUnsigned(e, insn, pc, 1, 1, fast);
    case Op.LDRSH_X_UIMM: return loadStoreUnsigned(e, insn, pc, 1, 2, fast);
    case Op.LDRSH_W_UIMM: return loadStoreUnsigned(e, insn, pc, 1, 3, fast);
    case Op.STR_W_UIMM: return loadStoreUnsigned(e, insn, pc, 2, 0, fast);
    case Op.LDR_W_UIMM: return loadStoreUnsigned(e, insn, pc, 2, 1, fast);
    case Op.LDRSW_UIMM: return loadStoreUnsigned(e, insn, pc, 2, 2, fast);
    case Op.STR_X_UIMM: return loadStoreUnsigned(e, insn, pc, 3, 0, fast);
    case Op.LDR_X_UIMM: return loadStoreUnsigned(e, insn, pc, 3, 1, fast);
    case Op.STRB_REG: return loadStoreRegisterOffset(e, insn, pc, 0, 0, fast);
    case Op.LDRB_REG: return loadStoreRegisterOffset(e, insn, pc, 0, 1, fast);
    case Op.LDRSB_X_REG: return loadStoreRegisterOffset(e, insn, pc, 0, 2, fast);
    case Op.LDRSB_W_REG: return loadStoreRegisterOffset(e, insn, pc, 0, 3, fast);
    case Op.STRH_REG: return loadStoreRegisterOffset(e, insn, pc, 1, 0, fast);
    case Op.LDRH_REG: return loadStoreRegisterOffset(e, insn, pc, 1, 1, fast);
    case Op.LDRSH_X_REG: return loadStoreRegisterOffset(e, insn, pc, 1, 2, fast);
    case Op.LDRSH_W_REG: return loadStoreRegisterOffset(e, insn, pc, 1, 3, fast);
    case Op.STR_W_REG: return loadStoreRegisterOffset(e, insn, pc, 2, 0, fast);
    case Op.LDR_W_REG: return loadStoreRegisterOffset(e, insn, pc, 2, 1, fast);
    case Op.LDRSW_REG: return loadStoreRegisterOffset(e, insn, pc, 2, 2, fast);
    case Op.STR_X_REG: return loadStoreRegisterOffset(e, insn, pc, 3, 0, fast);
    case Op.LDR_X_REG: return loadStoreRegisterOffset(e, insn, pc, 3, 1, fast);
    case Op.STRB_IMM9: return loadStoreImm9(e, insn, pc, 0, 0, fast);
    case Op.LDRB_IMM9: return loadStoreImm9(e, insn, pc, 0, 1, fast);
    case Op.LDRSB_X_IMM9: return loadStoreImm9(e, insn, pc, 0, 2, fast);
    case Op.LDRSB_W_IMM9: return loadStoreImm9(e, insn, pc, 0, 3, fast);
    case Op.STRH_IMM9: return loadStoreImm9(e, insn, pc, 1, 0, fast);
    case Op.LDRH_IMM9: return loadStoreImm9(e, insn, pc, 1, 1, fast);
    case Op.LDRSH_X_IMM9: return loadStoreImm9(e, insn, pc, 1, 2, fast);
    case Op.LDRSH_W_IMM9: return loadStoreImm9(e, insn, pc, 1, 3, fast);
    case Op.STR_W_IMM9: return loadStoreImm9(e, insn, pc, 2, 0, fast);
    case Op.LDR_W_IMM9: return loadStoreImm9(e, insn, pc, 2, 1, fast);
    case Op.LDRSW_IMM9: return loadStoreImm9(e, insn, pc, 2, 2, fast);
    case Op.STR_X_IMM9: return loadStoreImm9(e, insn, pc, 3, 0, fast);
    case Op.LDR_X_IMM9: return loadStoreImm9(e, insn, pc, 3, 1, fast);
    case Op.STP_W: return loadStorePair(e, insn, pc, 2, false, Ext.ZERO, fast);
    case Op.LDP_W: return loadStorePair(e, insn, pc, 2, true, Ext.ZERO, fast);
    case Op.STP_X: return loadStorePair(e, insn, pc, 3, false, Ext.ZERO, fast);
    case Op.LDP_X: return loadStorePair(e, insn, pc, 3, true, Ext.ZERO, fast);
    case Op.SYSTEM: return system(insn, pc, fast);
    default: return retry(pc); // not hot: only the fast loop gets here
  }
}

/** Any class, completely. */
@inline export function execute(e: usize, insn: u32, pc: u64): u64 {
  return executeOp(opOf(e), e, insn, pc);
}

/** Class `op`, completely (a translated unit's entry runs its instruction's own Op when the unit declines). */
@inline export function executeOp(op: Op, e: usize, insn: u32, pc: u64): u64 {
  if (op < FIRST_COLD) return executeHot(op, e, insn, pc, false);
  switch (op) {
    case Op.UNDEFINED: return undefinedInsn(insn, pc);
    case Op.UNSUPPORTED: return unsupported(insn, pc);
    case Op.SIMD_FP: return simdFp(insn, pc);
    case Op.EXTRACT: return extract(insn, pc);
    case Op.ADD_SUB_EXTENDED: return addSubExtended(insn, pc);
    case Op.ADD_SUB_CARRY: return addSubCarry(insn, pc);
    case Op.COND_COMPARE: return conditionalCompare(insn, pc);
    case Op.DP_2SOURCE: return dataProcessing2Source(insn, pc);
    case Op.DP_1SOURCE: return dataProcessing1Source(insn, pc);
    case Op.MUL_ADD_LONG: return multiplyAddLong(insn, pc);
    case Op.MUL_HIGH: return multiplyHigh(insn, pc);
    case Op.EXCEPTION_GEN: return exceptionGeneration(insn, pc);
    case Op.LDST_REGISTER: return loadStoreRegister(e, insn, pc);
    case Op.LOAD_LITERAL: return loadLiteral(e, insn, pc);
    case Op.LDST_PAIR: return loadPairSigned(e, insn, pc);
    case Op.TRANSLATED: return runTranslated(e, insn, pc);
    case Op.LDST_EXCLUSIVE: return loadStoreExclusive(insn, pc);
    // Scalar FP, SIMD&FP loads and stores
    case Op.FP_DP1: return fpDataProcessing1(insn, pc);
    case Op.FP_DP2: return fpDataProcessing2(insn, pc);
    case Op.FP_DP3: return fpDataProcessing3(insn, pc);
    case Op.FP_COMPARE: return fpCompareInsn(insn, pc);
    case Op.FP_CCOMPARE: return fpConditionalCompare(insn, pc);
    case Op.FP_CSEL: return fpConditionalSelect(insn, pc);
    case Op.FP_IMM: return fpImmediate(insn, pc);
    case Op.FP_INT_CONV: return fpIntConversion(insn, pc);
    case Op.FP_FIXED_CONV: return fpFixedConversion(insn, pc);
    case Op.LDST_FP_REGISTER: return loadStoreFpRegister(insn, pc);
    case Op.LDST_FP_PAIR: return loadStoreFpPair(insn, pc);
    case Op.LOAD_FP_LITERAL: return loadFpLiteral(insn, pc);
    case Op.SIMD_TABLE: case Op.SIMD_PERMUTE: case Op.SIMD_EXTRACT: case Op.SIMD_COPY: case Op.SIMD_THREE_SAME:
    case Op.SIMD_THREE_DIFF: case Op.SIMD_TWO_MISC: case Op.SIMD_ACROSS: case Op.SIMD_PAIRWISE: case Op.SIMD_MOD_IMM:
    case Op.SIMD_SHIFT_IMM: case Op.SIMD_INDEXED: return advancedSimd(op, insn, pc);
    default: return loadStoreFpStructure(insn, pc);
  }
}
