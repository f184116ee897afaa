// The interpreter's side of the translator (src/host/wasm/jit/): it counts taken branches, stops
// for the host when a target gets hot (Exit.HOT), and enters a translated unit where the host left
// one. A unit is a WebAssembly function of another module, sharing this module's memory, in this
// module's function table; the host marks its entry instruction's decode cache entry (Op.TRANSLATED)
// so that the fast loop, which makes no calls, hands it to execute() like any cold instruction.
// Units leave every exceptional case (MMIO, faults, system instructions) to the interpreter, so
// exits, exceptions and instret stay the interpreter's.
//
// build.mjs compiles the CPU twice: dist/a64.wasm with JIT_HOOKS = 0, where every hook below
// compiles to nothing (the interpreter alone, as fast as without a translator), and
// dist/a64-jit.wasm with JIT_HOOKS = 1 for CPUs whose translator is on or auto.

import { Exit, Slot, setSlot, slot } from './state';
import { STOPPED, stop } from './exceptions';
import { DECODED, DECODED_ENTRIES, DECODED_SIZE, RAM } from './memory';
import { decode } from './decode';
import { Op } from './ops';
import { opOf } from './insn';
import { executeOp } from './execute';

/** Taken-branch counters, by target word address modulo HOT_ENTRIES (collisions only make a target hot sooner). */
const HOT_ENTRIES: usize = 8192;
const HOT_COUNTS: usize = memory.data(<i32>HOT_ENTRIES * 2, 64);

/** A target gets hot when its counter reaches this; above 0xffff, never (the translator is off). */
let hotThreshold: u32 = 0x10000;

/** The host's choice: 0 turns counting off; 1 makes every branch target hot at its first execution. */
export function setHotThreshold(n: u32): void {
  hotThreshold = n == 0 ? 0x10000 : n;
  memory.fill(HOT_COUNTS, 0, HOT_ENTRIES * 2);
}

/** True in the build with the translator's hooks (asc --use JIT_HOOKS=0|1, build.mjs). */
// @ts-ignore: JIT_HOOKS is a compile-time constant of asc's, not a declared name
@inline export const HOOKS: bool = JIT_HOOKS != 0;

/** A taken branch to `target`: `target`, or (once it gets hot) `target` stopped with Exit.HOT, the branch retired. */
@inline export function taken(target: u64): u64 {
  if (!HOOKS) return target;
  const c = HOT_COUNTS + ((<usize>target >> 1) & ((HOT_ENTRIES - 1) << 1));
  const n = (<u32>load<u16>(c) + 1) & 0xffff;
  store<u16>(c, <u16>n);
  if (n != hotThreshold) return target;
  setSlot(Slot.EXIT, Exit.HOT);
  return target ^ STOPPED;
}

// Code granules: RAM in GRANULE-byte pieces, a byte each (after RAM in linear memory), non-zero
// where a unit was translated from. A store to one is noted in the write range below; no unit is
// entered until the host has dropped the units it changed (Exit.CODE_WRITTEN). Units check the map
// themselves and leave such stores to the interpreter.
export const GRANULE_LOG2: u32 = 7;

/** Where the granule map starts in linear memory (memory.ts mapRam places it after RAM). */
export let codeMap: usize = 0;

/** The RAM offsets [lo, hi) code stores wrote since the host last looked; hi = 0 for none. */
export const CODE_WRITE: usize = memory.data(16, 16);

/** Notes a store of `bytes` at RAM offset `off` if it hit translated code. */
@inline export function noteCodeWrite(off: usize, bytes: usize): void {
  if (!HOOKS) return;
  if (load<u8>(codeMap + (off >> GRANULE_LOG2)) != 0) {
    if (load<u64>(CODE_WRITE, 8) == 0 || <u64>off < load<u64>(CODE_WRITE)) store<u64>(CODE_WRITE, off);
    store<u64>(CODE_WRITE, max(load<u64>(CODE_WRITE, 8), <u64>(off + bytes)), 8);
  }
}

/** The bytes of granule map that `size` bytes of RAM need. */
@inline export function codeMapSize(size: u64): u64 {
  return HOOKS ? size >> GRANULE_LOG2 : 0;
}

/** Puts an empty granule map of `bytes` at `at` (memory.ts mapRam, on every reset). */
export function placeCodeMap(at: usize, bytes: usize): void {
  codeMap = at;
  memory.fill(at, 0, bytes);
  memory.fill(CODE_WRITE, 0, 16);
}

// A unit is entered with the PC it was called for (a decode cache entry may stand for the same
// word at another address) and how many instructions it may retire; it returns how many it did
// (0: it declined, the interpreter runs the instruction) with the PC to continue at in Slot.PC.

/** How many instructions a unit entered now may retire. */
let unitBudget: i32 = 0;
/** Instructions the last unit retired beyond the one run() counted for it. */
let unitExtra: i32 = 0;

/** Times a unit ran (retired instructions): the host's cache hits. */
let unitRuns: u64 = 0;

export function translatedRuns(): u64 {
  return unitRuns;
}

/** run(): a unit entered by the next step() may retire `n` instructions. */
@inline export function allowUnit(n: i32): void {
  if (!HOOKS) return;
  unitBudget = n;
}

/** run(): the instructions the last step() retired beyond its own (a unit's), and forget them. */
@inline export function takeUnitExtra(): i32 {
  if (!HOOKS) return 0;
  const n = unitExtra;
  unitExtra = 0;
  return n;
}

/** Op.TRANSLATED: runs the unit whose table index the entry holds, or the instruction itself. */
export function runTranslated(e: usize, insn: u32, pc: u64): u64 {
  if (!HOOKS) return unreachable(); // no entry is marked without the hooks: the host translates nothing
  if (load<u64>(CODE_WRITE, 8) != 0) return stop(Exit.CODE_WRITTEN, insn, pc);
  const retired = call_indirect<i32>(<u32>load<u16>(e, 14), pc, unitBudget);
  if (retired == 0) return executeOp(<Op>load<u8>(e, 5), e, insn, pc);
  unitRuns++;
  unitExtra = retired - 1;
  return slot(Slot.PC);
}

@inline function entryOf(pc: u64, base: u64): usize {
  return DECODED + ((<usize>(pc - base) & (DECODED_ENTRIES * 4 - 1)) * (DECODED_SIZE / 4));
}

/**
 * Marks the instruction at `pc` (in RAM, `base` = RAM's guest address) as the entry of the unit at
 * table index `index`, keeping its own Op for when the unit declines.
 */
export function markEntry(pc: u64, base: u64, index: u32): void {
  const e = entryOf(pc, base), insn = load<u32>(<usize>(pc - base), RAM);
  if (load<u32>(e) != insn || opOf(e) == Op.UNDECODED) decode(e, insn);
  if (opOf(e) != Op.TRANSLATED) store<u8>(e, opOf(e), 5);
  store<u8>(e, Op.TRANSLATED, 4);
  store<u16>(e, <u16>index, 14);
}

/** Undoes markEntry if the entry still stands for the unit at `index`. */
export function unmarkEntry(pc: u64, base: u64, index: u32): void {
  const e = entryOf(pc, base);
  if (opOf(e) == Op.TRANSLATED && load<u16>(e, 14) == index) store<u8>(e, load<u8>(e, 5), 4);
}

/** Decodes `insn` into a scratch entry for the translator and returns its address (insn.ts layout). */
const SCRATCH: usize = memory.data(32, 16); // DECODED_SIZE
export function decodeForTranslator(insn: u32): usize {
  decode(SCRATCH, insn);
  return SCRATCH;
}
