// PSTATE and the system registers reachable with MRS/MSR at EL1, keyed by their encoding
// op0:op1:CRn:CRm:op2 (MRS/MSR insn[20:5]), the same key the host uses to name them.

import { Slot, setSlot, slot } from './state';
import { hostCounter } from './host';
import { nzcv, setNzcv } from './flags';

/** The MRS/MSR key of S<op0>_<op1>_C<n>_C<m>_<op2>. */
@inline function key(op0: u32, op1: u32, crn: u32, crm: u32, op2: u32): u32 {
  return (op0 << 14) | (op1 << 11) | (crn << 7) | (crm << 3) | op2;
}

export const NZCV = key(3, 3, 4, 2, 0);
export const DAIF = key(3, 3, 4, 2, 1);
export const CURRENT_EL = key(3, 0, 4, 2, 2);
export const SPSEL = key(3, 0, 4, 2, 0);
export const SP_EL0 = key(3, 0, 4, 1, 0);
export const SP_EL1 = key(3, 4, 4, 1, 0); // EL2's view: the host only
export const ELR_EL1 = key(3, 0, 4, 0, 1);
export const SPSR_EL1 = key(3, 0, 4, 0, 0);
export const ESR_EL1 = key(3, 0, 5, 2, 0);
export const FAR_EL1 = key(3, 0, 6, 0, 0);
export const VBAR_EL1 = key(3, 0, 12, 0, 0);
export const SCTLR_EL1 = key(3, 0, 1, 0, 0);
export const CPACR_EL1 = key(3, 0, 1, 0, 2);
export const TPIDR_EL0 = key(3, 3, 13, 0, 2);
export const TPIDRRO_EL0 = key(3, 3, 13, 0, 3);
export const TPIDR_EL1 = key(3, 0, 13, 0, 4);
export const MIDR_EL1 = key(3, 0, 0, 0, 0);
export const MPIDR_EL1 = key(3, 0, 0, 0, 5);
export const CNTFRQ_EL0 = key(3, 3, 14, 0, 0);
export const CNTVCT_EL0 = key(3, 3, 14, 0, 2);
export const FPCR = key(3, 3, 4, 4, 0);
export const FPSR = key(3, 3, 4, 4, 1);
export const MAIR_EL1 = key(3, 0, 10, 2, 0);
export const TCR_EL1 = key(3, 0, 2, 0, 2);
export const TTBR0_EL1 = key(3, 0, 2, 0, 0);
export const DCZID_EL0 = key(3, 3, 0, 0, 7);

/** DC ZVA's block: 64 bytes, as on the Cortex-A53/A57 and QEMU's arm64 CPUs (DCZID_EL0.BS = 4). */
export const DCZ_BLOCK: u32 = 64;

/** Reset values, as KVM_ARM_VCPU_INIT leaves them. */
export const SCTLR_RESET: u64 = 0x00c5_0078; // MMU, caches and alignment checks off; RES1 bits set
export const MIDR_RESET: u64 = 0x410f_d034;  // Cortex-A53 r0p4: an Armv8.0 core
export const MPIDR_RESET: u64 = 0x8000_0000; // vCPU 0 (bit 31 is RES1)
export const CNTFRQ_RESET: u64 = 1_000_000_000; // 1 GHz, as Armv8.6 fixes it: ticks are ns

/** SCTLR_EL1.M (stage 1 translation on) and A (alignment checks on every access). */
export const SCTLR_M: u64 = 1 << 0;
export const SCTLR_A: u64 = 1 << 1;

/**
 * The outcome of a system register access. REGIME: a write that would change the translation regime
 * (SCTLR_EL1.M, MAIR/TCR/TTBR0_EL1) from the one the VM started in: this CPU models only that one
 * (the host's fixed identity map with the MMU on, or the MMU off).
 */
export enum Access { OK, UNDEFINED, FP_TRAP, UNSUPPORTED, REGIME }

/** True while RAM is Normal memory (the MMU on, alignment checks off): unaligned accesses to it complete. */
@inline export function ramIsNormal(): bool {
  return (slot(Slot.SCTLR_EL1) & (SCTLR_M | SCTLR_A)) == SCTLR_M;
}

/** True while stage 1 translation is on. */
@inline export function mmuOn(): bool {
  return (slot(Slot.SCTLR_EL1) & SCTLR_M) != 0;
}

/** The access outcome of the last sysregRead. */
export let readStatus = Access.OK;

/** PSTATE in the SPSR/KVM layout: NZCV 31:28, DAIF 9:6, M[3:0] = EL1h (0101) or EL1t (0100). */
export function pstate(): u64 {
  return (<u64>nzcv() << 28) | slot(Slot.DAIF) | (slot(Slot.SPSEL) != 0 ? 0b0101 : 0b0100);
}

/** Sets PSTATE from an SPSR-layout value; false if it names a mode other than EL1t/EL1h. */
export function setPstate(v: u64): bool {
  if ((v & 0x1e) != 0b00100) return false; // M[4] = 0 (AArch64), M[3:2] = EL1, M[1] = 0
  setNzcv((v >> 28) & 15);
  setSlot(Slot.DAIF, v & 0x3c0);
  selectSp(v & 1);
  return true;
}

/** PSTATE.SP: switch the stack pointer that SP names between SP_EL0 (0) and SP_EL1 (1). */
export function selectSp(sel: u64): void {
  if (sel == slot(Slot.SPSEL)) return;
  const sp = slot(Slot.SP);
  setSlot(Slot.SP, slot(Slot.SP_OTHER));
  setSlot(Slot.SP_OTHER, sp);
  setSlot(Slot.SPSEL, sel);
}

/** The registers that are plain storage: their slot, or -1. */
function storageSlot(k: u32): i32 {
  switch (k) {
    case ELR_EL1: return Slot.ELR_EL1;
    case SPSR_EL1: return Slot.SPSR_EL1;
    case ESR_EL1: return Slot.ESR_EL1;
    case FAR_EL1: return Slot.FAR_EL1;
    case VBAR_EL1: return Slot.VBAR_EL1;
    case TPIDR_EL0: return Slot.TPIDR_EL0;
    case TPIDRRO_EL0: return Slot.TPIDRRO_EL0;
    case TPIDR_EL1: return Slot.TPIDR_EL1;
    case MIDR_EL1: return Slot.MIDR_EL1;
    case MPIDR_EL1: return Slot.MPIDR_EL1;
    case CNTFRQ_EL0: return Slot.CNTFRQ_EL0;
    case SCTLR_EL1: return Slot.SCTLR_EL1;
    case CPACR_EL1: return Slot.CPACR_EL1;
    case FPCR: return Slot.FPCR;
    case FPSR: return Slot.FPSR;
    case MAIR_EL1: return Slot.MAIR_EL1;
    case TCR_EL1: return Slot.TCR_EL1;
    case TTBR0_EL1: return Slot.TTBR0_EL1;
    default: return -1;
  }
}

/** FPCR/FPSR are FP state: CPACR_EL1.FPEN traps them at EL1 unless it is 0b01 or 0b11. */
@inline export function fpTrapped(): bool {
  return (slot(Slot.CPACR_EL1) & (1 << 20)) == 0;
}

@inline function isFpReg(k: u32): bool {
  return k == FPCR || k == FPSR;
}

/** MRS (host = false) or a host register read: the value of register `k`, the outcome in `readStatus`. */
export function sysregRead(k: u32, host: bool): u64 {
  readStatus = Access.OK;
  if (k == SP_EL1 && !host) readStatus = Access.UNDEFINED;
  switch (k) {
    case NZCV: return <u64>nzcv() << 28;
    case DAIF: return slot(Slot.DAIF);
    case CURRENT_EL: return 1 << 2;
    case SPSEL: return slot(Slot.SPSEL);
    case SP_EL0: return slot(slot(Slot.SPSEL) != 0 ? Slot.SP_OTHER : Slot.SP);
    case SP_EL1: return slot(slot(Slot.SPSEL) != 0 ? Slot.SP : Slot.SP_OTHER);
    case CNTVCT_EL0: return hostCounter();
    case DCZID_EL0: return <u64>ctz(DCZ_BLOCK / 4); // BS: log2 of the block in words
  }
  const s = storageSlot(k);
  if (s < 0) readStatus = Access.UNSUPPORTED;
  else if (!host && isFpReg(k) && fpTrapped()) readStatus = Access.FP_TRAP;
  return s < 0 ? 0 : slot(s);
}

/**
 * MSR (host = false) or a host register write (host = true, which may also set what EL1 only
 * reads: SP_EL1, MIDR, MPIDR, CNTFRQ).
 */
export function sysregWrite(k: u32, v: u64, host: bool): Access {
  switch (k) {
    case NZCV: setNzcv((v >> 28) & 15); return Access.OK;
    case DAIF: setSlot(Slot.DAIF, v & 0x3c0); return Access.OK;
    case SPSEL: selectSp(v & 1); return Access.OK;
    case SP_EL0:
      setSlot(slot(Slot.SPSEL) != 0 ? Slot.SP_OTHER : Slot.SP, v);
      return Access.OK;
    case SP_EL1:
      if (!host) return Access.UNDEFINED;
      setSlot(slot(Slot.SPSEL) != 0 ? Slot.SP : Slot.SP_OTHER, v);
      return Access.OK;
    case CURRENT_EL: case CNTVCT_EL0: case DCZID_EL0: return Access.UNDEFINED;
    case MIDR_EL1: case MPIDR_EL1: case CNTFRQ_EL0: if (!host) return Access.UNDEFINED; break;
    case VBAR_EL1: v &= ~(<u64>0x7ff); break; // bits 10:0 are RES0
    case CPACR_EL1: v &= 0x1030_0000; break; // TTA and FPEN are all Armv8.0 defines
    case SCTLR_EL1: if (!host && ((v ^ slot(Slot.SCTLR_EL1)) & SCTLR_M) != 0) return Access.REGIME; break;
    case MAIR_EL1: case TCR_EL1: case TTBR0_EL1:
      if (!host && v != slot(storageSlot(k))) return Access.REGIME;
      break;
    case ESR_EL1: case SPSR_EL1: v &= 0xffff_ffff; break;
    // The bits this CPU has (no trapped FP exceptions): FPCR AHP, DN, FZ, RMode, FZ16; FPSR the
    // cumulative flags, QC and NZCV. The host may not set the others; a guest's MSR drops them.
    case FPCR: case FPSR: {
      const mask: u64 = k == FPCR ? 0x07c8_0000 : 0xf800_009f;
      if (host && (v & ~mask) != 0) return Access.UNSUPPORTED;
      v &= mask;
      break;
    }
  }
  const s = storageSlot(k);
  if (s < 0) return Access.UNSUPPORTED;
  if (!host && isFpReg(k) && fpTrapped()) return Access.FP_TRAP;
  setSlot(s, v);
  return Access.OK;
}
