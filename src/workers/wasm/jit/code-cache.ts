/**
 * One CPU's translated units: translated when the interpreter reports a hot branch target
 * (Exit.HOT), compiled and put in the CPU's function table, and entered through a mark on the
 * entry instruction's decode cache entry (native/wasm/assembly/jit.ts). Bounded: past `capacity`
 * units the oldest is dropped. A store to code a unit was translated from drops that unit before
 * any unit runs again (Exit.CODE_WRITTEN); so does a host write reported by `codeWritten`, and a
 * reset drops them all.
 *
 * Compilation is synchronous, as the vCPU thread never returns to its event loop during a run:
 * V8 compiles a new module with its baseline compiler (tens of µs for a unit) and optimizes hot
 * functions on background threads, off the vCPU's path.
 */
import { translate, type GuestCode, type Unit } from './translate';

/** 'on': every branch target translated at its first execution (tests); 'auto': hot ones; 'off': none. */
export type JitMode = 'on' | 'off' | 'auto';

export const JIT_MODES: readonly JitMode[] = ['on', 'off', 'auto'];

export interface JitOptions {
  /** Default 'off' (see README: 'auto' is not yet faster for every guest). */
  mode?: JitMode;
  /** Translated units kept per CPU (default 1024, at most 65535). */
  cacheUnits?: number;
  /** Taken branches to a target before it is translated in 'auto' mode (default 1000, at most 65535). */
  hotThreshold?: number;
}

/** The translator's counters, since the CPU's translator was configured (a VM's creation). */
export interface JitStats {
  mode: JitMode;
  /** Units in the cache now. */
  units: number;
  /** Times the interpreter entered a unit and the unit ran (it may decline: no budget left, or its first instruction needs the interpreter). */
  hits: number;
  /** Hot targets that had no unit (each one translated, or found untranslatable). */
  misses: number;
  translations: number;
  /** Hot targets whose first instruction the translator does not handle. */
  untranslatable: number;
  /** Units dropped because their code was written. */
  invalidations: number;
  /** Units dropped to make room. */
  evictions: number;
  /** Guest instructions in the units translated. */
  translatedInstructions: number;
  /** Time spent translating and compiling, ms. */
  compileMs: number;
}

/** What the cache needs of its CPU. */
export interface JitHost extends GuestCode {
  readonly memory: WebAssembly.Memory;
  readonly table: WebAssembly.Table;
  /** The first table index the interpreter's own functions leave free. */
  readonly firstFreeSlot: number;
  /** The CPU's memory.ts unitStoreCoalesced, which units import (wasm to wasm: no JavaScript between). */
  readonly unitStoreCoalesced: (addr: bigint, sizeLog2: number, data: bigint) => number;
  markEntry(pc: number, index: number): void;
  unmarkEntry(pc: number, index: number): void;
  /** Sets the granule-map byte of the granule at RAM offset `granule << granuleLog2`. */
  setGranule(granule: number, translated: boolean): void;
}

interface Installed {
  readonly unit: Unit;
  readonly slot: number;
  readonly granules: readonly number[];
}

const MAX_SLOTS = 0xffff; // a decode cache entry keeps a unit's table index in 16 bits

export class CodeCache {
  readonly mode: JitMode;
  readonly hotThreshold: number;
  readonly #capacity: number;
  readonly #units = new Map<number, Installed>(); // by entry PC, oldest first
  readonly #untranslatable = new Set<number>();
  readonly #granuleUnits = new Map<number, number>(); // granule -> units translated from it
  readonly #freeSlots: number[] = [];
  #nextSlot: number;
  readonly #host: JitHost;
  #stats = CodeCache.#noStats();

  static #noStats(): Omit<JitStats, 'mode' | 'units' | 'hits'> {
    return { misses: 0, translations: 0, untranslatable: 0, invalidations: 0, evictions: 0, translatedInstructions: 0, compileMs: 0 };
  }

  constructor(host: JitHost, options: JitOptions) {
    this.mode = options.mode ?? 'off';
    this.#capacity = Math.min(options.cacheUnits ?? 1024, MAX_SLOTS - host.firstFreeSlot);
    this.hotThreshold = this.mode === 'on' ? 1 : this.mode === 'auto' ? (options.hotThreshold ?? 1000) : 0;
    this.#host = host;
    this.#nextSlot = host.firstFreeSlot;
  }

  /** Before the CPU's reset (RAM and its granule map zeroed, maybe moved): drops every unit. */
  reset(): void {
    for (const pc of [...this.#units.keys()]) this.#drop(pc);
    this.#untranslatable.clear();
  }

  /** For the CPU's next VM: no units, counters from zero. */
  restart(): void {
    this.reset();
    this.#stats = CodeCache.#noStats();
  }

  stats(hits: number): JitStats {
    return { mode: this.mode, units: this.#units.size, hits, ...this.#stats };
  }

  /** A hot target: translates it (once), or marks its entry again if the mark was lost. */
  hot(pc: number): void {
    const installed = this.#units.get(pc);
    if (installed !== undefined) {
      this.#host.markEntry(pc, installed.slot); // the decode cache entry was reused by another word
      return;
    }
    if (this.#untranslatable.has(pc)) return;
    this.#stats.misses++;
    const t0 = performance.now();
    const unit = translate(this.#host, pc);
    if (unit === undefined) {
      this.#stats.untranslatable++;
      this.#untranslatable.add(pc);
      this.#stats.compileMs += performance.now() - t0;
      return;
    }
    const module = new WebAssembly.Module(unit.bytes);
    const instance = new WebAssembly.Instance(module, { env: { memory: this.#host.memory, unitStoreCoalesced: this.#host.unitStoreCoalesced } });
    this.#stats.compileMs += performance.now() - t0;
    if (this.#units.size >= this.#capacity) {
      const oldest = this.#units.keys().next().value!;
      this.#drop(oldest);
      this.#stats.evictions++;
    }
    const slot = this.#slot();
    this.#host.table.set(slot, instance.exports.unit as () => number);
    const granules = this.#granulesOf(unit);
    for (const g of granules) {
      const n = this.#granuleUnits.get(g) ?? 0;
      if (n === 0) this.#host.setGranule(g, true);
      this.#granuleUnits.set(g, n + 1);
    }
    this.#units.set(pc, { unit, slot, granules });
    this.#host.markEntry(pc, slot);
    this.#stats.translations++;
    this.#stats.translatedInstructions += unit.instructions;
    // 'on': the code after an instruction left to the interpreter is a block of its own
    if (this.mode === 'on' && this.#units.size < this.#capacity) for (const next of unit.continuations) this.hot(next);
  }

  /** Drops every unit translated from guest addresses [start, end). */
  codeWritten(start: number, end: number): void {
    for (const [pc, { unit }] of [...this.#units]) {
      if (unit.ranges.some(([a, b]) => a < end && start < b)) {
        this.#drop(pc);
        this.#stats.invalidations++;
      }
    }
    // an untranslatable instruction written may now be translatable
    for (const pc of this.#untranslatable) if (pc >= start - 4 && pc < end) this.#untranslatable.delete(pc);
  }

  /**
   * Drops the units whose code the host changed (it writes RAM through views the CPU cannot watch):
   * compares each unit's words with RAM.
   */
  verify(): void {
    for (const [pc, { unit }] of [...this.#units]) {
      let i = 0;
      const same = unit.ranges.every(([a, b]) => {
        for (let p = a; p < b; p += 4) if (this.#host.word(p) !== unit.words[i++]) return false;
        return true;
      });
      if (!same) {
        this.#drop(pc);
        this.#stats.invalidations++;
      }
    }
  }

  #drop(pc: number): void {
    const installed = this.#units.get(pc)!;
    this.#units.delete(pc);
    this.#host.unmarkEntry(pc, installed.slot);
    this.#host.table.set(installed.slot, null);
    this.#freeSlots.push(installed.slot);
    for (const g of installed.granules) {
      const n = this.#granuleUnits.get(g)! - 1;
      if (n === 0) {
        this.#granuleUnits.delete(g);
        this.#host.setGranule(g, false);
      } else this.#granuleUnits.set(g, n);
    }
  }

  #slot(): number {
    const free = this.#freeSlots.pop();
    if (free !== undefined) return free;
    const slot = this.#nextSlot++;
    const table = this.#host.table;
    if (slot >= table.length) table.grow(Math.max(64, table.length));
    return slot;
  }

  #granulesOf(unit: Unit): number[] {
    const { ramBase, granuleLog2 } = this.#host;
    const set = new Set<number>();
    for (const [a, b] of unit.ranges) {
      for (let g = Math.floor((a - ramBase) / 2 ** granuleLog2); g <= Math.floor((b - 1 - ramBase) / 2 ** granuleLog2); g++) set.add(g);
    }
    return [...set];
  }
}
