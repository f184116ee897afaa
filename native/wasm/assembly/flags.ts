// The condition flags NZCV, kept as QEMU keeps them: in the form the flag-setting instructions
// produce for free, and packed only when read whole. Slots N and Z both hold the result (shifted to
// the top for 32-bit operations): N is the sign bit of one, Z is set iff the other is 0 (two slots,
// as MSR NZCV may set N and Z together). Slot C holds C (0 or 1), slot V a value whose sign bit is
// V. A SUBS then stores four values instead of computing and packing four bits, and a condition
// reads the one or two flags it tests.

import { Slot, setSlot, slot } from './state';

/** Sets the flags from a result (N and Z), C, and a value whose sign bit is V. */
@inline export function writeFlags(result: u64, c: bool, v: u64): void {
  setSlot(Slot.N, result);
  setSlot(Slot.Z, result);
  setSlot(Slot.C, <u64>c);
  setSlot(Slot.V, v);
}

/** NZCV packed as N<<3 | Z<<2 | C<<1 | V: MRS NZCV, PSTATE and SPSR take it shifted to bit 28. */
@inline export function nzcv(): u32 {
  return (<u32>(slot(Slot.N) >> 63) << 3) | (<u32>(slot(Slot.Z) == 0) << 2) | (<u32>slot(Slot.C) << 1) | <u32>(slot(Slot.V) >> 63);
}

/** Sets NZCV from its packed form. */
export function setNzcv(nzcv: u64): void {
  setSlot(Slot.N, nzcv << 60);
  setSlot(Slot.Z, (~nzcv >> 2) & 1);
  setSlot(Slot.C, (nzcv >> 1) & 1);
  setSlot(Slot.V, nzcv << 63);
}

/** ConditionHolds(cond) for the current flags. */
@inline export function condition(cond: u32): bool {
  // EQ and NE, the most frequent, before the jump table
  if (cond < 2) return (slot(Slot.Z) == 0) != (cond != 0);
  let result: bool;
  switch (cond >> 1) {
    case 1: result = slot(Slot.C) != 0; break;                                   // CS / CC
    case 2: result = <i64>slot(Slot.N) < 0; break;                               // MI / PL
    case 3: result = <i64>slot(Slot.V) < 0; break;                               // VS / VC
    case 4: result = slot(Slot.C) != 0 && slot(Slot.Z) != 0; break;              // HI / LS
    case 5: result = <i64>(slot(Slot.N) ^ slot(Slot.V)) >= 0; break;             // GE / LT
    case 6: result = slot(Slot.Z) != 0 && <i64>(slot(Slot.N) ^ slot(Slot.V)) >= 0; break; // GT / LE
    default: return true;                                                        // AL / NV
  }
  return result != ((cond & 1) != 0);
}
