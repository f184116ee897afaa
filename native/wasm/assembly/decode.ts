// The A64 decoder. The tables follow the Arm ARM's "A64 instruction set encoding": the top level
// by op0 = insn[28:25] picks an instruction group, whose own table (in the group's file) picks
// the instruction class (an Op). Every table index lies in insn[31:21], so the tables are
// evaluated once, at start-up, for all 2048 values of those bits (DISPATCH). `decode` starts
// from there and works out, once per instruction word, what its handler would otherwise work out
// on every execution; run() keeps the result in a cache (index.ts).

import { Op } from './ops';
import { bit, field, rd, rm, rn, sf, signExtend } from './insn';
import { DISCARD, Slot, slotAddress } from './state';
import { branchOffset, selectBranchSystem } from './branch';
import { bitfieldUndefined, logicalMask, moveWideUndefined, pcRelOffset, selectDpImmediate } from './dp-imm';
import { decodeBitMasks, tmask } from './alu';
import { selectDpRegister, shiftedUndefined } from './dp-reg';
import { isRegisterOffset, selectLoadStore } from './loadstore';
import { selectScalarFp } from './fp-scalar';
import { selectAdvancedSimd } from './advsimd';

type Selector = (insn: u32) => Op;

/** A group with no allocated encodings (reserved, unallocated, and SVE: not in an Armv8.0 core). */
function unallocated(_insn: u32): Op {
  return Op.UNDEFINED;
}

/** Data processing -- scalar floating-point and Advanced SIMD: all one class here. */
function selectSimdFp(_insn: u32): Op {
  return Op.SIMD_FP;
}

// Indexed by op0 = insn[28:25].
const GROUPS: StaticArray<Selector> = [
  unallocated,        // 0000 reserved (UDF)
  unallocated,        // 0001 unallocated (SME)
  unallocated,        // 0010 SVE
  unallocated,        // 0011 unallocated
  selectLoadStore,    // 0100 loads and stores (x1x0)
  selectDpRegister,   // 0101 data processing -- register (x101)
  selectLoadStore,    // 0110
  selectSimdFp,       // 0111 data processing -- scalar floating-point and Advanced SIMD (x111)
  selectDpImmediate,  // 1000 data processing -- immediate (100x)
  selectDpImmediate,  // 1001
  selectBranchSystem, // 1010 branches, exception generating and system instructions (101x)
  selectBranchSystem, // 1011
  selectLoadStore,    // 1100
  selectDpRegister,   // 1101
  selectLoadStore,    // 1110
  selectSimdFp,       // 1111
];

/** The decoded table: the Op of every value of insn[31:21]. */
export const DISPATCH: usize = memory.data(2048, 64);

export function buildDispatch(): void {
  for (let top: u32 = 0; top < 2048; top++) {
    const insn = top << 21;
    store<u8>(DISPATCH + top, GROUPS[(insn >>> 25) & 15](insn));
  }
}

/** The Op of `insn`: its class refined by the fields below insn[21] that hot handlers would test. */
function refine(op: Op, insn: u32): Op {
  if (op == Op.B_EQ) return bit(insn, 4) ? Op.UNDEFINED : op + (insn & 15); // o0 = 1: Armv8.8 BC.cond
  if (op >= Op.ADD_W_SHIFTED && op <= Op.SUBS_X_SHIFTED) return shiftedUndefined(insn, true) ? Op.UNDEFINED : op;
  if (op == Op.LOGICAL_SHIFTED) return shiftedUndefined(insn, false) ? Op.UNDEFINED : op;
  if (op >= Op.AND_W_IMM && op <= Op.ANDS_X_IMM) return logicalMask(insn) == 0 ? Op.UNDEFINED : op;
  if (op == Op.MOVE_WIDE) return moveWideUndefined(insn) ? Op.UNDEFINED : op;
  if (op == Op.BITFIELD) return bitfieldUndefined(insn) ? Op.UNDEFINED : op;
  if (op >= Op.STRB_REG && op <= Op.LDR_X_REG) return isRegisterOffset(insn) ? op : Op.LDST_REGISTER;
  if (op >= Op.STRB_IMM9 && op <= Op.LDR_X_IMM9) return field(insn, 10, 2) == 2 ? Op.LDST_REGISTER : op; // LDTR*, STTR*
  if (op == Op.LDST_PAIR) return field(insn, 23, 2) == 0 ? Op.UNDEFINED : op; // LDPSW has no no-allocate form
  if (op == Op.SIMD_FP && !bit(insn, 30) && bit(insn, 28)) return selectScalarFp(insn);
  if (op == Op.SIMD_FP) return selectAdvancedSimd(insn); // (no class: stays Op.SIMD_FP, unsupported)
  return op;
}

/**
 * The immediate of a decoded instruction (immOf), as its Op's handler takes it; 0 if it has none.
 * A bitfield move's is wmask, and it leaves tmask (imm2Of) in alu.ts's `tmask`.
 */
function immediate(op: Op, insn: u32): u64 {
  if (op >= Op.ADD_W_IMM && op <= Op.SUBS_X_IMM) return <u64>field(insn, 10, 12) << (bit(insn, 22) ? 12 : 0);
  if (op >= Op.AND_W_IMM && op <= Op.ANDS_X_IMM) return logicalMask(insn);
  if (op == Op.MOVE_WIDE) return <u64>field(insn, 5, 16) << <u64>(field(insn, 21, 2) << 4);
  if (op == Op.BITFIELD) return decodeBitMasks(field(insn, 22, 1), field(insn, 10, 6), field(insn, 16, 6), false);
  if (op == Op.PC_REL) return pcRelOffset(insn);
  if (op == Op.BRANCH_IMM || op == Op.COMPARE_BRANCH || op == Op.TEST_BRANCH) return branchOffset(op, insn);
  if (op >= Op.B_EQ && op <= Op.B_NV) return branchOffset(Op.B_EQ, insn);
  if (op >= Op.STRB_UIMM && op <= Op.LDR_X_UIMM) return <u64>field(insn, 10, 12) << field(insn, 30, 2);
  if (op >= Op.STRB_REG && op <= Op.LDR_X_REG) return bit(insn, 12) ? field(insn, 30, 2) : 0; // the shift of Rm
  if (op >= Op.STRB_IMM9 && op <= Op.LDR_X_IMM9) return signExtend(<u64>field(insn, 12, 9), 9);
  if ((op >= Op.STP_W && op <= Op.LDP_X) || op == Op.LDST_PAIR) {
    return signExtend(<u64>field(insn, 15, 7), 7) << (sf(insn) ? 3 : 2); // opc = insn[31:30]: W/LDPSW, X
  }
  return 0;
}

/** Register 31 is SP, not XZR, in the Rn field of these forms. */
function rnIsSp(op: Op): bool {
  return (op >= Op.ADD_W_IMM && op <= Op.SUBS_X_IMM) || (op >= Op.STRB_UIMM && op <= Op.LDP_X) || op == Op.LDST_PAIR || op == Op.LDST_REGISTER;
}

/** Register 31 is SP, not XZR, in the Rd field of these forms: the immediates that set no flags. */
function rdIsSp(op: Op): bool {
  switch (op) {
    case Op.ADD_W_IMM: case Op.SUB_W_IMM: case Op.ADD_X_IMM: case Op.SUB_X_IMM:
    case Op.AND_W_IMM: case Op.ORR_W_IMM: case Op.EOR_W_IMM:
    case Op.AND_X_IMM: case Op.ORR_X_IMM: case Op.EOR_X_IMM: return true;
    default: return false;
  }
}

/** Decodes `insn` into the 32 bytes at `e` (fields named in insn.ts). */
export function decode(e: usize, insn: u32): void {
  const op = refine(<Op>load<u8>(DISPATCH + (insn >>> 21)), insn);
  const d = rd(insn), n = rn(insn);
  store<u32>(e, insn);
  store<u8>(e, op, 4);
  store<u16>(e, d != 31 ? slotAddress(d) : rdIsSp(op) ? slotAddress(Slot.SP) : DISCARD, 6);
  store<u16>(e, slotAddress(n == 31 && rnIsSp(op) ? Slot.SP : n), 8);
  store<u16>(e, slotAddress(rm(insn)), 10);
  store<u16>(e, slotAddress(d), 12);
  store<u64>(e, immediate(op, insn), 16);
  store<u64>(e, op == Op.BITFIELD ? tmask : 0, 24);
}
