// Advanced SIMD: every encoding of the data-processing SIMD&FP group but scalar floating-point
// (insn[30] = 0, insn[28] = 1). Its classes, as the Arm ARM's encoding index lists them, are told
// apart once per instruction word (decode.ts refine); each has one Op, shared by its scalar form
// (insn[28] = 1), and one handler (advsimd-int.ts, advsimd-move.ts, advsimd-fp.ts).

import { Op } from './ops';
import { fpTrapped } from './sysregs';
import { simdFp, undefinedInsn, unsupported } from './exceptions';
import { Status } from './advsimd-lanes';
import { acrossLanes, indexedElement, scalarPairwise, shiftImmediate, threeDifferent, threeSame, twoRegMisc } from './advsimd-int';
import { copy, extract, modifiedImmediate, permute, tableLookup } from './advsimd-move';

// The classes: insn & mask == value, the first row that matches (modified immediate is the
// shift-by-immediate encoding with immh = 0, so it comes first). Crypto (AES, SHA), the Armv8.1+
// classes (three same extra, FP16) and anything else fall through to Op.SIMD_FP: unsupported.
const CLASSES: StaticArray<u32> = [
  // mask      value
  0xbf208c00, 0x0e000000, Op.SIMD_TABLE,        // table lookup
  0xbf208c00, 0x0e000800, Op.SIMD_PERMUTE,      // permute
  0xbfe08400, 0x2e000000, Op.SIMD_EXTRACT,      // extract
  0x9fe08400, 0x0e000400, Op.SIMD_COPY,         // copy
  0x9f200400, 0x0e200400, Op.SIMD_THREE_SAME,   // three same
  0x9f200c00, 0x0e200000, Op.SIMD_THREE_DIFF,   // three different
  0x9f3e0c00, 0x0e200800, Op.SIMD_TWO_MISC,     // two-register miscellaneous
  0x9f3e0c00, 0x0e300800, Op.SIMD_ACROSS,       // across lanes
  0x9ff80400, 0x0f000400, Op.SIMD_MOD_IMM,      // modified immediate
  0x9f800400, 0x0f000400, Op.SIMD_SHIFT_IMM,    // shift by immediate
  0x9f000400, 0x0f000000, Op.SIMD_INDEXED,      // vector x indexed element
  0xdfe08400, 0x5e000400, Op.SIMD_COPY,         // scalar copy
  0xdf200400, 0x5e200400, Op.SIMD_THREE_SAME,   // scalar three same
  0xdf200c00, 0x5e200000, Op.SIMD_THREE_DIFF,   // scalar three different
  0xdf3e0c00, 0x5e200800, Op.SIMD_TWO_MISC,     // scalar two-register miscellaneous
  0xdf3e0c00, 0x5e300800, Op.SIMD_PAIRWISE,     // scalar pairwise
  0xdf800400, 0x5f000400, Op.SIMD_SHIFT_IMM,    // scalar shift by immediate
  0xdf000400, 0x5f000000, Op.SIMD_INDEXED,      // scalar x indexed element
];

/** The Advanced SIMD class of a word of the SIMD&FP group; Op.SIMD_FP for the rest. */
export function selectAdvancedSimd(insn: u32): Op {
  for (let i = 0; i < CLASSES.length; i += 3) {
    if ((insn & CLASSES[i]) == CLASSES[i + 1]) return <Op>CLASSES[i + 2];
  }
  return Op.SIMD_FP;
}

/** Executes an Advanced SIMD instruction of class `op`; trapped while CPACR_EL1.FPEN traps it. */
export function advancedSimd(op: Op, insn: u32, pc: u64): u64 {
  if (fpTrapped()) return simdFp(insn, pc);
  let status: Status;
  switch (op) {
    case Op.SIMD_TABLE: status = tableLookup(insn); break;
    case Op.SIMD_PERMUTE: status = permute(insn); break;
    case Op.SIMD_EXTRACT: status = extract(insn); break;
    case Op.SIMD_COPY: status = copy(insn); break;
    case Op.SIMD_THREE_SAME: status = threeSame(insn); break;
    case Op.SIMD_THREE_DIFF: status = threeDifferent(insn); break;
    case Op.SIMD_TWO_MISC: status = twoRegMisc(insn); break;
    case Op.SIMD_ACROSS: status = acrossLanes(insn); break;
    case Op.SIMD_PAIRWISE: status = scalarPairwise(insn); break;
    case Op.SIMD_MOD_IMM: status = modifiedImmediate(insn); break;
    case Op.SIMD_SHIFT_IMM: status = shiftImmediate(insn); break;
    default: status = indexedElement(insn); break;
  }
  if (status == Status.DONE) return pc + 4;
  return status == Status.UNDEFINED ? undefinedInsn(insn, pc) : unsupported(insn, pc);
}
