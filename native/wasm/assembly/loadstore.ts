// Loads and stores (op0 = x1x0). Classes by op0 = insn[29:28] and op2 = insn[24:23]; V = insn[26]
// selects the SIMD&FP register forms.

import { bit, field, immOf, ra, rd, rm, rn, signExtend, xd, xm, xn, xt } from './insn';
import { extendReg } from './alu';
import { Slot, reg, regAt, regSp, setReg, setRegAt, setSlot, slot } from './state';
import { alignmentFault, retry, undefinedInsn } from './exceptions';
import { mmuOn } from './sysregs';
import { Op } from './ops';
import { selectLoadStoreFp } from './fp-loadstore';
import { atomicMemoryOperation, compareAndSwap } from './atomics';
import { Ext, Mmio, extend, inRam, inRamAt, loaded, outside, ramBase, read, readRam, resumePc, unalignedInRam, unprivilegedFault, write, writeRam } from './memory';

/**
 * The access of a load/store register instruction `e` (decoded): stores Rt, or loads it extended
 * as opc says (01 zero-extend, 10 sign-extend to 64 bits, 11 to 32), then writes `updated` back to
 * Rn if `writeback` (after the load: the base wins if Rt is Rn too). Returns pc + 4, or where the
 * CPU goes instead: it stopped or faulted, or (`fast`) the access is not to RAM. (Like read() and
 * write(), but an access to RAM, by far the most frequent, goes through no global.)
 */
@inline function transfer(e: usize, insn: u32, pc: u64, addr: u64, sizeLog2: u32, opc: u32, fast: bool,
                          writeback: bool = false, updated: u64 = 0): u64 {
  const off = addr - ramBase;
  const ext = opc == 1 ? Ext.ZERO : opc == 2 ? Ext.SIGN64 : Ext.SIGN32;
  if (!inRamAt(off, sizeLog2) && (fast || !unalignedInRam(off, <u64>1 << sizeLog2))) {
    // KVM has a syndrome only for single accesses with no writeback.
    outside(addr, sizeLog2, opc == 0, regAt(xt(e)), pc, insn, writeback ? Mmio.NO_SYNDROME : Mmio.EXIT, rd(insn), ext, fast);
    return resumePc;
  }
  if (opc == 0) writeRam(<usize>off, sizeLog2, regAt(xt(e)));
  else setRegAt(xd(e), extend(readRam(<usize>off, sizeLog2), sizeLog2, ext));
  if (writeback) setRegAt(xn(e), updated);
  return pc + 4;
}

// The hot forms below read their base register Rn (SP for register 31) at xn(e).

/**
 * Load/store register (unsigned immediate), the form compiled code uses most: one Op per size and
 * opc, so `sizeLog2` and `opc` are constants here (PRFM goes to loadStoreRegister). immOf: imm12
 * scaled by the size.
 */
@inline export function loadStoreUnsigned(e: usize, insn: u32, pc: u64, sizeLog2: u32, opc: u32, fast: bool): u64 {
  const addr = regAt(xn(e)) + immOf(e);
  return transfer(e, insn, pc, addr, sizeLog2, opc, fast);
}

/**
 * The register-offset form proper: insn[11:10] = 10 and an option that extends a W or X register.
 * The encodings that share its top bits (atomics, pointer authentication, bad options) are
 * LDST_REGISTER.
 */
export function isRegisterOffset(insn: u32): bool {
  return (insn & 0x4c00) == 0x4800; // insn[11:10] = 10, insn[14] = 1
}

/**
 * Load/store register (register offset), one Op per size and opc as above: Rm extended
 * (option = insn[15:13]) and shifted by immOf: sizeLog2 if S = insn[12], else 0.
 */
@inline export function loadStoreRegisterOffset(e: usize, insn: u32, pc: u64, sizeLog2: u32, opc: u32, fast: bool): u64 {
  const addr = regAt(xn(e)) + extendReg(regAt(xm(e)), field(insn, 13, 3), <u32>immOf(e));
  return transfer(e, insn, pc, addr, sizeLog2, opc, fast);
}

/**
 * Load/store register (imm9), one Op per size and opc as above, by insn[11:10]: 00 unscaled (LDUR),
 * 01 post-index, 11 pre-index; 10 (unprivileged: LDTR) is LDST_REGISTER. immOf: imm9. The writeback
 * forms have no syndrome outside RAM.
 */
@inline export function loadStoreImm9(e: usize, insn: u32, pc: u64, sizeLog2: u32, opc: u32, fast: bool): u64 {
  const form = field(insn, 10, 2);
  const base = regAt(xn(e));
  const updated = base + immOf(e);
  return transfer(e, insn, pc, form == 1 ? base : updated, sizeLog2, opc, fast, form != 0, updated);
}

/**
 * Load/store register, the other forms, by size = insn[31:30] and opc = insn[23:22]
 * (00 STR*, 01 LDR*, 10 LDRS* to X or PRFM, 11 LDRS* to W):
 *   insn[24] = 1: unsigned immediate: only PRFM comes here;
 *   insn[21] = 1: register offset: only PRFM and the encodings that fail isRegisterOffset;
 *   otherwise imm9 with insn[11:10] = 00 unscaled (LDUR), 01 post-index, 10 unprivileged, 11 pre-index.
 */
export function loadStoreRegister(e: usize, insn: u32, pc: u64): u64 {
  const sizeLog2 = field(insn, 30, 2), opc = field(insn, 22, 2);
  const base = regSp(rn(insn));
  let addr: u64 = 0, writeback = false, updated: u64 = 0;
  if (bit(insn, 21) && !bit(insn, 24)) {
    if (field(insn, 10, 2) == 0) return atomicMemoryOperation(insn, pc); // Armv8.1 LSE
    if (!isRegisterOffset(insn)) return undefinedInsn(insn, pc); // LDRAA/LDRAB; bad option
  } else if (!bit(insn, 24)) {
    const form = field(insn, 10, 2);
    updated = base + signExtend(<u64>field(insn, 12, 9), 9);
    writeback = (form & 1) != 0;
    addr = form == 1 ? base : updated;
  }
  if (opc == 3 && sizeLog2 >= 2) return undefinedInsn(insn, pc);
  if (opc == 2 && sizeLog2 == 3) {
    // PRFM / PRFUM: a hint with no effect; the writeback and unprivileged forms are unallocated.
    return writeback || (!bit(insn, 24) && !bit(insn, 21) && field(insn, 10, 2) == 2) ? undefinedInsn(insn, pc) : pc + 4;
  }
  // LDTR/STTR access as EL0 would, and the identity map gives EL0 no access (AP = 00).
  if (!bit(insn, 24) && !bit(insn, 21) && field(insn, 10, 2) == 2 && mmuOn()) return unprivilegedFault(addr, opc == 0, pc);
  return transfer(e, insn, pc, addr, sizeLog2, opc, false, writeback, updated);
}

/** Load register (literal), by opc = insn[31:30]: LDR W, LDR X, LDRSW, PRFM. */
export function loadLiteral(e: usize, insn: u32, pc: u64): u64 {
  const opc = field(insn, 30, 2);
  if (opc == 3) return pc + 4;
  const addr = pc + signExtend(<u64>(field(insn, 5, 19) << 2), 21);
  // As the register forms: LDR W is size 2 opc 01, LDR X size 3 opc 01, LDRSW size 2 opc 10.
  return transfer(e, insn, pc, addr, opc == 1 ? 3 : 2, opc == 2 ? 2 : 1, false);
}

/**
 * Load/store register pair, one Op per opc and L (W or X; LDPSW is loadPairSigned), by insn[24:23]:
 * 00 no-allocate offset (LDNP/STNP), 01 post-index, 10 offset, 11 pre-index. immOf: imm7 scaled by
 * the size. A pair outside RAM has no syndrome: both halves complete in RAM, or neither starts.
 */
@inline export function loadStorePair(e: usize, insn: u32, pc: u64, sizeLog2: u32, isLoad: bool, ext: Ext, fast: bool): u64 {
  const index = field(insn, 23, 2);
  const base = regAt(xn(e));
  const updated = base + immOf(e);
  const addr = index == 1 ? base : updated;
  const off = addr - ramBase;
  if (!inRamAt(off, sizeLog2, 2) && (fast || !unalignedInRam(off, <u64>2 << sizeLog2))) {
    return fast ? retry(pc) : pairOutsideRam(insn, pc, addr, sizeLog2, isLoad, ext);
  }
  const rt2 = ra(insn), second = <usize>off + (1 << sizeLog2);
  if (isLoad) {
    setRegAt(xd(e), extend(readRam(<usize>off, sizeLog2), sizeLog2, ext));
    setReg(rt2, extend(readRam(second, sizeLog2), sizeLog2, ext));
  } else {
    writeRam(<usize>off, sizeLog2, regAt(xt(e)));
    writeRam(second, sizeLog2, reg(rt2));
  }
  if (index & 1) setRegAt(xn(e), updated); // post- and pre-index write the base back, last
  return pc + 4;
}

/** A pair not wholly in RAM: the fault or exit of its first half that is not in RAM. */
function pairOutsideRam(insn: u32, pc: u64, addr: u64, sizeLog2: u32, isLoad: bool, ext: Ext): u64 {
  const firstInRam = inRam(addr, sizeLog2) || unalignedInRam(addr - ramBase, <u64>1 << sizeLog2);
  const bad = firstInRam ? addr + (1 << sizeLog2) : addr;
  if (isLoad) read(bad, sizeLog2, pc, insn, Mmio.NO_SYNDROME, rd(insn), ext);
  else write(bad, sizeLog2, 0, pc, insn, Mmio.NO_SYNDROME);
  return resumePc;
}

/** LDPSW (with the no-allocate index, 00, it is UNDEFINED). */
export function loadPairSigned(e: usize, insn: u32, pc: u64): u64 {
  return loadStorePair(e, insn, pc, 2, true, Ext.SIGN64, false);
}

/**
 * Load/store exclusive, by o2 = insn[23], L = insn[22], o1 = insn[21], o0 = insn[15]:
 * LDXR/LDAXR and STXR/STLXR (o2 = o1 = 0), their pair forms (o1 = 1, 32/64-bit), LDAR/STLR
 * (o2 = 1, o0 = 1). One CPU: STXR succeeds (status 0) iff an LDXR armed the monitor.
 */
export function loadStoreExclusive(insn: u32, pc: u64): u64 {
  const sizeLog2 = field(insn, 30, 2), isLoad = bit(insn, 22), pair = bit(insn, 21);
  const addr = regSp(rn(insn)), rt = rd(insn), rt2 = ra(insn);
  if (bit(insn, 23)) {
    if (pair) return compareAndSwap(insn, pc, false); // CAS (Armv8.1 LSE)
    // LDAR/STLR (and LDLAR/STLLR, o0 = 0: Armv8.1 LORegions, of which this CPU has none): a
    // single access with a syndrome, ordered by nature on one in-order CPU; aligned even to Normal
    // memory (Armv8.0)
    if ((addr & ((<u64>1 << sizeLog2) - 1)) != 0) return alignmentFault(addr, !isLoad, pc);
    if (isLoad) {
      if (!read(addr, sizeLog2, pc, insn, Mmio.EXIT, rt, Ext.ZERO)) return resumePc;
      setReg(rt, loaded);
    } else if (!write(addr, sizeLog2, reg(rt), pc, insn, Mmio.EXIT)) {
      return resumePc;
    }
    return pc + 4;
  }
  if (pair && sizeLog2 < 2) return compareAndSwap(insn, pc, true); // CASP (Armv8.1 LSE)
  // The whole access is single-copy atomic, so aligned to its total size.
  if ((addr & ((<u64>1 << (sizeLog2 + <u32>pair)) - 1)) != 0) return alignmentFault(addr, !isLoad, pc);
  const second = addr + (1 << sizeLog2);
  if (isLoad) {
    if (!read(addr, sizeLog2, pc, insn, Mmio.NO_SYNDROME, rt, Ext.ZERO)) return resumePc;
    const first = loaded;
    if (pair) {
      read(second, sizeLog2, pc, insn, Mmio.NO_SYNDROME, rt2, Ext.ZERO); // same RAM page as `first`
      setReg(rt2, loaded);
    }
    setReg(rt, first);
    setSlot(Slot.EXCLUSIVE, 1);
    return pc + 4;
  }
  let status: u64 = 1;
  if (slot(Slot.EXCLUSIVE) != 0) {
    if (!write(addr, sizeLog2, reg(rt), pc, insn, Mmio.NO_SYNDROME)) return resumePc;
    if (pair) write(second, sizeLog2, reg(rt2), pc, insn, Mmio.NO_SYNDROME);
    status = 0;
  }
  setSlot(Slot.EXCLUSIVE, 0);
  setReg(rm(insn), status);
  return pc + 4;
}

// Indexed by op0 = insn[29:28] : op2 = insn[24:23], for V = 0.
const LOAD_STORE: StaticArray<Op> = [
  Op.LDST_EXCLUSIVE, Op.LDST_EXCLUSIVE, Op.UNDEFINED, Op.UNDEFINED,       // 00
  Op.LOAD_LITERAL, Op.LOAD_LITERAL, Op.UNSUPPORTED, Op.UNSUPPORTED,       // 01: 1x is LDAPUR/STLUR (v8.4), CPY/SET (v8.8)
  Op.LDST_PAIR, Op.LDST_PAIR, Op.LDST_PAIR, Op.LDST_PAIR,                 // 10
  Op.LDST_REGISTER, Op.LDST_REGISTER, Op.LDST_REGISTER, Op.LDST_REGISTER, // 11
];

// Load/store register, by size:opc: the offset of its Op from its form's first (STRB_*; ops.ts
// lists the forms in this order), or -1 for PRFM and the unallocated size:opc.
const SIZE_OPC: StaticArray<i32> = [
  0, 1, 2, 3,   // STRB, LDRB, LDRSB X, LDRSB W
  4, 5, 6, 7,   // STRH, LDRH, LDRSH X, LDRSH W
  8, 9, 10, -1, // STR W, LDR W, LDRSW, unallocated
  11, 12, -1, -1, // STR X, LDR X, PRFM, unallocated
];

/**
 * A load/store register form's Op by size:opc, from its first Op. PRFM is a hint loadStoreRegister
 * runs. The register-offset form's unallocated size:opc share their top bits with atomics (LDADDAL
 * W, ...): loadStoreRegister tells them apart too.
 */
function registerForm(first: Op, sizeOpc: u32, unallocated: Op): Op {
  const i = SIZE_OPC[sizeOpc];
  if (i >= 0) return <Op>(first + i);
  return sizeOpc == 0b1110 ? Op.LDST_REGISTER : unallocated;
}

// Load/store register pair, by opc:L.
const PAIR: StaticArray<Op> = [
  Op.STP_W, Op.LDP_W,
  Op.UNDEFINED, Op.LDST_PAIR, // STGP (MTE), LDPSW
  Op.STP_X, Op.LDP_X,
  Op.UNDEFINED, Op.UNDEFINED,
];

export function selectLoadStore(insn: u32): Op {
  if (bit(insn, 26)) return selectLoadStoreFp(insn);
  const op = LOAD_STORE[(field(insn, 28, 2) << 2) | field(insn, 23, 2)];
  if (op == Op.LDST_PAIR) return PAIR[(field(insn, 30, 2) << 1) | field(insn, 22, 1)];
  if (op != Op.LDST_REGISTER) return op;
  const sizeOpc = (field(insn, 30, 2) << 2) | field(insn, 22, 2);
  if (bit(insn, 24)) return registerForm(Op.STRB_UIMM, sizeOpc, Op.UNDEFINED);
  return bit(insn, 21) ? registerForm(Op.STRB_REG, sizeOpc, Op.LDST_REGISTER) : registerForm(Op.STRB_IMM9, sizeOpc, Op.UNDEFINED);
}
