// The A64 decoder. The tables follow the Arm ARM's "A64 instruction set encoding": the top level
// by op0 = insn[28:25] picks an instruction group, whose own table (in the group's file) picks
// the instruction class (an Op). Every table index lies in insn[31:21], so the decoder is
// evaluated once, at start-up, for all 2048 values of those bits: executing an instruction then
// costs one byte load to find its class.

import { Op } from './ops';
import { selectBranchSystem } from './branch';
import { selectDpImmediate } from './dp-imm';
import { selectDpRegister } from './dp-reg';
import { selectLoadStore } from './loadstore';

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
