// Synchronous exceptions taken to EL1 (the only EL this CPU runs at), exception return, and the
// exits that hand an instruction to the host.

import { Exit, Slot, setSlot, slot } from './state';
import { fpTrapped, pstate, selectSp, setPstate } from './sysregs';

/** ESR_ELx.EC values this CPU raises. */
export enum EC {
  UNKNOWN = 0x00,   // UNDEFINED instruction
  FP_ACCESS = 0x07, // SIMD/FP trapped by CPACR_EL1.FPEN
  SVC = 0x15,
  PC_ALIGN = 0x22,
  DATA_ABORT = 0x25, // from the current EL
  BRK = 0x3c,
}

const IL: u32 = 1 << 25; // 32-bit instruction

/**
 * AArch64.TakeException to EL1, synchronous: PSTATE goes to SPSR_EL1, the preferred return
 * address to ELR_EL1, the syndrome to ESR_EL1; DAIF is masked and SP_EL1 selected. Returns the
 * vector: VBAR_EL1 + 0x000 when taken with SP_EL0 selected, + 0x200 with SP_EL1.
 */
export function takeException(ec: EC, iss: u32, elr: u64): u64 {
  const offset: u64 = slot(Slot.SPSEL) != 0 ? 0x200 : 0;
  setSlot(Slot.SPSR_EL1, pstate());
  setSlot(Slot.ELR_EL1, elr);
  setSlot(Slot.ESR_EL1, (<u64>ec << 26) | IL | iss);
  setSlot(Slot.DAIF, 0x3c0);
  selectSp(1);
  setSlot(Slot.EXCLUSIVE, 0); // exception entry clears the local monitor
  return slot(Slot.VBAR_EL1) + offset;
}

/**
 * AArch64.TakeException to EL1 for an IRQ: as takeException, but ESR_EL1 is left as it was and the
 * vector is VBAR_EL1 + 0x280 with SP_EL1 selected (+ 0x080 with SP_EL0). `elr`: the instruction the
 * interrupted code resumes at.
 */
export function takeIrq(elr: u64): u64 {
  const offset: u64 = slot(Slot.SPSEL) != 0 ? 0x280 : 0x080;
  setSlot(Slot.SPSR_EL1, pstate());
  setSlot(Slot.ELR_EL1, elr);
  setSlot(Slot.DAIF, 0x3c0);
  selectSp(1);
  setSlot(Slot.EXCLUSIVE, 0);
  return slot(Slot.VBAR_EL1) + offset;
}

/** Whether an IRQ is taken before the next instruction: the line is high and PSTATE.I is clear. */
@inline export function irqDue(): bool {
  return slot(Slot.IRQ_LINE) != 0 && (slot(Slot.DAIF) & 0x80) == 0;
}

/** `next`, or the IRQ vector when an instruction that may unmask IRQs leaves one due. */
export function irqCheck(next: u64): u64 {
  return irqDue() ? takeIrq(next) : next;
}

/** An UNDEFINED encoding: EC 0 with ELR at the instruction, as hardware does. */
export function undefinedInsn(_insn: u32, pc: u64): u64 {
  return takeException(EC.UNKNOWN, 0, pc);
}

/** undefinedInsn, or in run()'s fast loop RETRY: the complete handler raises the exception. */
@inline export function undefinedOrRetry(insn: u32, pc: u64, fast: bool): u64 {
  return fast ? retry(pc) : undefinedInsn(insn, pc);
}

/** A data abort with fault status `dfsc`: FAR_EL1 = addr, ISS.WnR for a store. */
function dataAbort(addr: u64, isWrite: bool, pc: u64, dfsc: u32): u64 {
  setSlot(Slot.FAR_EL1, addr);
  return takeException(EC.DATA_ABORT, (<u32>isWrite << 6) | dfsc, pc);
}

/** A data abort for an unaligned access to Device memory (all of it with the MMU off). */
export function alignmentFault(addr: u64, isWrite: bool, pc: u64): u64 {
  return dataAbort(addr, isWrite, pc, 0b100001);
}

/** A data abort for an access the descriptor at `level` does not permit. */
export function permissionFault(addr: u64, isWrite: bool, pc: u64, level: u32): u64 {
  return dataAbort(addr, isWrite, pc, 0b001100 | level);
}

/** A data abort for an address the translation tables do not reach: a level 0 translation fault. */
export function translationFault(addr: u64, isWrite: bool, pc: u64): u64 {
  return dataAbort(addr, isWrite, pc, 0b000100);
}

/** A branch to a misaligned address faults when the target is fetched. */
export function pcAlignmentFault(target: u64): u64 {
  setSlot(Slot.FAR_EL1, target);
  return takeException(EC.PC_ALIGN, 0, target);
}

/** ERET: back to ELR_EL1 with PSTATE from SPSR_EL1 (an EL0 target is not implemented). */
export function exceptionReturn(insn: u32, pc: u64): u64 {
  if (!setPstate(slot(Slot.SPSR_EL1))) return unsupported(insn, pc);
  setSlot(Slot.EXCLUSIVE, 0);
  const target = slot(Slot.ELR_EL1);
  return (target & 3) != 0 ? pcAlignmentFault(target) : irqCheck(target);
}

/**
 * Flipped (XOR) into a handler's returned PC when the CPU stops for the host: such a PC lies
 * outside RAM (RAM ends below PA_LIMIT), so the run loop's fetch bounds check catches it with no
 * test of its own. Bits 63:31, a sign-extended 32-bit immediate: x86 keeps no register for it.
 */
export const STOPPED: u64 = 0xffff_ffff_8000_0000;

/**
 * Flipped into the PC a hot handler returns in run()'s fast loop for an instruction it leaves to
 * the complete handler (see executeHot): outside RAM like a stopped PC, and told apart by its low
 * bit (a PC is always 4-byte aligned).
 */
export const RETRY: u64 = STOPPED | 1;

/** `pc` with RETRY flipped in. */
@inline export function retry(pc: u64): u64 {
  return pc ^ RETRY;
}

/** Stops the CPU with `exit`; the instruction at pc is not executed (run() resumes at pc). */
@inline export function stop(exit: Exit, insn: u32, pc: u64): u64 {
  setSlot(Slot.EXIT, exit);
  setSlot(Slot.FAULT_PC, pc);
  setSlot(Slot.FAULT_INSN, insn);
  return pc ^ STOPPED;
}

/** An instruction this CPU does not implement: the host decides. */
export function unsupported(insn: u32, pc: u64): u64 {
  return stop(Exit.UNSUPPORTED, insn, pc);
}

/**
 * The SIMD&FP instructions: trapped to EL1 (EC 0x07) while CPACR_EL1.FPEN traps them, as at
 * reset; once enabled they are unsupported (this CPU has no FP unit). An AArch64 trap reports
 * CV = 1, COND = 0b1110.
 */
export function simdFp(insn: u32, pc: u64): u64 {
  return fpTrapped() ? takeException(EC.FP_ACCESS, 0x1e0_0000, pc) : unsupported(insn, pc);
}

/** Stops the CPU with `exit` after completing the instruction at pc (HVC, WFI). */
export function stopAfter(exit: Exit, insn: u32, pc: u64): u64 {
  stop(exit, insn, pc);
  return (pc + 4) ^ STOPPED;
}
