// The CPU's interface to its host: reset, run, and register access by system-register key. The
// host reads and writes the state slots directly in linear memory (at STATE_PTR, guest RAM at
// RAM_PTR); see state.ts for the layout.

import { Exit, STATE, Slot, setSlot, slot } from './state';
import { DECODED, DECODED_ENTRIES, DECODED_SIZE, RAM, completeMmio, mapRam, ramBase, ramSize } from './memory';
import { CNTFRQ_RESET, MIDR_RESET, MPIDR_RESET, SCTLR_RESET, pstate, readStatus, setPstate, sysregRead, sysregWrite, Access } from './sysregs';
import { RETRY, STOPPED, irqDue, pcAlignmentFault, retry, stop, takeIrq } from './exceptions';
import { setNzcv } from './flags';
import { buildDispatch, decode } from './decode';
import { execute, executeHot } from './execute';
import { opOf } from './insn';
import { Op } from './ops';
import { HOOKS, allowUnit, takeUnitExtra } from './jit';

export { CODE_WRITE, GRANULE_LOG2, codeMap, decodeForTranslator, markEntry, setHotThreshold, translatedRuns, unmarkEntry } from './jit';
export { Op } from './ops';
export { unitStoreCoalesced } from './memory';
import { COALESCED_RING, emptyRing } from './coalesced';

export { Slot, Exit } from './state';
export { Coalesced, coalesce, clearCoalesced, skipWritesIn } from './coalesced';

export const STATE_PTR = STATE;
export const RAM_PTR = RAM;
export const COALESCED_PTR = COALESCED_RING;

// Per instance, at instantiation: decode every insn[31:21]. (The decode cache starts empty as
// memory starts zeroed: untouched, so that a CPU costs memory only for the code it runs.)
buildDispatch();

/**
 * The state KVM_ARM_VCPU_INIT gives, with `ramSize` bytes of zeroed RAM at `ramBase` (both
 * 4 KiB-aligned): EL1h with DAIF masked, PC = `pc`, SP_EL1 = top of RAM, the rest zero, and no
 * coalesced write pending (the coalesced ranges stay: clearCoalesced). False if linear memory cannot
 * grow to hold the RAM.
 */
export function reset(base: u64, size: u64, pc: u64): bool {
  if (!mapRam(base, size)) return false;
  memory.fill(STATE, 0, Slot.COUNT * 8);
  emptyRing();
  setSlot(Slot.PC, pc);
  setSlot(Slot.SP, base + size);
  setSlot(Slot.SPSEL, 1);
  setNzcv(0); // Z clear: slot Z not 0
  setSlot(Slot.DAIF, 0x3c0);
  setSlot(Slot.SCTLR_EL1, SCTLR_RESET);
  setSlot(Slot.MIDR_EL1, MIDR_RESET);
  setSlot(Slot.MPIDR_EL1, MPIDR_RESET);
  setSlot(Slot.CNTFRQ_EL0, CNTFRQ_RESET);
  return true;
}

/** Exits that stop before their instruction retires (or, for a fetch abort, starts). */
@inline function retires(exit: u64): bool {
  return exit != Exit.MMIO && exit != Exit.MMIO_NO_SYNDROME && exit != Exit.UNSUPPORTED && exit != Exit.FETCH_ABORT && exit != Exit.MMU_REGIME
    && (!HOOKS || exit != Exit.CODE_WRITTEN);
}

/**
 * The decode cache entry of the word at RAM offset `off`. An entry is used only while it holds the
 * word RAM holds, so a store to code (by the guest, or by the host through its view of RAM) needs
 * no invalidation; and as it depends on nothing but that word, words that share an entry, or the
 * RAM of a VM before a reset, cannot leave it wrong, only stale.
 */
@inline function decoded(off: u64): usize {
  return DECODED + ((<usize>off & (DECODED_ENTRIES * 4 - 1)) * (DECODED_SIZE / 4)); // masked first: x86 scales by 8 for free
}

/** Executes the instruction at RAM offset `off` (PC `pc`) if it is hot and decoded; else returns RETRY. */
@inline function stepHot(off: u64, pc: u64): u64 {
  const e = decoded(off), insn = load<u32>(<usize>off, RAM);
  // An empty entry holds word 0 with Op UNDECODED, which is not hot either.
  if (load<u32>(e) != insn) return retry(pc);
  return executeHot(opOf(e), e, insn, pc, true);
}

/**
 * Executes the instruction at RAM offset `off` (PC `pc`), whatever it is, decoding it first unless
 * its entry holds it: the fast loop's way out.
 */
function step(off: u64, pc: u64): u64 {
  const e = decoded(off), insn = load<u32>(<usize>off, RAM);
  if (load<u32>(e) != insn || opOf(e) == Op.UNDECODED) decode(e, insn);
  return execute(e, insn, pc);
}

/**
 * Runs at most `budget` instructions and returns why it stopped (an Exit). A pending MMIO access
 * completes first, with the value the host left in MMIO_DATA. Keep budgets around 1e6: V8 cannot
 * tier up a wasm function while it runs, and the host needs the slices for time limits anyway.
 */
export function run(budget: i32): Exit {
  let pc = slot(Slot.PC);
  let retired: u64 = 0;
  setSlot(Slot.EXIT, Exit.SLICE_END);
  if (slot(Slot.MMIO_PENDING) != 0) {
    pc = completeMmio(pc);
    retired = 1;
  }
  if ((pc & 3) != 0) pc = pcAlignmentFault(pc); // only the host can leave PC misaligned
  else if (irqDue()) pc = takeIrq(pc); // the host raised the line since the last slice
  const base = ramBase, size = ramSize;
  let left = budget; // instructions left
  while (left > 0) {
    // The fast loop runs the hot classes and makes no calls, so that V8 keeps its state in
    // registers. The fetch's bounds check is its only test of the PC: a PC outside RAM, a stopped
    // one (STOPPED flipped in) and a RETRY all fail it. Two instructions per iteration, and one
    // test of the budget: each copy of the dispatch is an indirect jump of its own, which the
    // host CPU's branch predictor learns separately (short guest loops run ~7% faster).
    while (left >= 2) {
      let off = pc - base;
      if (off >= size) break;
      pc = stepHot(off, pc);
      off = pc - base;
      if (off >= size) {
        left--;
        break;
      }
      pc = stepHot(off, pc);
      left -= 2;
    }
    if ((pc & 1) != 0) { // RETRY
      // Counted already: the instruction the fast loop left to its complete handler.
      pc ^= RETRY;
      allowUnit(left + 1);
      pc = step(pc - base, pc);
      left -= takeUnitExtra(); // a translated unit ran more

    } else if (left == 1 && pc - base < size) {
      allowUnit(1);
      pc = step(pc - base, pc); // an odd budget's last instruction
      left--;
    } else {
      break;
    }
  }
  let n = budget - left;
  if (slot(Slot.EXIT) != Exit.SLICE_END) { // a handler stopped the CPU
    pc ^= STOPPED;
    if (!retires(slot(Slot.EXIT))) n--;
  } else if (n < budget) { // the PC left RAM
    stop(Exit.FETCH_ABORT, 0, pc);
  }
  setSlot(Slot.PC, pc);
  setSlot(Slot.INSTRET, slot(Slot.INSTRET) + retired + <u64>n);
  return <Exit>slot(Slot.EXIT);
}

/** A system register by its MRS/MSR key, as the host sees it; -1 with no such register. */
export function readSysreg(key: u32): u64 {
  const v = sysregRead(key, true);
  return readStatus == Access.OK ? v : <u64>-1;
}

/** Sets a system register by key, as the host may (read-only ones too); false if not settable. */
export function writeSysreg(key: u32, value: u64): bool {
  return sysregWrite(key, value, true) == Access.OK;
}

/** PSTATE in the KVM (SPSR) layout. */
export function getPstate(): u64 {
  return pstate();
}

/** Sets PSTATE from the KVM layout; false if M[3:0] is not EL1t or EL1h. */
export { setPstate };
