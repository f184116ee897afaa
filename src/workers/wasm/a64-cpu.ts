/**
 * The WebAssembly backend's CPU: a software AArch64 (Armv8.0-A integer, scalar FP and Advanced SIMD,
 * SIMD&FP loads and stores, Armv8.1 LSE atomics, CRC32; EL1, MMU off or one fixed identity map) compiled
 * from native/wasm to dist/a64.wasm (dist/a64-jit.wasm with the translator's hooks, for jit on or
 * auto: jit/). It exits like a KVM/arm64 vCPU does: MMIO with the access
 * described, HVC (PSCI), WFI; architecturally UNDEFINED encodings, SVC, BRK and FP/SIMD traps go to
 * the guest's vector table as on hardware. Stores to coalesced ranges make no exit: they wait in the
 * CPU's ring of coalesced writes (KVM's coalesced MMIO) for the host to take them (takeCoalesced).
 *
 * The wasm module is compiled once per thread; a CPU is one cheap instance of it and `reset()`
 * reuses that instance. Exit details are read straight from the CPU's state in wasm memory, with
 * plain-number getters: handling an exit allocates nothing.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

import { packageRoot } from '../../shared/addon';
import { checkTranslatorV8Flags } from '../../shared/v8-flags';
import type { JitOptions, JitStats } from './jit/code-cache';
import { CpuJit, type JitExports } from './jit/cpu-jit';
import { importedTableMinimum } from './jit/wasm-code';

/** Why `run()` returned. Values are the wasm module's `Exit.*` (checked when it loads). */
export const CpuExit = {
  /** The instruction budget was used up. */
  SliceEnd: 0,
  /** A load or store outside RAM: see `mmio*`; a read is completed by `completeMmioRead` + `run()`. */
  Mmio: 1,
  /** HVC executed (PC is past it): x0 holds the function id, e.g. PSCI SYSTEM_OFF 0x84000008. */
  Hvc: 2,
  /** WFI executed (PC is past it). */
  Wfi: 3,
  /** An instruction this CPU does not implement: `faultPc`, `faultInsn`. */
  Unsupported: 4,
  /** A pair, exclusive or writeback access outside RAM: KVM reports no valid syndrome for it. */
  MmioNoSyndrome: 5,
  /** Instruction fetch outside RAM: `faultPc`. */
  FetchAbort: 6,
  /** An MSR (`faultInsn` at `faultPc`) that would change the translation regime from the one the CPU models. */
  MmuRegime: 7,
} as const;
export type CpuExit = (typeof CpuExit)[keyof typeof CpuExit];

/** A64 system registers by name: op0, op1, CRn, CRm, op2 (their MRS/MSR encoding). */
const SYSREGS: Readonly<Record<string, readonly [number, number, number, number, number]>> = {
  nzcv: [3, 3, 4, 2, 0],
  daif: [3, 3, 4, 2, 1],
  currentel: [3, 0, 4, 2, 2],
  spsel: [3, 0, 4, 2, 0],
  sp_el0: [3, 0, 4, 1, 0],
  sp_el1: [3, 4, 4, 1, 0],
  elr_el1: [3, 0, 4, 0, 1],
  spsr_el1: [3, 0, 4, 0, 0],
  esr_el1: [3, 0, 5, 2, 0],
  far_el1: [3, 0, 6, 0, 0],
  vbar_el1: [3, 0, 12, 0, 0],
  sctlr_el1: [3, 0, 1, 0, 0],
  cpacr_el1: [3, 0, 1, 0, 2],
  ttbr0_el1: [3, 0, 2, 0, 0],
  tcr_el1: [3, 0, 2, 0, 2],
  mair_el1: [3, 0, 10, 2, 0],
  tpidr_el0: [3, 3, 13, 0, 2],
  tpidrro_el0: [3, 3, 13, 0, 3],
  tpidr_el1: [3, 0, 13, 0, 4],
  midr_el1: [3, 0, 0, 0, 0],
  mpidr_el1: [3, 0, 0, 0, 5],
  cntfrq_el0: [3, 3, 14, 0, 0],
  cntvct_el0: [3, 3, 14, 0, 2],
  fpcr: [3, 3, 4, 4, 0],
  fpsr: [3, 3, 4, 4, 1],
};

/** Every name `getReg`/`setReg` accept; v0..v31 are the 128-bit FP/SIMD registers. */
export const A64_REGISTER_NAMES: readonly string[] = [
  ...Array.from({ length: 31 }, (_, i) => `x${i}`),
  'sp',
  'pc',
  'pstate',
  ...Object.keys(SYSREGS),
  ...Array.from({ length: 32 }, (_, i) => `v${i}`),
];

/** v0..v31, the FP/SIMD registers (128 bits each). */
const VECTOR_REGISTER = /^v([0-9]|[12][0-9]|3[01])$/;

/** The width in bits of register `name`: 128 for v0..v31, 32 for fpcr and fpsr, else 64; 0 for a name that is not a register. */
export function a64RegisterBits(name: string): 0 | 32 | 64 | 128 {
  if (!A64_REGISTER_NAMES.includes(name)) return 0;
  if (name === 'fpcr' || name === 'fpsr') return 32; // as KVM_REG_SIZE_U32 says: their upper half is RES0
  return VECTOR_REGISTER.test(name) ? 128 : 64;
}

/** The MRS/MSR key (insn[20:5]) the wasm module names system registers by. */
function sysregKey(name: string): number | undefined {
  const enc = SYSREGS[name];
  if (enc === undefined) return undefined;
  const [op0, op1, crn, crm, op2] = enc;
  return (op0 << 14) | (op1 << 11) | (crn << 7) | (crm << 3) | op2;
}

interface A64Exports extends JitExports {
  readonly COALESCED_PTR: WebAssembly.Global;
  reset(base: bigint, size: bigint, pc: bigint): number;
  coalesce(base: bigint, size: bigint): number;
  clearCoalesced(): void;
  skipWritesIn(start: bigint, end: bigint): number;
  run(budget: number): number;
  readSysreg(key: number): bigint;
  writeSysreg(key: number, value: bigint): number;
  getPstate(): bigint;
  setPstate(value: bigint): number;
}

/** State slot indexes, read from the module's `Slot.*` exports. */
interface Slots {
  readonly sp: number;
  readonly pc: number;
  readonly instret: number;
  readonly exit: number;
  readonly mmioAddr: number;
  readonly mmioSize: number;
  readonly mmioWrite: number;
  readonly mmioData: number;
  readonly mmioReg: number;
  readonly mmioPending: number;
  readonly faultPc: number;
  readonly faultInsn: number;
  readonly irqLine: number;
  /** v0's first slot: vn is slots v0 + 2n (bits 63:0) and v0 + 2n + 1 (bits 127:64). */
  readonly v0: number;
  /** How many 8-byte slots the architectural state takes. */
  readonly count: number;
}

/**
 * The coalesced-write ring (native/wasm/assembly/coalesced.ts), from the module's `Coalesced.*`
 * exports, in 32-bit words as the host reads it.
 */
interface RingLayout {
  /** Writes it holds. */
  readonly entries: number;
  /** Its length. */
  readonly words: number;
  /** The header: entries the CPU wrote, entries the host delivered. */
  readonly written: number;
  readonly delivered: number;
  /** Where entry 0 starts, and an entry's length. */
  readonly first: number;
  readonly entryWords: number;
  /** In an entry: the address (u64) at 0, the size in bytes (u32), the data (u64). */
  readonly size: number;
  readonly data: number;
  /** Ranges the CPU coalesces at most. */
  readonly ranges: number;
}

interface Compiled {
  module: WebAssembly.Module;
  slots: Slots;
  /** The size of the function table the module imports (the translator's units go after). */
  tableSize: number;
  /** The interpreter's Op numbers by name, for the translator. */
  ops: Record<string, number>;
  /** Exit codes of the translator's own exits (never returned by `run()`). */
  hot: number;
  codeWritten: number;
  ring: RingLayout;
}

/** The two builds of the CPU (native/wasm/build.mjs): the interpreter alone, and with the translator's hooks. */
const compiled = new Map<boolean, Compiled>();

/**
 * Compiles dist/a64.wasm (or, with `hooks`, dist/a64-jit.wasm) on first use (synchronously: a few
 * ms, once per thread and build).
 */
function load(hooks: boolean): Compiled {
  const done = compiled.get(hooks);
  if (done !== undefined) return done;
  const path = join(packageRoot(), 'dist', hooks ? 'a64-jit.wasm' : 'a64.wasm');
  if (!existsSync(path)) throw new Error(`femtovm: ${path} is missing: run npm run build`);
  const bytes = readFileSync(path);
  const module = new WebAssembly.Module(bytes);
  const tableSize = importedTableMinimum(bytes);
  // A throwaway instance to read the layout constants and check the exit numbering.
  const table = new WebAssembly.Table({ element: 'anyfunc', initial: tableSize });
  const probe = new WebAssembly.Instance(module, { env: { counter: () => 0n, table } }).exports;
  const value = (name: string): number => {
    const g = probe[name];
    if (!(g instanceof WebAssembly.Global)) throw new Error(`femtovm: a64.wasm lacks export ${name}`);
    return g.value as number;
  };
  const exitNames = ['SLICE_END', 'MMIO', 'HVC', 'WFI', 'UNSUPPORTED', 'MMIO_NO_SYNDROME', 'FETCH_ABORT', 'MMU_REGIME'];
  Object.values(CpuExit).forEach((v, i) => {
    if (value(`Exit.${exitNames[i]}`) !== v) throw new Error('femtovm: a64.wasm exit numbering differs');
  });
  const slots: Slots = {
    sp: value('Slot.SP'),
    pc: value('Slot.PC'),
    instret: value('Slot.INSTRET'),
    exit: value('Slot.EXIT'),
    mmioAddr: value('Slot.MMIO_ADDR'),
    mmioSize: value('Slot.MMIO_SIZE'),
    mmioWrite: value('Slot.MMIO_WRITE'),
    mmioData: value('Slot.MMIO_DATA'),
    mmioReg: value('Slot.MMIO_REG'),
    mmioPending: value('Slot.MMIO_PENDING'),
    faultPc: value('Slot.FAULT_PC'),
    count: value('Slot.COUNT'),
    faultInsn: value('Slot.FAULT_INSN'),
    irqLine: value('Slot.IRQ_LINE'),
    v0: value('Slot.V0'),
  };
  // Byte offsets, read as 32-bit words: each a multiple of 4, an entry's address at its start.
  const offsets = ['HEADER_BYTES', 'WRITTEN', 'DELIVERED', 'ENTRY_BYTES', 'ENTRY_SIZE', 'ENTRY_DATA'].map((n) => value(`Coalesced.${n}`));
  const [headerBytes, written, delivered, entryBytes, size, data] = offsets.map((n) => n / 4) as [number, number, number, number, number, number];
  if (!offsets.every((n) => n % 4 === 0) || Math.max(written, delivered) >= headerBytes || size < 2 || data < size + 1 || entryBytes < data + 2) {
    throw new Error('femtovm: a64.wasm coalesced ring layout differs');
  }
  const entries = value('Coalesced.ENTRIES');
  const ring: RingLayout = { entries, words: headerBytes + entries * entryBytes, written, delivered, first: headerBytes, entryWords: entryBytes, size, data, ranges: value('Coalesced.RANGES') };
  const ops = Object.fromEntries(Object.keys(probe).filter((k) => k.startsWith('Op.')).map((k) => [k.slice(3), value(k)]));
  const build: Compiled = { module, slots, tableSize, ops, hot: value('Exit.HOT'), codeWritten: value('Exit.CODE_WRITTEN'), ring };
  compiled.set(hooks, build);
  return build;
}

export interface A64CpuOptions {
  /** Guest-physical address of RAM (4 KiB-aligned). Default 0x10000. */
  ramBase?: number;
  /** RAM size in bytes (4 KiB multiple). Default 64 KiB. */
  ramSize?: number;
  /** Initial PC. Default: ramBase. */
  pc?: number;
  /**
   * The translator of hot code to WebAssembly (default: off). A CPU made with it off runs the
   * interpreter alone (no hooks for a translator) and cannot turn it on later.
   */
  jit?: JitOptions;
}

const TWO32 = 2 ** 32;

/** A coalesced write, as takeCoalesced gives it: the address and data as 32-bit halves, the size in bytes. */
export interface CoalescedWrite {
  addressLo: number;
  addressHi: number;
  size: number;
  dataLo: number;
  dataHi: number;
}

/** One AArch64 vCPU with its RAM, running in WebAssembly. */
export class A64Cpu {
  readonly #exports: A64Exports;
  readonly #slots: Slots;
  readonly #layout: RingLayout;
  readonly #state: number; // byte offset of the state slots in wasm memory
  readonly #ramPtr: number; // byte offset of guest RAM in wasm memory
  readonly #ringPtr: number; // byte offset of the coalesced-write ring in wasm memory
  #u32!: Uint32Array; // the state slots, as 32-bit halves
  #u64!: BigUint64Array;
  #ring!: Uint32Array; // the coalesced-write ring, as 32-bit words
  #ram!: Uint8Array;
  #ramBase = 0;
  #ramTaken = false; // `ram` was read since the last verifyCode(): the host may have written code
  readonly #table: WebAssembly.Table;
  #jit!: CpuJit;
  #epoch = 0n; // hrtime at reset: CNTVCT_EL0 counts ns (CNTFRQ_EL0 = 1 GHz) from there

  /** This CPU runs the build with the translator's hooks (made with jit on or auto). */
  readonly translates: boolean;

  constructor(options: A64CpuOptions = {}) {
    this.translates = (options.jit?.mode ?? 'off') !== 'off';
    if (this.translates) checkTranslatorV8Flags(); // src/shared/v8-flags.ts says why
    const { module, slots, tableSize, ring } = load(this.translates);
    const counter = (): bigint => process.hrtime.bigint() - this.#epoch;
    this.#table = new WebAssembly.Table({ element: 'anyfunc', initial: tableSize });
    this.#exports = new WebAssembly.Instance(module, { env: { counter, table: this.#table } }).exports as unknown as A64Exports;
    this.#slots = slots;
    this.#layout = ring;
    this.#state = this.#exports.STATE_PTR.value as number;
    this.#ramPtr = this.#exports.RAM_PTR.value as number;
    this.#ringPtr = this.#exports.COALESCED_PTR.value as number;
    const ramBase = options.ramBase ?? 0x10000;
    this.reset(ramBase, options.ramSize ?? 0x10000, options.pc ?? ramBase);
    this.configureJit(options.jit ?? {});
  }

  /** Sets the translator's options; its units so far are dropped. Turning it on needs a CPU that `translates`. */
  configureJit(options: JitOptions): void {
    const mode = options.mode ?? 'off';
    if (mode !== 'off' && !this.translates) throw new RangeError(`A64Cpu: jit ${mode} needs a CPU made with the translator on (this one interprets only)`);
    if (this.#jit?.configuredAs(options)) { // a tiny VM's reuse costs no new translator
      this.#jit.restart();
      return;
    }
    this.#jit?.reset();
    const { tableSize, ops, hot, codeWritten } = load(this.translates);
    const cpu = this; // the translator reads this CPU through getters
    this.#jit = new CpuJit(this.#exports, this.#table, tableSize, ops, { sliceEnd: CpuExit.SliceEnd, hot, codeWritten }, {
      get ramBase() { return cpu.#ramBase; },
      get ramSize() { return cpu.#ram.length; },
      get pc() { return cpu.pcNumber; },
      get instret() { return cpu.instret; },
      get accessPending() { return cpu.#u32[cpu.#slots.mmioPending * 2] !== 0; },
      setSliceEnd: () => {
        this.#u32[this.#slots.exit * 2] = CpuExit.SliceEnd;
      },
    }, options);
  }

  /** The translator's counters (hits, misses, translations, invalidations, ...). */
  get jitStats(): JitStats {
    return this.#jit.stats();
  }

  /**
   * Tells the translator the host wrote guest RAM at [address, address + length) (guest-physical)
   * while the CPU may have translated code there: its units are dropped. (Stores by the guest are
   * seen without this; a reset drops every unit.)
   */
  codeWritten(address: number, length: number): void {
    this.#jit.codeWritten(address, length);
  }

  /**
   * Back to the state KVM_ARM_VCPU_INIT gives, with zeroed RAM: PC = `pc` (default ramBase),
   * PSTATE 0x3c5 (EL1h, DAIF masked), SP_EL1 = top of RAM, everything else 0; no range coalesced.
   */
  reset(ramBase: number, ramSize: number, pc: number = ramBase): void {
    this.#reset(ramBase, ramSize, pc);
    this.#exports.clearCoalesced();
  }

  /** reset(), keeping the coalesced ranges (the ring is emptied). */
  #reset(ramBase: number, ramSize: number, pc: number): void {
    if (ramBase % 4096 !== 0 || ramSize % 4096 !== 0 || ramSize <= 0 || !Number.isSafeInteger(ramBase + ramSize)) {
      throw new RangeError(`A64Cpu: RAM must be 4 KiB-aligned and non-empty (base ${ramBase}, size ${ramSize})`);
    }
    this.#jit?.reset();
    if (!this.#exports.reset(BigInt(ramBase), BigInt(ramSize), BigInt(pc))) {
      throw new RangeError(`A64Cpu: cannot allocate ${ramSize} bytes of RAM`);
    }
    const buffer = this.#exports.memory.buffer;
    this.#u32 = new Uint32Array(buffer, this.#state);
    this.#u64 = new BigUint64Array(buffer, this.#state);
    this.#ring = new Uint32Array(buffer, this.#ringPtr, this.#layout.words);
    this.#ram = new Uint8Array(buffer, this.#ramPtr, ramSize);
    this.#ramBase = ramBase;
    this.#epoch = process.hrtime.bigint();
  }

  /** A copy of the whole architectural state (registers, system registers, monitor), for snapshots. */
  saveState(): Uint8Array {
    return new Uint8Array(this.#exports.memory.buffer, this.#state, this.#slots.count * 8).slice();
  }

  /**
   * Back to a state from saveState() and RAM contents from `ram` (a copy of this CPU's RAM): a reset
   * first, so nothing the CPU caches about RAM or the PC survives from the run before (coalesced
   * writes not yet delivered included); the coalesced ranges stay.
   */
  restoreState(state: Uint8Array, ram: Uint8Array): void {
    this.#reset(this.#ramBase, this.#ram.length, this.#ramBase);
    this.#ram.set(ram);
    new Uint8Array(this.#exports.memory.buffer, this.#state, state.length).set(state);
  }

  /**
   * Guest RAM, a view into wasm memory (a new view after each reset). Code the host writes through
   * it is seen by the next `run()` (translated units are checked against RAM once the view was
   * taken); for writes through a view kept across runs, call `codeWritten` or `verifyCode`.
   */
  get ram(): Uint8Array {
    this.#ramTaken = true;
    return this.#ram;
  }

  /** Bytes of wasm memory this CPU holds (it never shrinks: a CPU once given large RAM keeps it). */
  get memoryBytes(): number {
    return this.#exports.memory.buffer.byteLength;
  }

  /** Drops translated units whose code differs from RAM now. */
  verifyCode(): void {
    this.#ramTaken = false;
    this.#jit.verify();
  }

  /** Guest-physical address of ram[0]. */
  get ramBase(): number {
    return this.#ramBase;
  }

  /** Runs at most `maxInsns` instructions (keep it ≤ 1e6 per call). */
  run(maxInsns: number): CpuExit {
    if (this.#jit.mode === 'off') return this.#exports.run(maxInsns) as CpuExit;
    if (this.#ramTaken) this.verifyCode();
    return this.#jit.run(maxInsns) as CpuExit;
  }

  /** A 64-bit slot as a number (exact below 2^53). */
  #number(slot: number): number {
    return this.#u32[slot * 2]! + this.#u32[slot * 2 + 1]! * TWO32;
  }

  /** The program counter as a number (pc: getReg allocates a bigint). */
  get pcNumber(): number {
    return this.#number(this.#slots.pc);
  }

  /** Instructions retired since reset. */
  get instret(): number {
    return this.#number(this.#slots.instret);
  }

  /** The last exit. */
  get exit(): CpuExit {
    return this.#u32[this.#slots.exit * 2] as CpuExit;
  }

  /** MMIO exit: the guest-physical address. */
  get mmioAddr(): number {
    return this.#number(this.#slots.mmioAddr);
  }

  /** MMIO exit: the address's low and high 32 bits (exact where mmioAddr, a double, is not; no allocation). */
  get mmioAddrLo(): number {
    return this.#u32[this.#slots.mmioAddr * 2]!;
  }
  get mmioAddrHi(): number {
    return this.#u32[this.#slots.mmioAddr * 2 + 1]!;
  }

  /** MMIO exit: the access size in bytes (1, 2, 4, 8). */
  get mmioSize(): number {
    return this.#u32[this.#slots.mmioSize * 2]!;
  }

  /** MMIO exit: a store (true) or a load. */
  get mmioIsWrite(): boolean {
    return this.#u32[this.#slots.mmioWrite * 2] !== 0;
  }

  /** MMIO store data, low 32 bits. */
  get mmioDataLo(): number {
    return this.#u32[this.#slots.mmioData * 2]!;
  }

  /** MMIO store data, high 32 bits (non-zero only for 8-byte stores). */
  get mmioDataHi(): number {
    return this.#u32[this.#slots.mmioData * 2 + 1]!;
  }

  /** MMIO store data (allocates a bigint: mmioDataLo/Hi do not). */
  get mmioData(): bigint {
    return this.#u64[this.#slots.mmioData]!;
  }

  /** MMIO load: the destination register number (31: XZR, the value is dropped). */
  get mmioReg(): number {
    return this.#u32[this.#slots.mmioReg * 2]!;
  }

  /**
   * Supplies the value an MMIO load reads (the low mmioSize bytes of hi:lo count); the next
   * `run()` writes it to the register, extended as the instruction says, and moves past it.
   */
  completeMmioRead(lo: number, hi = 0): void {
    this.#u32[this.#slots.mmioData * 2] = lo;
    this.#u32[this.#slots.mmioData * 2 + 1] = hi;
  }

  /**
   * Makes the guest's stores wholly inside [base, base + size) exit-free: they go to the CPU's ring
   * of coalesced writes (takeCoalesced) and the CPU runs on, as
   * long as the ring has room; a store that finds it full is an MMIO exit. False when the CPU
   * already coalesces `maxCoalescedRanges` ranges.
   */
  coalesce(base: number, size: number): boolean {
    return this.#exports.coalesce(BigInt(base), BigInt(size)) !== 0;
  }

  /** How many ranges coalesce() takes. */
  get maxCoalescedRanges(): number {
    return this.#layout.ranges;
  }

  /** How many writes the ring holds: the next store to a coalesced range stops the CPU when it is full. */
  get coalescedCapacity(): number {
    return this.#layout.entries;
  }

  /** Coalesced writes the CPU appended and the host has not taken yet (takeCoalesced). */
  get coalescedPending(): number {
    const h = this.#ring, l = this.#layout;
    return h[l.written]! - h[l.delivered]!;
  }

  /**
   * Takes the oldest pending coalesced write into `into`; false when none is pending. The ring starts
   * over once all are taken.
   */
  takeCoalesced(into: CoalescedWrite): boolean {
    const h = this.#ring, l = this.#layout;
    const delivered = h[l.delivered]!, written = h[l.written]!;
    if (delivered >= written) return false;
    const e = l.first + delivered * l.entryWords;
    into.addressLo = h[e]!;
    into.addressHi = h[e + 1]!;
    into.size = h[e + l.size]!;
    into.dataLo = h[e + l.data]!;
    into.dataHi = h[e + l.data + 1]!;
    const all = delivered + 1 === written;
    h[l.delivered] = all ? 0 : delivered + 1;
    if (all) h[l.written] = 0;
    return true;
  }

  /**
   * Takes the pending coalesced writes, oldest first, while each starts inside one of `ranges`
   * ([start, end)): how many. The host's bulk path for writes that nothing observes.
   */
  skipCoalescedIn(ranges: readonly { readonly start: bigint; readonly end: bigint }[]): number {
    let taken = 0;
    for (let progress = true; progress; ) {
      progress = false;
      for (const r of ranges) {
        const n = this.#exports.skipWritesIn(r.start, r.end);
        taken += n;
        progress ||= n > 0;
      }
    }
    return taken;
  }

  /**
   * The IRQ input (level): while high, the CPU takes an IRQ exception (VBAR_EL1 + 0x280 at EL1h)
   * before the next instruction once PSTATE.I is clear, and WFI does not wait. Set between runs.
   */
  get irqLine(): boolean {
    return this.#u32[this.#slots.irqLine * 2] !== 0;
  }
  set irqLine(high: boolean) {
    this.#u32[this.#slots.irqLine * 2] = high ? 1 : 0;
  }

  /** Unsupported, fetch-abort and no-syndrome exits: the PC of the instruction. */
  get faultPc(): number {
    return this.#number(this.#slots.faultPc);
  }

  /** Unsupported, MMIO, HVC and WFI exits: the instruction word. */
  get faultInsn(): number {
    return this.#u32[this.#slots.faultInsn * 2]!;
  }

  /**
   * A register by name (see A64_REGISTER_NAMES): x0–x30, sp (the current one), pc, pstate (KVM
   * layout: NZCV 31:28, DAIF 9:6, M[3:0]), and system registers such as nzcv, daif, sp_el0,
   * sp_el1, vbar_el1, elr_el1, spsr_el1, esr_el1, far_el1, sctlr_el1, cntvct_el0, fpcr, fpsr; and
   * v0–v31, the FP/SIMD registers, as 128-bit values.
   */
  getReg(name: string): bigint {
    const v = this.#vregSlot(name);
    if (v !== undefined) return (this.#u64[v + 1]! << 64n) | this.#u64[v]!;
    const slot = this.#gprSlot(name);
    if (slot !== undefined) return this.#u64[slot]!;
    // wasm returns i64 as a signed bigint
    if (name === 'pstate') return BigInt.asUintN(64, this.#exports.getPstate());
    return BigInt.asUintN(64, this.#exports.readSysreg(this.#key(name)));
  }

  /** Sets a register by name; throws for an unknown name or a value the register cannot take. */
  setReg(name: string, value: bigint): void {
    const vslot = this.#vregSlot(name);
    if (vslot !== undefined) {
      if (value < 0n || value >= 1n << 128n) throw new RangeError(`A64Cpu: ${name} is 128 bits: 0x${value.toString(16)} does not fit`);
      this.#u64[vslot] = BigInt.asUintN(64, value);
      this.#u64[vslot + 1] = value >> 64n;
      return;
    }
    const slot = this.#gprSlot(name);
    const v = BigInt.asUintN(64, value);
    if (slot !== undefined) this.#u64[slot] = v;
    else if (name === 'pstate') {
      if (!this.#exports.setPstate(v)) throw new RangeError(`A64Cpu: PSTATE ${v.toString(16)} is not EL1t/EL1h`);
    } else if (!this.#exports.writeSysreg(this.#key(name), v)) {
      throw new RangeError(`A64Cpu: register ${name} cannot be set to 0x${v.toString(16)}`);
    }
  }

  #gprSlot(name: string): number | undefined {
    if (name === 'sp') return this.#slots.sp;
    if (name === 'pc') return this.#slots.pc;
    const m = /^x([0-9]|[12][0-9]|30)$/.exec(name);
    return m ? Number(m[1]) : undefined;
  }

  #vregSlot(name: string): number | undefined {
    return VECTOR_REGISTER.test(name) ? this.#slots.v0 + 2 * Number(name.slice(1)) : undefined;
  }

  #key(name: string): number {
    const key = sysregKey(name);
    if (key === undefined) throw new RangeError(`A64Cpu: no register named ${name}`);
    return key;
  }
}
