// The instruction classes this CPU executes, one handler each. The decoder maps an instruction to
// one of these; execute.ts calls its handler. (A dense numbering: the dispatch is one br_table and
// a direct call, which V8 runs about four times faster than a call_indirect through a table.)
// The hottest classes get one Op per value of their top fields (or, for B.cond, of cond), so that
// their handler is compiled once per form with those fields as constants.

export enum Op {
  UNDECODED,        // an empty decode cache entry (zeroed memory, index.ts): never the Op of an instruction
  // The hot classes, first: run()'s fast loop executes these (executeHot) and hands the others on.
  // Add/subtract (immediate), by sf:op:S = insn[31:29], both shifts of imm12
  ADD_W_IMM, ADDS_W_IMM, SUB_W_IMM, SUBS_W_IMM, ADD_X_IMM, ADDS_X_IMM, SUB_X_IMM, SUBS_X_IMM,
  // Add/subtract (shifted register), by sf:op:S = insn[31:29]
  ADD_W_SHIFTED, ADDS_W_SHIFTED, SUB_W_SHIFTED, SUBS_W_SHIFTED, ADD_X_SHIFTED, ADDS_X_SHIFTED, SUB_X_SHIFTED, SUBS_X_SHIFTED,
  BRANCH_IMM,
  COMPARE_BRANCH,
  TEST_BRANCH,
  // Conditional branch (immediate), by cond = insn[3:0]
  B_EQ, B_NE, B_CS, B_CC, B_MI, B_PL, B_VS, B_VC, B_HI, B_LS, B_GE, B_LT, B_GT, B_LE, B_AL, B_NV,
  BRANCH_REG,
  PC_REL,
  // Logical (immediate), by sf:opc = insn[31:29]
  AND_W_IMM, ORR_W_IMM, EOR_W_IMM, ANDS_W_IMM, AND_X_IMM, ORR_X_IMM, EOR_X_IMM, ANDS_X_IMM,
  MOVE_WIDE,
  BITFIELD,
  LOGICAL_SHIFTED,
  COND_SELECT,
  MUL_ADD,
  // Load/store register (unsigned immediate), by size and opc
  STRB_UIMM, LDRB_UIMM, LDRSB_X_UIMM, LDRSB_W_UIMM, STRH_UIMM, LDRH_UIMM, LDRSH_X_UIMM, LDRSH_W_UIMM,
  STR_W_UIMM, LDR_W_UIMM, LDRSW_UIMM, STR_X_UIMM, LDR_X_UIMM,
  // Load/store register (register offset), the same way
  STRB_REG, LDRB_REG, LDRSB_X_REG, LDRSB_W_REG, STRH_REG, LDRH_REG, LDRSH_X_REG, LDRSH_W_REG,
  STR_W_REG, LDR_W_REG, LDRSW_REG, STR_X_REG, LDR_X_REG,
  // Load/store register (imm9: unscaled, post- and pre-index), the same way
  STRB_IMM9, LDRB_IMM9, LDRSB_X_IMM9, LDRSB_W_IMM9, STRH_IMM9, LDRH_IMM9, LDRSH_X_IMM9, LDRSH_W_IMM9,
  STR_W_IMM9, LDR_W_IMM9, LDRSW_IMM9, STR_X_IMM9, LDR_X_IMM9,
  // Load/store pair (every index form), by opc and L; LDPSW is LDST_PAIR
  STP_W, LDP_W, STP_X, LDP_X,
  SYSTEM,           // hot for the NOP hints; the rest of the class needs a call
  // The others
  UNDEFINED,        // architecturally UNDEFINED: EC 0 to the guest
  UNSUPPORTED,      // valid, but not implemented here: an exit to the host
  SIMD_FP,          // SIMD&FP: trapped by CPACR_EL1.FPEN, else unsupported
  // Data processing
  EXTRACT,
  ADD_SUB_EXTENDED,
  ADD_SUB_CARRY,
  COND_COMPARE,
  DP_2SOURCE,
  DP_1SOURCE,
  MUL_ADD_LONG,
  MUL_HIGH,
  // Branches, exception generating and system instructions
  EXCEPTION_GEN,
  // Loads and stores
  LDST_REGISTER,    // load/store register, the other forms (and PRFM)
  LOAD_LITERAL,
  LDST_PAIR,        // LDPSW (and the unallocated pair encodings with its top bits)
  LDST_EXCLUSIVE,
  // Scalar FP, SIMD&FP loads and stores, LSE atomics, CRC32
  FP_DP1,           // FMOV (register), FABS, FNEG, FSQRT, FCVT, FRINT*
  FP_DP2,           // FMUL, FDIV, FADD, FSUB, FMAX, FMIN, FMAXNM, FMINNM, FNMUL
  FP_DP3,           // FMADD, FMSUB, FNMADD, FNMSUB
  FP_COMPARE,       // FCMP, FCMPE
  FP_CCOMPARE,      // FCCMP, FCCMPE
  FP_CSEL,
  FP_IMM,           // FMOV (scalar, immediate)
  FP_INT_CONV,      // FCVT[NPMZA][SU], SCVTF, UCVTF, FMOV to and from general registers
  FP_FIXED_CONV,    // the same with fixed-point operands
  LDST_FP_REGISTER, // LDR/STR of b, h, s, d, q
  LDST_FP_PAIR,
  LOAD_FP_LITERAL,
  LDST_FP_STRUCT,   // LD1-LD4/ST1-ST4, single structure and replicate forms too
  // Advanced SIMD (advsimd.ts): one Op per class, shared by a class's vector and scalar forms
  SIMD_TABLE,
  SIMD_PERMUTE,
  SIMD_EXTRACT,
  SIMD_COPY,
  SIMD_THREE_SAME,
  SIMD_THREE_DIFF,
  SIMD_TWO_MISC,
  SIMD_ACROSS,
  SIMD_PAIRWISE,    // scalar pairwise
  SIMD_MOD_IMM,
  SIMD_SHIFT_IMM,
  SIMD_INDEXED,
  TRANSLATED,       // the entry of a translated unit (jit.ts): the decode cache entry keeps the instruction's own Op
}

/** The first Op that is not hot. */
export const FIRST_COLD = Op.UNDEFINED;
