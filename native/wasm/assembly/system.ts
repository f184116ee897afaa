// Exception generating instructions and the system instruction space (hints, barriers, PSTATE,
// SYS, MRS/MSR), decoded by the fields the Arm ARM names: L, op0, op1, CRn, CRm, op2, Rt.

import { bit, field, rd } from './insn';
import { Exit, Slot, reg, setReg, setSlot, slot } from './state';
import { Access, DCZ_BLOCK, mmuOn, selectSp, sysregRead, sysregWrite, readStatus } from './sysregs';
import { RAM, ramBase, ramSize } from './memory';
import { EC, alignmentFault, irqCheck, retry, simdFp, stop, stopAfter, takeException, undefinedInsn, unsupported } from './exceptions';

/** Exception generation, by opc = insn[23:21] and LL = insn[1:0]: SVC, HVC, SMC, BRK. */
export function exceptionGeneration(insn: u32, pc: u64): u64 {
  const opc = field(insn, 21, 3), ll = field(insn, 0, 2), imm16 = field(insn, 5, 16);
  if (field(insn, 2, 3) != 0) return undefinedInsn(insn, pc);
  if (opc == 0 && ll == 1) return takeException(EC.SVC, imm16, pc + 4);
  if (opc == 0 && ll == 2) return stopAfter(Exit.HVC, insn, pc); // the host is the hypervisor
  if (opc == 1 && ll == 0) return takeException(EC.BRK, imm16, pc);
  return undefinedInsn(insn, pc); // SMC (no EL3: KVM injects UNDEFINED), HLT, DCPS*
}

/**
 * Hints (CRn = 0010), by CRm:op2: WFI stops for the host unless an interrupt is pending (masked or
 * not: WFI wakes on a pending IRQ either way); every other hint, allocated or not, is a NOP.
 */
function hint(insn: u32, pc: u64): u64 {
  return field(insn, 5, 7) == 0b0000_011 && slot(Slot.IRQ_LINE) == 0 ? stopAfter(Exit.WFI, insn, pc) : pc + 4;
}

/** Barriers (CRn = 0011), by op2: CLREX clears the monitor; DSB, DMB, ISB order nothing on one in-order CPU. */
function barrier(insn: u32, pc: u64): u64 {
  const op2 = field(insn, 5, 3);
  if (op2 == 0b010) setSlot(Slot.EXCLUSIVE, 0);
  else if (op2 < 0b100 || op2 == 0b111) return undefinedInsn(insn, pc);
  return pc + 4;
}

/** PSTATE (MSR immediate), by op1:op2: SPSel, DAIFSet, DAIFClr with #imm = CRm. */
function pstateImmediate(insn: u32, pc: u64): u64 {
  const fields = (field(insn, 16, 3) << 3) | field(insn, 5, 3), imm = <u64>field(insn, 8, 4);
  if (fields == 0b000_101) selectSp(imm & 1);
  else if (fields == 0b011_110) setSlot(Slot.DAIF, slot(Slot.DAIF) | (imm << 6));
  else if (fields == 0b011_111) return daifClear(imm, pc);
  else return unsupported(insn, pc); // PAN, UAO, SSBS, ... (later extensions)
  return pc + 4;
}

/** MSR DAIFClr: an IRQ pending on the line is taken right after it once PSTATE.I is clear. */
function daifClear(imm: u64, pc: u64): u64 {
  setSlot(Slot.DAIF, slot(Slot.DAIF) & ~(imm << 6));
  return irqCheck(pc + 4);
}

/**
 * SYS (L = 0) by CRn: cache maintenance (7) and TLB invalidation (8) are NOPs (caches are coherent,
 * the one translation regime is fixed), except DC ZVA, and AT (unsupported).
 */
function sys(insn: u32, pc: u64): u64 {
  const crn = field(insn, 12, 4), crm = field(insn, 8, 4);
  if (bit(insn, 21) || (crn != 7 && crn != 8) || (crn == 7 && crm == 8)) return unsupported(insn, pc);
  if (crn == 7 && field(insn, 16, 3) == 3 && crm == 4 && field(insn, 5, 3) == 1) return zeroBlock(reg(rd(insn)), pc);
  return pc + 4;
}

/**
 * DC ZVA: zeroes the DCZ_BLOCK-byte block holding addr in Normal memory (RAM with the MMU on); on
 * Device memory (everything else, and all of it with the MMU off) it takes an alignment fault.
 */
function zeroBlock(addr: u64, pc: u64): u64 {
  const block = addr & ~(<u64>DCZ_BLOCK - 1), off = block - ramBase;
  if (!mmuOn() || off >= ramSize) return alignmentFault(addr, true, pc); // RAM ends on a 4 KiB boundary
  memory.fill(RAM + <usize>off, 0, DCZ_BLOCK);
  return pc + 4;
}

/** Access outcomes that are not OK, as what hardware does next. */
function failedAccess(status: Access, insn: u32, pc: u64): u64 {
  if (status == Access.UNDEFINED) return undefinedInsn(insn, pc);
  if (status == Access.FP_TRAP) return simdFp(insn, pc);
  if (status == Access.REGIME) return stop(Exit.MMU_REGIME, insn, pc);
  return unsupported(insn, pc);
}

/** MRS (L = 1) and MSR (L = 0) by the register key insn[20:5]. */
function moveSystemRegister(insn: u32, pc: u64): u64 {
  const key = field(insn, 5, 16);
  if (bit(insn, 21)) {
    const v = sysregRead(key, false);
    if (readStatus != Access.OK) return failedAccess(readStatus, insn, pc);
    setReg(rd(insn), v);
    return pc + 4;
  }
  const status = sysregWrite(key, reg(rd(insn)), false);
  return status == Access.OK ? irqCheck(pc + 4) : failedAccess(status, insn, pc); // MSR DAIF may unmask
}

/** HINT #0..127 (NOP, YIELD, ...) except WFI: the hints compiled code pads with. */
@inline function isNopHint(insn: u32): bool {
  return (insn & 0xffff_f01f) == 0xd503_201f && field(insn, 5, 7) != 0b0000_011;
}

/** System instructions: the NOP hints run in the fast loop, the others need a call. */
@inline export function system(insn: u32, pc: u64, fast: bool): u64 {
  if (isNopHint(insn)) return pc + 4;
  return fast ? retry(pc) : systemOther(insn, pc);
}

/** System instructions, by op0 = insn[20:19]: 00 hints/barriers/PSTATE (by CRn), 01 SYS, 1x MRS/MSR. */
function systemOther(insn: u32, pc: u64): u64 {
  const op0 = field(insn, 19, 2);
  if (op0 >= 2) return moveSystemRegister(insn, pc);
  if (op0 == 1) return sys(insn, pc);
  const crn = field(insn, 12, 4);
  if (bit(insn, 21)) return undefinedInsn(insn, pc);
  if (crn == 2 && rd(insn) == 31) return hint(insn, pc);
  if (crn == 3 && rd(insn) == 31) return barrier(insn, pc);
  if (crn == 4 && rd(insn) == 31) return pstateImmediate(insn, pc);
  return undefinedInsn(insn, pc);
}
