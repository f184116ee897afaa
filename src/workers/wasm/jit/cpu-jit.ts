/**
 * The translator as one CPU sees it: A64Cpu (../a64-cpu.ts) runs its interpreter through `run`,
 * which handles the interpreter's two exits for the translator (a hot branch target, a store to
 * translated code) and returns every other exit unchanged, with the budget counted as before.
 */
import { CodeCache, type JitHost, type JitOptions, type JitStats } from './code-cache';
import type { Decoded } from './translate';

/** The a64.wasm exports the translator uses (native/wasm/assembly/jit.ts). */
export interface JitExports {
  readonly memory: WebAssembly.Memory;
  readonly codeMap: WebAssembly.Global;
  readonly CODE_WRITE: WebAssembly.Global;
  readonly GRANULE_LOG2: WebAssembly.Global;
  readonly STATE_PTR: WebAssembly.Global;
  readonly RAM_PTR: WebAssembly.Global;
  run(budget: number): number;
  setHotThreshold(n: number): void;
  markEntry(pc: bigint, base: bigint, index: number): void;
  unmarkEntry(pc: bigint, base: bigint, index: number): void;
  decodeForTranslator(insn: number): number;
  translatedRuns(): bigint;
  unitStoreCoalesced(addr: bigint, sizeLog2: number, data: bigint): number;
}

/** What the translator reads of its CPU besides the exports. */
export interface JitCpu {
  readonly ramBase: number;
  readonly ramSize: number;
  readonly pc: number;
  readonly instret: number;
  /** An MMIO access the next run() completes first: retired, but not counted in that run's budget. */
  readonly accessPending: boolean;
  /** Sets the exit the last run() reports (after an exit of the translator's used up the budget). */
  setSliceEnd(): void;
}

/** Exit codes of the interpreter (state.ts): the ones the translator handles. */
export interface JitExitCodes {
  readonly sliceEnd: number;
  readonly hot: number;
  readonly codeWritten: number;
}

export class CpuJit {
  readonly #exports: JitExports;
  readonly #cpu: JitCpu;
  readonly #exits: JitExitCodes;
  readonly #cache: CodeCache;
  readonly #host: JitHost;
  readonly #options: JitOptions;
  #runsBefore: number; // the interpreter's count of unit runs when this translator (re)started

  constructor(exports: JitExports, table: WebAssembly.Table, firstFreeSlot: number, ops: Readonly<Record<string, number>>,
              exits: JitExitCodes, cpu: JitCpu, options: JitOptions) {
    this.#exports = exports;
    this.#cpu = cpu;
    this.#exits = exits;
    const memory = exports.memory;
    const stateAddress = exports.STATE_PTR.value as number;
    const ramAddress = exports.RAM_PTR.value as number;
    const granuleLog2 = exports.GRANULE_LOG2.value as number;
    const scratch = (): DataView => new DataView(memory.buffer);
    const slotOf = (address: number): number => {
      const r = (address - stateAddress) / 8;
      return Number.isInteger(r) && r >= 0 && r <= 32 ? r : -1; // else DISCARD
    };
    this.#host = {
      memory,
      table,
      firstFreeSlot,
      unitStoreCoalesced: exports.unitStoreCoalesced,
      ops,
      stateAddress,
      ramAddress,
      granuleLog2,
      get ramBase() { return cpu.ramBase; },
      get ramSize() { return cpu.ramSize; },
      get codeMapAddress() { return exports.codeMap.value as number; },
      word: (pc) => scratch().getUint32(ramAddress + pc - cpu.ramBase, true),
      decode: (insn): Decoded => {
        const e = exports.decodeForTranslator(insn), v = scratch();
        return {
          op: v.getUint8(e + 4),
          xd: slotOf(v.getUint16(e + 6, true)),
          xn: slotOf(v.getUint16(e + 8, true)),
          xm: slotOf(v.getUint16(e + 10, true)),
          xt: slotOf(v.getUint16(e + 12, true)),
          imm: v.getBigUint64(e + 16, true),
          imm2: v.getBigUint64(e + 24, true),
        };
      },
      markEntry: (pc, index) => exports.markEntry(BigInt(pc), BigInt(cpu.ramBase), index),
      unmarkEntry: (pc, index) => exports.unmarkEntry(BigInt(pc), BigInt(cpu.ramBase), index),
      setGranule: (granule, translated) => {
        new Uint8Array(memory.buffer)[(exports.codeMap.value as number) + granule] = translated ? 1 : 0;
      },
    };
    this.#options = { ...options };
    this.#cache = new CodeCache(this.#host, options);
    this.#runsBefore = Number(exports.translatedRuns());
    exports.setHotThreshold(this.#cache.hotThreshold);
  }

  get mode(): JitStats['mode'] {
    return this.#cache.mode;
  }

  /** True if this translator was configured with the same options as `options`. */
  configuredAs(options: JitOptions): boolean {
    const mine = this.#options;
    return (mine.mode ?? 'off') === (options.mode ?? 'off') && mine.cacheUnits === options.cacheUnits && mine.hotThreshold === options.hotThreshold;
  }

  /** For the CPU's next VM (a reused CPU): no units, no hot counts, counters from zero. */
  restart(): void {
    if (this.mode === 'off') return; // nothing counted, nothing translated
    this.#cache.restart();
    this.#runsBefore = Number(this.#exports.translatedRuns());
    this.#exports.setHotThreshold(this.#cache.hotThreshold);
  }

  /**
   * Before the CPU's reset: its units stand for code the reset throws away, and the branch counts
   * for code that is gone too (a target gets hot when its count reaches the threshold, not past it:
   * counts kept would leave the new code to the interpreter until they wrapped around).
   */
  reset(): void {
    this.#cache.reset();
    if (this.mode !== 'off') this.#exports.setHotThreshold(this.#cache.hotThreshold); // with it off nothing counts
  }

  stats(): JitStats {
    return this.#cache.stats(Number(this.#exports.translatedRuns()) - this.#runsBefore);
  }

  /** The host wrote guest RAM [address, address + length): units translated from it are dropped. */
  codeWritten(address: number, length: number): void {
    this.#cache.codeWritten(address, address + length);
  }

  /** Drops units whose code the host may have written through a view of RAM. */
  verify(): void {
    this.#cache.verify();
  }

  /** Runs at most `budget` instructions like the interpreter's run(), translating on the way. */
  run(budget: number): number {
    const cpu = this.#cpu, exits = this.#exits, exports = this.#exports;
    if (this.#cache.mode === 'on') this.#cache.hot(cpu.pc); // every block at its first execution: this one too
    let left = budget;
    for (;;) {
      const before = cpu.instret, completed = cpu.accessPending ? 1 : 0;
      const exit = exports.run(left);
      if (exit !== exits.hot && exit !== exits.codeWritten) return exit;
      left -= cpu.instret - before - completed; // as run() counts its budget
      this.#codeStored(); // first, so that a unit translated now is not dropped for an older store
      if (exit === exits.hot) this.#cache.hot(cpu.pc);
      if (left <= 0) {
        cpu.setSliceEnd();
        return exits.sliceEnd;
      }
    }
  }

  /** If the guest stored to translated code: drop the units it wrote, then let units run again. */
  #codeStored(): void {
    const address = this.#exports.CODE_WRITE.value as number;
    const range = new BigUint64Array(this.#exports.memory.buffer, address, 2);
    if (range[1] === 0n) return;
    const base = this.#cpu.ramBase;
    this.#cache.codeWritten(base + Number(range[0]!), base + Number(range[1]!));
    range.fill(0n);
  }
}
