// Executes one instruction: its class's handler. Every handler takes the instruction word and its
// address and returns where execution continues: pc + 4, a branch target, an exception vector, or
// (with STOPPED set) where run() resumes after stopping for the host.

import { FIRST_COLD, Op } from './ops';
import { bit, sf } from './insn';
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
import { RETRY, simdFp, undefinedInsn, unsupported } from './exceptions';

/**
 * The hot classes. With `fast` (run()'s fast loop) the handlers make no calls: what would need one
 * (an access outside RAM, an UNDEFINED or rare form) returns RETRY instead, before any effect, as
 * does every other Op.
 */
@inline export function executeHot(op: Op, insn: u32, pc: u64, fast: bool): u64 {
  switch (op) {
    case Op.ADD_W_IMM: return addSubImmediate(insn, pc, false, false, false, false);
    case Op.ADDS_W_IMM: return addSubImmediate(insn, pc, false, false, true, false);
    case Op.SUB_W_IMM: return addSubImmediate(insn, pc, false, true, false, false);
    case Op.SUBS_W_IMM: return addSubImmediate(insn, pc, false, true, true, false);
    case Op.ADD_X_IMM: return addSubImmediate(insn, pc, true, false, false, false);
    case Op.ADDS_X_IMM: return addSubImmediate(insn, pc, true, false, true, false);
    case Op.SUB_X_IMM: return addSubImmediate(insn, pc, true, true, false, false);
    case Op.SUBS_X_IMM: return addSubImmediate(insn, pc, true, true, true, false);
    case Op.ADD_W_SHIFTED: return addSubShifted(insn, pc, false, false, false, fast);
    case Op.ADDS_W_SHIFTED: return addSubShifted(insn, pc, false, false, true, fast);
    case Op.SUB_W_SHIFTED: return addSubShifted(insn, pc, false, true, false, fast);
    case Op.SUBS_W_SHIFTED: return addSubShifted(insn, pc, false, true, true, fast);
    case Op.ADD_X_SHIFTED: return addSubShifted(insn, pc, true, false, false, fast);
    case Op.ADDS_X_SHIFTED: return addSubShifted(insn, pc, true, false, true, fast);
    case Op.SUB_X_SHIFTED: return addSubShifted(insn, pc, true, true, false, fast);
    case Op.SUBS_X_SHIFTED: return addSubShifted(insn, pc, true, true, true, fast);
    case Op.BRANCH_IMM: return branchImmediate(insn, pc);
    case Op.COMPARE_BRANCH: return compareBranch(insn, pc);
    case Op.TEST_BRANCH: return testBranch(insn, pc);
    case Op.COND_BRANCH: return conditionalBranch(insn, pc, fast);
    case Op.BRANCH_REG: return branchRegister(insn, pc, fast);
    case Op.PC_REL: return pcRelAddressing(insn, pc);
    case Op.AND_W_IMM: return logicalImmediate(insn, pc, false, 0, fast);
    case Op.ORR_W_IMM: return logicalImmediate(insn, pc, false, 1, fast);
    case Op.EOR_W_IMM: return logicalImmediate(insn, pc, false, 2, fast);
    case Op.ANDS_W_IMM: return logicalImmediate(insn, pc, false, 3, fast);
    case Op.AND_X_IMM: return logicalImmediate(insn, pc, true, 0, fast);
    case Op.ORR_X_IMM: return logicalImmediate(insn, pc, true, 1, fast);
    case Op.EOR_X_IMM: return logicalImmediate(insn, pc, true, 2, fast);
    case Op.ANDS_X_IMM: return logicalImmediate(insn, pc, true, 3, fast);
    case Op.MOVE_WIDE: return moveWide(insn, pc, fast);
    case Op.BITFIELD: return bitfield(insn, pc, fast);
    case Op.LOGICAL_SHIFTED: return logicalShifted(insn, pc, fast);
    case Op.COND_SELECT: return conditionalSelect(insn, pc, fast);
    case Op.MUL_ADD: return multiplyAdd(insn, pc);
    case Op.STRB_UIMM: return loadStoreUnsigned(insn, pc, 0, 0, fast);
    case Op.LDRB_UIMM: return loadStoreUnsigned(insn, pc, 0, 1, fast);
    case Op.LDRSB_X_UIMM: return loadStoreUnsigned(insn, pc, 0, 2, fast);
    case Op.LDRSB_W_UIMM: return loadStoreUnsigned(insn, pc, 0, 3, fast);
    case Op.STRH_UIMM: return loadStoreUnsigned(insn, pc, 1, 0, fast);
    case Op.LDRH_UIMM: return loadStoreUnsigned(insn, pc, 1, 1, fast);
    case Op.LDRSH_X_UIMM: return loadStoreUnsigned(insn, pc, 1, 2, fast);
    case Op.LDRSH_W_UIMM: return loadStoreUnsigned(insn, pc, 1, 3, fast);
    case Op.STR_W_UIMM: return loadStoreUnsigned(insn, pc, 2, 0, fast);
    case Op.LDR_W_UIMM: return loadStoreUnsigned(insn, pc, 2, 1, fast);
    case Op.LDRSW_UIMM: return loadStoreUnsigned(insn, pc, 2, 2, fast);
    case Op.STR_X_UIMM: return loadStoreUnsigned(insn, pc, 3, 0, fast);
    case Op.LDR_X_UIMM: return loadStoreUnsigned(insn, pc, 3, 1, fast);
    case Op.STRB_REG: return loadStoreRegisterOffset(insn, pc, 0, 0, fast);
    case Op.LDRB_REG: return loadStoreRegisterOffset(insn, pc, 0, 1, fast);
    case Op.LDRSB_X_REG: return loadStoreRegisterOffset(insn, pc, 0, 2, fast);
    case Op.LDRSB_W_REG: return loadStoreRegisterOffset(insn, pc, 0, 3, fast);
    case Op.STRH_REG: return loadStoreRegisterOffset(insn, pc, 1, 0, fast);
    case Op.LDRH_REG: return loadStoreRegisterOffset(insn, pc, 1, 1, fast);
    case Op.LDRSH_X_REG: return loadStoreRegisterOffset(insn, pc, 1, 2, fast);
    case Op.LDRSH_W_REG: return loadStoreRegisterOffset(insn, pc, 1, 3, fast);
    case Op.STR_W_REG: return loadStoreRegisterOffset(insn, pc, 2, 0, fast);
    case Op.LDR_W_REG: return loadStoreRegisterOffset(insn, pc, 2, 1, fast);
    case Op.LDRSW_REG: return loadStoreRegisterOffset(insn, pc, 2, 2, fast);
    case Op.STR_X_REG: return loadStoreRegisterOffset(insn, pc, 3, 0, fast);
    case Op.LDR_X_REG: return loadStoreRegisterOffset(insn, pc, 3, 1, fast);
    case Op.STRB_IMM9: return loadStoreImm9(insn, pc, 0, 0, fast);
    case Op.LDRB_IMM9: return loadStoreImm9(insn, pc, 0, 1, fast);
    case Op.LDRSB_X_IMM9: return loadStoreImm9(insn, pc, 0, 2, fast);
    case Op.LDRSB_W_IMM9: return loadStoreImm9(insn, pc, 0, 3, fast);
    case Op.STRH_IMM9: return loadStoreImm9(insn, pc, 1, 0, fast);
    case Op.LDRH_IMM9: return loadStoreImm9(insn, pc, 1, 1, fast);
    case Op.LDRSH_X_IMM9: return loadStoreImm9(insn, pc, 1, 2, fast);
    case Op.LDRSH_W_IMM9: return loadStoreImm9(insn, pc, 1, 3, fast);
    case Op.STR_W_IMM9: return loadStoreImm9(insn, pc, 2, 0, fast);
    case Op.LDR_W_IMM9: return loadStoreImm9(insn, pc, 2, 1, fast);
    case Op.LDRSW_IMM9: return loadStoreImm9(insn, pc, 2, 2, fast);
    case Op.STR_X_IMM9: return loadStoreImm9(insn, pc, 3, 0, fast);
    case Op.LDR_X_IMM9: return loadStoreImm9(insn, pc, 3, 1, fast);
    case Op.STP_W: return loadStorePair(insn, pc, 2, false, Ext.ZERO, fast);
    case Op.LDP_W: return loadStorePair(insn, pc, 2, true, Ext.ZERO, fast);
    case Op.STP_X: return loadStorePair(insn, pc, 3, false, Ext.ZERO, fast);
    case Op.LDP_X: return loadStorePair(insn, pc, 3, true, Ext.ZERO, fast);
    case Op.SYSTEM: return system(insn, pc, fast);
    default: return pc | RETRY; // not hot: only the fast loop gets here
  }
}

/** Any class, completely. */
@inline export function execute(op: Op, insn: u32, pc: u64): u64 {
  if (op < FIRST_COLD) return executeHot(op, insn, pc, false);
  switch (op) {
    case Op.UNDEFINED: return undefinedInsn(insn, pc);
    case Op.UNSUPPORTED: return unsupported(insn, pc);
    case Op.SIMD_FP: return simdFp(insn, pc);
    case Op.ADD_SUB_IMM_LSL12: return addSubImmediate(insn, pc, sf(insn), bit(insn, 30), bit(insn, 29), true);
    case Op.EXTRACT: return extract(insn, pc);
    case Op.ADD_SUB_EXTENDED: return addSubExtended(insn, pc);
    case Op.ADD_SUB_CARRY: return addSubCarry(insn, pc);
    case Op.COND_COMPARE: return conditionalCompare(insn, pc);
    case Op.DP_2SOURCE: return dataProcessing2Source(insn, pc);
    case Op.DP_1SOURCE: return dataProcessing1Source(insn, pc);
    case Op.MUL_ADD_LONG: return multiplyAddLong(insn, pc);
    case Op.MUL_HIGH: return multiplyHigh(insn, pc);
    case Op.EXCEPTION_GEN: return exceptionGeneration(insn, pc);
    case Op.LDST_REGISTER: return loadStoreRegister(insn, pc);
    case Op.LOAD_LITERAL: return loadLiteral(insn, pc);
    case Op.LDST_PAIR: return loadPairSigned(insn, pc);
    default: return loadStoreExclusive(insn, pc);
  }
}
