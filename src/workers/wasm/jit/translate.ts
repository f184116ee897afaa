/**
 * Translates hot A64 code into one WebAssembly function: a unit. From its entry it follows direct
 * branches (both ways of a conditional one) to a bounded set of basic blocks; each block becomes a
 * run of wasm with the guest registers in locals, loaded from the CPU's state slots on entry and
 * written back at the one exit. Blocks reach each other through a dispatch loop (a br_table on the
 * block number), fall through to the next block in address order, and a block that branches to
 * itself is a wasm loop of its own.
 *
 * A unit is exact by leaving everything it does not do exactly like the interpreter to the
 * interpreter: an instruction it does not translate ends its block (the unit exits there), and a
 * translated one that would leave the fast path (an access outside RAM or misaligned, a store to
 * translated code, a misaligned branch target) exits before it has any effect, its instructions
 * so far retired. The interpreter then runs that instruction as it always does: MMIO exits,
 * exceptions and instret stay its own. A unit never retires more instructions than it is given: a
 * block starts only if the whole of it fits in the budget (the host's slices, and so stop and
 * time limits, hold as without it).
 *
 * The semantics of every translated instruction follow the interpreter's handlers in
 * native/wasm/assembly (alu.ts, dp-imm.ts, dp-reg.ts, branch.ts, loadstore.ts), which the tests
 * run against QEMU with the translator forced on.
 */
import { FunctionCode, I32, I64, Op as W, moduleWith, type FunctionImport } from './wasm-code';
import { structure, type Interval, type Structure } from './structure';

/** An instruction as the interpreter decodes it (native/wasm/assembly/insn.ts). */
export interface Decoded {
  readonly op: number;
  /** Registers as state slots: 0..30, 31 (XZR), 32 (SP); -1 for a write to XZR (discarded). */
  readonly xd: number;
  readonly xn: number;
  readonly xm: number;
  readonly xt: number;
  readonly imm: bigint;
  readonly imm2: bigint;
}

/**
 * The CPU's function a unit calls for a store outside RAM it may coalesce (memory.ts
 * unitStoreCoalesced): (address, log2 of the size, data) -> taken. Function index 0.
 */
const STORE_COALESCED: FunctionImport = { name: 'unitStoreCoalesced', params: [I64, I32, I64], results: [I32] };

/** What the translator needs of a CPU: its code, its decoder and its memory layout. */
export interface GuestCode {
  readonly ramBase: number;
  readonly ramSize: number;
  /** Byte addresses in the CPU's linear memory. */
  readonly stateAddress: number;
  readonly ramAddress: number;
  readonly codeMapAddress: number;
  readonly granuleLog2: number;
  /** The interpreter's Op numbers by name (ops.ts). */
  readonly ops: Readonly<Record<string, number>>;
  /** The word at guest address `pc` (in RAM). */
  word(pc: number): number;
  decode(insn: number): Decoded;
}

export interface Unit {
  /** The module: one function `unit(pc: i64, budget: i32) -> i32`. */
  readonly bytes: Uint8Array<ArrayBuffer>;
  readonly entry: number;
  /** Guest address ranges [start, end) it was translated from. */
  readonly ranges: readonly (readonly [number, number])[];
  /** The words it was translated from, range after range. */
  readonly words: Uint32Array;
  /** Where code resumes after an instruction the unit leaves to the interpreter ('on' mode translates there too). */
  readonly continuations: readonly number[];
  readonly instructions: number;
}

/** At most this many instructions per unit, and per block. */
export const UNIT_LIMIT = 512;
const BLOCK_LIMIT = 128;

// State slot numbers (state.ts).
const PC_SLOT = 33;
const FLAG_SLOTS = [34, 35, 36, 37] as const; // N, Z, C, V
const SCTLR_SLOT = 46;
const CPACR_SLOT = 47;
const V0_SLOT = 68; // vn: slots V0 + 2n (bits 63:0) and the next (127:64)
const XZR = 31;
const M32 = 0xffff_ffffn;

interface Insn {
  readonly pc: number;
  readonly word: number;
  readonly d: Decoded;
}

interface Block {
  readonly start: number;
  readonly insns: Insn[];
  /** Where execution goes after the last instruction when it is not a branch (or is a not-taken one). */
  readonly next: number;
}

const bit = (w: number, n: number): boolean => ((w >>> n) & 1) !== 0;
const field = (w: number, lo: number, width: number): number => (w >>> lo) & ((1 << width) - 1);
/** LDR (literal)'s offset: imm19 words, signed. */
const literalOffset = (w: number): number => ((w << 8) >> 13) * 4;

/** LDR/STR (SIMD&FP) in a form the interpreter completes (fp-loadstore.ts loadStoreFpRegister). */
function fpRegisterForm(w: number): boolean {
  if (field(w, 22, 2) >= 2 && field(w, 30, 2) !== 0) return false;
  if (bit(w, 24)) return true;
  if (bit(w, 21)) return field(w, 10, 2) === 2 && (field(w, 13, 3) & 2) !== 0;
  return field(w, 10, 2) !== 2; // no unprivileged forms
}

/** The translatable instruction classes, by what the code generator does with them. */
type Kind = 'addSubImm' | 'addSubShifted' | 'logicalImm' | 'logicalShifted' | 'moveWide' | 'bitfield' | 'pcRel'
  | 'condSelect' | 'mulAdd' | 'branchImm' | 'compareBranch' | 'testBranch' | 'condBranch' | 'branchReg'
  | 'loadStore' | 'pair' | 'fpLoadStore' | 'fpPair' | 'nop' | 'divide' | 'shiftVariable' | 'mulAddLong' | 'mulHigh' | 'extract'
  | 'addSubExtended' | 'addSubCarry' | 'condCompare' | 'dp1Source' | 'loadLiteral';

/** Translates the code at `entry`, or returns undefined if its first instruction is not translatable. */
export function translate(code: GuestCode, entry: number): Unit | undefined {
  return new Translator(code).unit(entry);
}

class Translator {
  readonly #code: GuestCode;
  readonly #op: Readonly<Record<string, number>>;
  readonly #f = new FunctionCode(2);
  // Locals (parameters 0 and 1: the PC the unit was entered for, and its budget, counted down as blocks start).
  readonly #x: number[];
  readonly #flags: number[];
  readonly #t: number[]; // i64 temporaries
  readonly #npc: number;
  readonly #budget: number; // the budget the unit was given
  readonly #label: number;
  readonly #used = new Set<number>(); // registers (0..30, SP) read or written: loaded on entry
  readonly #written = new Set<number>(); // registers written: stored at the exit
  #flagsUsed = false;
  #flagsWritten = false;
  #blocks: Block[] = [];
  readonly #continuations = new Set<number>();
  #index = new Map<number, number>(); // block start -> block number
  #entry = 0;
  #structure: Structure | undefined;

  constructor(code: GuestCode) {
    this.#code = code;
    this.#op = code.ops;
    const f = this.#f;
    this.#x = Array.from({ length: 33 }, () => f.local(I64));
    this.#flags = FLAG_SLOTS.map(() => f.local(I64));
    this.#t = Array.from({ length: 4 }, () => f.local(I64));
    this.#npc = f.local(I64);
    this.#budget = f.local(I32);
    this.#label = f.local(I32);
  }

  unit(entry: number): Unit | undefined {
    this.#entry = entry;
    this.#discover(entry);
    if (this.#blocks.length === 0) return undefined;
    const f = this.#f;
    // if (pc != entry) return 0: a decode cache entry can stand for the same word elsewhere
    f.get(0).i64(BigInt(entry)).op(W.i64Ne).open(W.if, 'wrong-pc').i32(0).op(W.return).close();
    const n = this.#blocks.length;
    this.#structure = this.#plan();
    const { dispatch, intervals } = this.#structure;
    f.i32(dispatch.indexOf(this.#index.get(entry)!)).set(this.#label);
    f.open(W.block, 'exit').open(W.loop, 'dispatch');
    // The intervals open at their start boundary (-1: before the br_table) and close at their end.
    const label = (v: Interval): string => `${v.kind}${v.target}`;
    const open = (at: number): void => {
      for (const v of intervals) if (v.start === at) f.open(v.kind === 'loop' ? W.loop : W.block, label(v));
    };
    const close = (at: number): void => {
      for (const v of [...intervals].reverse()) if (v.end === at) f.close();
    };
    open(-1);
    f.get(this.#label).brTable(dispatch.map((t) => `dispatch${t}`));
    for (let i = 0; i < n; i++) {
      close(i);
      open(i);
      this.#block(i);
    }
    close(n);
    f.close().close(); // dispatch, exit
    this.#epilogue();
    const body = f.bytes.splice(0);
    this.#prologue();
    f.bytes.push(...body);
    const ranges = this.#blocks.map((b) => [b.start, b.start + b.insns.length * 4] as const);
    const words = Uint32Array.from(this.#blocks.flatMap((b) => b.insns.map((insn) => insn.word)));
    const continuations = [...this.#continuations].filter((pc) => this.#inRam(pc));
    return { bytes: moduleWith(f, [I64, I32], [I32], 'unit', [STORE_COALESCED]), entry, ranges, words, instructions: words.length, continuations };
  }

  // ---- discovery ----

  #inRam(pc: number): boolean {
    return pc >= this.#code.ramBase && pc + 4 <= this.#code.ramBase + this.#code.ramSize;
  }

  #discover(entry: number): void {
    const work = [entry];
    const blocks = new Map<number, Block>();
    let total = 0;
    while (work.length > 0 && total < UNIT_LIMIT) {
      const start = work.shift()!;
      if (blocks.has(start) || !this.#inRam(start)) continue;
      const insns: Insn[] = [];
      let pc = start;
      let targets: number[] = [];
      while (insns.length < BLOCK_LIMIT && total + insns.length < UNIT_LIMIT && this.#inRam(pc)) {
        const word = this.#code.word(pc);
        const d = this.#code.decode(word);
        const kind = this.#kind(d, word, pc);
        if (kind === undefined) {
          this.#continuations.add(pc + 4); // the unit exits here: the interpreter runs it
          break;
        }
        insns.push({ pc, word, d });
        pc += 4;
        targets = this.#targets(kind, d, pc - 4);
        if (targets.length > 0 || kind === 'branchReg') break;
      }
      if (insns.length === 0) continue;
      blocks.set(start, { start, insns, next: pc });
      total += insns.length;
      work.push(...targets.filter((t) => this.#inRam(t)));
    }
    this.#blocks = [...blocks.values()].sort((a, b) => a.start - b.start);
    this.#blocks.forEach((b, i) => this.#index.set(b.start, i));
    if (!blocks.has(entry)) this.#blocks = [];
  }

  /** Direct branch targets of an instruction (the not-taken path of a conditional one too). */
  #targets(kind: Kind, d: Decoded, pc: number): number[] {
    const target = pc + Number(BigInt.asIntN(64, d.imm));
    if (kind === 'branchImm') return bit(this.#code.word(pc), 31) ? [target, pc + 4] : [target]; // BL: the return site too
    if (kind === 'compareBranch' || kind === 'testBranch' || kind === 'condBranch') return [target, pc + 4];
    return [];
  }

  #kind(d: Decoded, word: number, pc: number): Kind | undefined {
    const o = this.#op, op = d.op;
    const between = (a: string, b: string): boolean => op >= o[a]! && op <= o[b]!;
    if (between('ADD_W_IMM', 'SUBS_X_IMM')) return 'addSubImm';
    if (between('ADD_W_SHIFTED', 'SUBS_X_SHIFTED')) return 'addSubShifted';
    if (between('AND_W_IMM', 'ANDS_X_IMM')) return 'logicalImm';
    if (op === o.LOGICAL_SHIFTED) return 'logicalShifted';
    if (op === o.MOVE_WIDE) return 'moveWide';
    if (op === o.BITFIELD) return 'bitfield';
    if (op === o.PC_REL) return 'pcRel';
    if (op === o.COND_SELECT) return bit(word, 29) || bit(word, 11) ? undefined : 'condSelect';
    if (op === o.MUL_ADD) return 'mulAdd';
    if (op === o.BRANCH_IMM) return 'branchImm';
    if (op === o.COMPARE_BRANCH) return 'compareBranch';
    if (op === o.TEST_BRANCH) return 'testBranch';
    if (between('B_EQ', 'B_NV')) return 'condBranch';
    if (op === o.BRANCH_REG) {
      // BR, BLR, RET; the rest (ERET, UNDEFINED forms) is the interpreter's
      const opc = field(word, 21, 4);
      if (field(word, 16, 5) !== 31 || field(word, 10, 6) !== 0 || field(word, 0, 5) !== 0 || opc > 2) return undefined;
      return 'branchReg';
    }
    if (between('STRB_UIMM', 'LDR_X_IMM9')) return 'loadStore';
    if (between('STP_W', 'LDP_X') || op === o.LDST_PAIR) return 'pair';
    if (op === o.SYSTEM) return ((word & 0xffff_f01f) >>> 0) === 0xd503_201f && field(word, 5, 7) !== 3 ? 'nop' : undefined;
    if (op === o.DP_2SOURCE && !bit(word, 29)) {
      const opcode = field(word, 10, 6);
      if (opcode >> 1 === 1) return 'divide';
      if (opcode >> 2 === 2) return 'shiftVariable';
      return undefined;
    }
    if (op === o.MUL_ADD_LONG) return bit(word, 31) ? 'mulAddLong' : undefined;
    if (op === o.MUL_HIGH) return bit(word, 31) && !bit(word, 15) ? 'mulHigh' : undefined;
    if (op === o.EXTRACT) {
      const is64 = bit(word, 31), lsb = field(word, 10, 6);
      const bad = field(word, 29, 2) !== 0 || bit(word, 21) || field(word, 22, 1) !== Number(is64) || (!is64 && lsb >= 32);
      return bad ? undefined : 'extract';
    }
    if (op === o.ADD_SUB_EXTENDED) return field(word, 10, 3) > 4 || field(word, 22, 2) !== 0 ? undefined : 'addSubExtended';
    if (op === o.ADD_SUB_CARRY) return field(word, 10, 6) !== 0 ? undefined : 'addSubCarry';
    if (op === o.COND_COMPARE) return !bit(word, 29) || bit(word, 10) || bit(word, 4) ? undefined : 'condCompare';
    if (op === o.DP_1SOURCE) {
      const opcode = field(word, 10, 6);
      const bad = bit(word, 29) || field(word, 16, 5) !== 0 || opcode > 5 || (opcode === 3 && !bit(word, 31));
      return bad ? undefined : 'dp1Source';
    }
    if (op === o.LDST_FP_REGISTER) return fpRegisterForm(word) ? 'fpLoadStore' : undefined;
    if (op === o.LDST_FP_PAIR) return field(word, 30, 2) === 3 ? undefined : 'fpPair';
    if (op === o.LOAD_LITERAL) return this.#literalInRam(word, pc) ? 'loadLiteral' : undefined;
    return undefined;
  }

  /** LDR (literal): its address is a constant; translated when that lies in RAM, aligned (or PRFM). */
  #literalInRam(word: number, pc: number): boolean {
    const opc = field(word, 30, 2);
    if (opc === 3) return true;
    const size = opc === 1 ? 8 : 4;
    const addr = pc + literalOffset(word);
    return addr % size === 0 && addr >= this.#code.ramBase && addr + size <= this.#code.ramBase + this.#code.ramSize;
  }

  /** Whether the instruction sets the flags; whether it reads them; whether it may exit before its effects. */
  #flagUse(insn: Insn): { sets: boolean; reads: boolean; exits: boolean } {
    const kind = this.#kind(insn.d, insn.word, insn.pc)!, w = insn.word;
    let sets = false;
    if (kind === 'addSubImm' || kind === 'addSubShifted' || kind === 'addSubExtended' || kind === 'addSubCarry') sets = bit(w, 29);
    if (kind === 'logicalImm' || kind === 'logicalShifted') sets = field(w, 29, 2) === 3;
    if (kind === 'condCompare') sets = true;
    const reads = kind === 'condSelect' || kind === 'condBranch' || kind === 'addSubCarry' || kind === 'condCompare';
    const exits = kind === 'loadStore' || kind === 'pair' || kind === 'fpLoadStore' || kind === 'fpPair' || kind === 'branchReg';
    return { sets, reads, exits };
  }

  // ---- code generation ----

  #prologue(): void {
    const f = this.#f, base = this.#code.stateAddress;
    f.get(1).set(this.#budget);
    for (const r of this.#used) f.i32(0).memory(W.i64Load, base + r * 8).set(this.#x[r]!);
    if (this.#flagsUsed) FLAG_SLOTS.forEach((s, i) => f.i32(0).memory(W.i64Load, base + s * 8).set(this.#flags[i]!));
  }

  #epilogue(): void {
    const f = this.#f, base = this.#code.stateAddress;
    for (const r of this.#written) f.i32(0).get(this.#x[r]!).memory(W.i64Store, base + r * 8);
    if (this.#flagsWritten) FLAG_SLOTS.forEach((s, i) => f.i32(0).get(this.#flags[i]!).memory(W.i64Store, base + s * 8));
    f.i32(0).get(this.#npc).memory(W.i64Store, base + PC_SLOT * 8);
    f.get(this.#budget).get(1).op(W.i32Sub); // instructions retired
  }

  /**
   * The unit's control structure (structure.ts): its branches between blocks, the dispatch reaching
   * the entry and the return sites. Should the rules ever leave intervals that cross, every block
   * goes through the dispatch.
   */
  #plan(): Structure {
    const edges: [number, number][] = [];
    this.#blocks.forEach((b, i) => {
      const last = b.insns[b.insns.length - 1]!, kind = this.#kind(last.d, last.word, last.pc)!;
      const target = last.pc + Number(BigInt.asIntN(64, last.d.imm));
      const next = kind === 'branchImm' ? [target] : kind === 'branchReg' ? [] : this.#targets(kind, last.d, last.pc).length > 0 ? [target, last.pc + 4] : [b.next];
      for (const pc of next) {
        const j = this.#index.get(pc);
        if (j !== undefined) edges.push([i, j]);
      }
    });
    const entries = [this.#index.get(this.#entry)!, ...this.#returnSites().map((pc) => this.#index.get(pc)!)];
    try {
      return structure(edges, entries);
    } catch {
      return structure([], this.#blocks.map((_, i) => i));
    }
  }

  #block(i: number): void {
    const f = this.#f, b = this.#blocks[i]!, len = b.insns.length;
    // The whole block must fit in the budget, else the unit exits here.
    f.get(1).i32(len).op(W.i32LtU)
      .open(W.if, 'budget').i64(BigInt(b.start)).set(this.#npc).br('exit').close();
    f.get(1).i32(len).op(W.i32Sub).set(1);
    // Flags an instruction sets that nothing reads before the next setter are not computed.
    const live: boolean[] = new Array<boolean>(len);
    let needed = true;
    for (let k = len - 1; k >= 0; k--) {
      const u = this.#flagUse(b.insns[k]!);
      if (u.sets) {
        live[k] = needed;
        needed = u.reads || u.exits;
      } else {
        live[k] = false;
        needed = needed || u.reads || u.exits;
      }
    }
    let ended = false;
    b.insns.forEach((insn, k) => {
      ended = this.#insn(insn, k, len, i, live[k]!);
    });
    if (!ended) this.#goto(b.next, i, true);
  }

  /** Leaves the unit before instruction k of a block of `len`: it and those after it did not retire. */
  #sideExit(insn: Insn, k: number, len: number): void {
    const f = this.#f;
    f.get(1).i32(len - k).op(W.i32Add).set(1);
    f.i64(BigInt(insn.pc)).set(this.#npc).br('exit');
  }

  /** Continues at `target` from block i; `atEnd`: nothing of block i's code follows. */
  #goto(target: number, i: number, atEnd: boolean): void {
    const f = this.#f, j = this.#index.get(target), { dispatch, loopEnd, blockStart } = this.#structure!;
    if (j === undefined) {
      f.i64(BigInt(target)).set(this.#npc).br('exit');
    } else if (atEnd && j === i + 1) {
      // falls through into the next block's code
    } else if (j <= i && (loopEnd.get(j) ?? 0) > i) {
      f.br(`loop${j}`);
    } else if (j > i && (blockStart.get(j) ?? i + 1) <= i) {
      f.br(`block${j}`);
    } else if (j > i && dispatch.includes(j)) {
      f.br(`dispatch${j}`); // the end of the dispatch's block for j
    } else {
      if (!dispatch.includes(j)) throw new Error(`translate: no way from block ${i} to block ${j}`);
      f.i32(dispatch.indexOf(j)).set(this.#label).br('dispatch');
    }
  }

  #read(r: number): void {
    if (r === XZR || r < 0) {
      this.#f.i64(0n);
      return;
    }
    this.#used.add(r);
    this.#f.get(this.#x[r]!);
  }

  /** Pops the value on the stack into register r (-1 or XZR: dropped). */
  #write(r: number): void {
    if (r === XZR || r < 0) {
      this.#f.op(W.drop);
      return;
    }
    this.#used.add(r);
    this.#written.add(r);
    this.#f.set(this.#x[r]!);
  }

  /** A W result: the value on the stack zero-extended from 32 bits (when !is64). */
  #sized(is64: boolean): void {
    if (!is64) this.#f.i64(M32).op(W.i64And);
  }

  #useFlags(): void {
    this.#flagsUsed = true;
  }

  /**
   * Sets the flags from the result (for N, and Z unless `z` gives it), C (0/1) and a value whose
   * sign is V (flags.ts writeFlags, setNzcv).
   */
  #setFlags(result: () => void, c: () => void, v: () => void, z?: bigint): void {
    const [n, zf, cf, vf] = this.#flags as [number, number, number, number];
    this.#useFlags();
    this.#flagsWritten = true;
    result();
    if (z === undefined) this.#f.tee(n).set(zf);
    else this.#f.set(n).i64(z).set(zf);
    c();
    this.#f.set(cf);
    v();
    this.#f.set(vf);
  }

  /** ConditionHolds(cond) as an i32 (flags.ts condition). */
  #condition(cond: number): void {
    const f = this.#f;
    const [n, z, c, v] = this.#flags as [number, number, number, number];
    this.#useFlags();
    switch (cond >> 1) {
      case 0: f.get(z).op(W.i64Eqz); break;
      case 1: f.get(c).op(W.i32WrapI64); break;
      case 2: f.get(n).i64(0n).op(W.i64LtS); break;
      case 3: f.get(v).i64(0n).op(W.i64LtS); break;
      case 4: f.get(c).op(W.i32WrapI64).get(z).i64(0n).op(W.i64Ne, W.i32And); break;
      case 5: f.get(n).get(v).op(W.i64Xor).i64(0n).op(W.i64GeS); break;
      case 6: f.get(z).i64(0n).op(W.i64Ne).get(n).get(v).op(W.i64Xor).i64(0n).op(W.i64GeS, W.i32And); break;
      default: f.i32(1); return; // AL, NV
    }
    if (cond & 1) f.op(W.i32Eqz);
  }

  /** Pushes ShiftReg(value in local `src`, type, amount) at 64 or 32 bits (alu.ts shiftReg). */
  #shift(src: number, type: number, amount: number, is64: boolean): void {
    const f = this.#f;
    if (is64) {
      f.get(src).i64(BigInt(amount)).op([W.i64Shl, W.i64ShrU, W.i64ShrS, W.i64Rotr][type]!);
      return;
    }
    f.get(src).op(W.i32WrapI64).i32(amount).op([W.i32Shl, W.i32ShrU, W.i32ShrS, W.i32Rotr][type]!).op(W.i64ExtendI32U);
  }

  /**
   * x + y or x - y (locals), to register rd, setting the flags when `setFlags` and they are live
   * (alu.ts addSub and addWithCarry with carry 0).
   */
  #addSub(x: number, y: number, sub: boolean, is64: boolean, setFlags: boolean, rd: number): void {
    const f = this.#f, r = this.#t[2]!, s = this.#t[3]!;
    if (!is64) {
      f.get(x).i64(M32).op(W.i64And).set(x);
      f.get(y).i64(M32).op(W.i64And).set(y);
    }
    f.get(x).get(y).op(sub ? W.i64Sub : W.i64Add).set(s); // W: 33 bits, bit 32 the carry out of an add
    this.#sumTo(rd, is64, setFlags,
      () => {
        if (sub) f.get(x).get(y).op(W.i64GeU, W.i64ExtendI32U);
        else if (is64) f.get(r).get(x).op(W.i64LtU, W.i64ExtendI32U);
        else f.get(s).i64(32n).op(W.i64ShrU);
      },
      () => {
        if (sub) f.get(x).get(y).op(W.i64Xor).get(x).get(r).op(W.i64Xor, W.i64And);
        else f.get(x).get(r).op(W.i64Xor).get(y).get(r).op(W.i64Xor, W.i64And);
      },
    );
  }

  /**
   * The end of an addition or subtraction whose untruncated sum the caller left in local t[3]: the
   * sum at the operation's size to local t[2] and register rd, and, when `setFlags`, the flags: C
   * from `carry` (0 or 1), V from the top bit (of the operation's size) of what `overflow` leaves.
   */
  #sumTo(rd: number, is64: boolean, setFlags: boolean, carry: () => void, overflow: () => void): void {
    const f = this.#f, r = this.#t[2]!, s = this.#t[3]!;
    f.get(s);
    this.#sized(is64);
    f.set(r);
    if (setFlags) {
      const top = (): void => {
        if (!is64) f.i64(32n).op(W.i64Shl);
      };
      this.#setFlags(
        () => {
          f.get(r);
          top();
        },
        carry,
        () => {
          overflow();
          top();
        },
      );
    }
    f.get(r);
    this.#write(rd);
  }

  /** AND, ORR, EOR or ANDS (opc 0–3) of the two values on the stack into xd; ANDS/BICS set the flags. */
  #logical(opc: number, is64: boolean, flagsLive: boolean, xd: number): void {
    const f = this.#f, r = this.#t[2]!;
    f.op([W.i64And, W.i64Or, W.i64Xor, W.i64And][opc]!);
    this.#sized(is64);
    f.set(r);
    if (opc === 3 && flagsLive) {
      this.#setFlags(
        () => {
          f.get(r);
          if (!is64) f.i64(32n).op(W.i64Shl);
        },
        () => f.i64(0n),
        () => f.i64(0n),
      );
    }
    f.get(r);
    this.#write(xd);
  }

  /** Emits one instruction (number k of block i, of `len`); true if it ended the block's code. */
  #insn(insn: Insn, k: number, len: number, i: number, flagsLive: boolean): boolean {
    const f = this.#f, { d, word: w, pc } = insn;
    const o = this.#op;
    const is64 = bit(w, 31);
    const [t0, t1, t2] = this.#t as [number, number, number, number];
    switch (this.#kind(d, w, pc)!) {
      case 'nop':
        return false;
      case 'addSubImm': {
        const rel = d.op - o.ADD_W_IMM!; // sf:op:S
        this.#read(d.xn);
        f.set(t0).i64(d.imm).set(t1);
        this.#addSub(t0, t1, (rel & 2) !== 0, (rel & 4) !== 0, (rel & 1) !== 0 && flagsLive, d.xd);
        return false;
      }
      case 'addSubShifted': {
        const rel = d.op - o.ADD_W_SHIFTED!;
        const type = field(w, 22, 2), amount = field(w, 10, 6), x64 = (rel & 4) !== 0;
        this.#read(d.xm);
        f.set(t1);
        if (amount !== 0) {
          this.#shift(t1, type, amount, x64);
          f.set(t1);
        }
        this.#read(d.xn);
        f.set(t0);
        this.#addSub(t0, t1, (rel & 2) !== 0, x64, (rel & 1) !== 0 && flagsLive, d.xd);
        return false;
      }
      case 'logicalImm': {
        const rel = d.op - o.AND_W_IMM!, opc = rel & 3, x64 = (rel & 4) !== 0;
        this.#read(d.xn);
        f.i64(d.imm);
        this.#logical(opc, x64, flagsLive, d.xd);
        return false;
      }
      case 'logicalShifted': {
        const opc = field(w, 29, 2);
        this.#read(d.xm);
        f.set(t1);
        this.#shift(t1, field(w, 22, 2), field(w, 10, 6), is64);
        if (bit(w, 21)) f.i64(-1n).op(W.i64Xor);
        f.set(t1);
        this.#read(d.xn);
        f.get(t1);
        this.#logical(opc, is64, flagsLive, d.xd);
        return false;
      }
      case 'moveWide': {
        const opc = field(w, 29, 2);
        if (opc === 0) f.i64(~d.imm);
        else if (opc === 2) f.i64(d.imm);
        else {
          this.#read(d.xt);
          f.i64(~(0xffffn << BigInt(field(w, 21, 2) * 16))).op(W.i64And).i64(d.imm).op(W.i64Or);
        }
        this.#sized(is64);
        this.#write(d.xd);
        return false;
      }
      case 'bitfield': {
        // dp-imm.ts bitfield: wmask = imm, tmask = imm2
        const opc = field(w, 29, 2), immr = field(w, 16, 6), imms = field(w, 10, 6);
        const wmask = d.imm, tmask = d.imm2;
        this.#read(d.xn);
        f.set(t0); // src
        if (opc === 1) this.#read(d.xt);
        else f.i64(0n);
        f.set(t1); // dst
        // bot = (dst & ~wmask) | (rotated & wmask)
        f.get(t1).i64(~wmask).op(W.i64And);
        if (is64) f.get(t0).i64(BigInt(immr)).op(W.i64Rotr);
        else f.get(t0).op(W.i32WrapI64).i32(immr).op(W.i32Rotr, W.i64ExtendI32U);
        f.i64(wmask).op(W.i64And, W.i64Or).set(t2);
        // top = SBFM: 0 - src<imms>; else dst
        if (opc === 0) f.i64(0n).get(t0).i64(BigInt(imms)).op(W.i64ShrU).i64(1n).op(W.i64And, W.i64Sub);
        else f.get(t1);
        f.i64(~tmask).op(W.i64And).get(t2).i64(tmask).op(W.i64And, W.i64Or);
        this.#sized(is64);
        this.#write(d.xd);
        return false;
      }
      case 'pcRel':
        f.i64(BigInt(is64 ? pc - (pc % 4096) : pc) + d.imm);
        this.#write(d.xd);
        return false;
      case 'condSelect': {
        // r = cond ? Rn : (op ? ~Rm : Rm) + o2
        this.#read(d.xn);
        this.#read(d.xm);
        if (bit(w, 30)) f.i64(-1n).op(W.i64Xor);
        if (bit(w, 10)) f.i64(1n).op(W.i64Add);
        this.#condition(field(w, 12, 4));
        f.op(W.select);
        this.#sized(is64);
        this.#write(d.xd);
        return false;
      }
      case 'mulAdd': {
        this.#read(field(w, 10, 5)); // Ra: register 31 is XZR
        this.#read(d.xn);
        this.#read(d.xm);
        f.op(W.i64Mul, bit(w, 15) ? W.i64Sub : W.i64Add);
        this.#sized(is64);
        this.#write(d.xd);
        return false;
      }
      case 'mulAddLong': {
        // Xd = Xa +/- Wn * Wm, signed unless U = insn[23]
        const ext = bit(w, 23) ? W.i64ExtendI32U : W.i64ExtendI32S;
        this.#read(field(w, 10, 5));
        this.#read(field(w, 5, 5));
        f.op(W.i32WrapI64, ext);
        this.#read(field(w, 16, 5));
        f.op(W.i32WrapI64, ext, W.i64Mul, bit(w, 15) ? W.i64Sub : W.i64Add);
        this.#write(field(w, 0, 5));
        return false;
      }
      case 'mulHigh':
        this.#mulHigh(field(w, 5, 5), field(w, 16, 5), !bit(w, 23), field(w, 0, 5));
        return false;
      case 'divide': {
        // x / 0 = 0; INT_MIN / -1 wraps (dp-reg.ts divide)
        const signed = bit(w, 10);
        this.#read(field(w, 5, 5));
        f.set(t0);
        this.#read(field(w, 16, 5));
        f.set(t1);
        if (!is64) {
          const ext = signed ? W.i64ExtendI32S : W.i64ExtendI32U;
          f.get(t0).op(W.i32WrapI64, ext).set(t0).get(t1).op(W.i32WrapI64, ext).set(t1);
        }
        f.get(t1).op(W.i64Eqz).open(W.if, 'zero').i64(0n).set(t2).else();
        if (signed) {
          f.get(t1).i64(-1n).op(W.i64Eq).open(W.if, 'minus1').i64(0n).get(t0).op(W.i64Sub).set(t2).else();
          f.get(t0).get(t1).op(W.i64DivS).set(t2).close();
        } else {
          f.get(t0).get(t1).op(W.i64DivU).set(t2);
        }
        f.close().get(t2);
        this.#sized(is64);
        this.#write(field(w, 0, 5));
        return false;
      }
      case 'shiftVariable': {
        // the amount is Rm modulo the register size
        const type = field(w, 10, 2);
        this.#read(field(w, 5, 5));
        if (is64) {
          this.#read(field(w, 16, 5));
          f.op([W.i64Shl, W.i64ShrU, W.i64ShrS, W.i64Rotr][type]!);
        } else {
          f.op(W.i32WrapI64);
          this.#read(field(w, 16, 5));
          f.op(W.i32WrapI64).i32(31).op(W.i32And, [W.i32Shl, W.i32ShrU, W.i32ShrS, W.i32Rotr][type]!, W.i64ExtendI32U);
        }
        this.#write(field(w, 0, 5));
        return false;
      }
      case 'extract': {
        // EXTR: (Rn:Rm) >> lsb (dp-imm.ts extract)
        const lsb = field(w, 10, 6);
        if (lsb === 0) this.#read(field(w, 16, 5));
        else if (is64) {
          this.#read(field(w, 16, 5));
          f.i64(BigInt(lsb)).op(W.i64ShrU);
          this.#read(field(w, 5, 5));
          f.i64(BigInt(64 - lsb)).op(W.i64Shl, W.i64Or);
        } else {
          this.#read(field(w, 16, 5));
          f.i64(M32).op(W.i64And).i64(BigInt(lsb)).op(W.i64ShrU);
          this.#read(field(w, 5, 5));
          f.i64(BigInt(32 - lsb)).op(W.i64Shl, W.i64Or);
        }
        this.#sized(is64);
        this.#write(field(w, 0, 5));
        return false;
      }
      case 'addSubExtended': {
        // Rm extended (option = insn[15:13]) and shifted; Rn is SP for 31, and Rd too unless S
        const option = field(w, 13, 3), setFlags = bit(w, 29);
        this.#read(field(w, 16, 5));
        if ((option & 3) === 1) f.i64(0xffffn).op(W.i64And);
        else if ((option & 3) === 0) f.i64(0xffn).op(W.i64And);
        else if ((option & 3) === 2) f.op(W.i32WrapI64, W.i64ExtendI32U);
        if (option & 4) {
          if ((option & 3) === 0) f.i64(56n).op(W.i64Shl).i64(56n).op(W.i64ShrS);
          else if ((option & 3) === 1) f.i64(48n).op(W.i64Shl).i64(48n).op(W.i64ShrS);
          else if ((option & 3) === 2) f.op(W.i32WrapI64, W.i64ExtendI32S);
        }
        f.i64(BigInt(field(w, 10, 3))).op(W.i64Shl).set(t1);
        const rn = field(w, 5, 5), rd = field(w, 0, 5);
        this.#read(rn === 31 ? 32 : rn);
        f.set(t0);
        this.#addSub(t0, t1, bit(w, 30), is64, setFlags && flagsLive, setFlags ? rd : rd === 31 ? 32 : rd);
        return false;
      }
      case 'addSubCarry':
        this.#addWithCarry(field(w, 5, 5), field(w, 16, 5), bit(w, 30), is64, bit(w, 29) && flagsLive, field(w, 0, 5));
        return false;
      case 'condCompare': {
        // if cond: flags of Rn +/- (Rm or imm5) (CCMN, CCMP); else NZCV = #nzcv
        this.#condition(field(w, 12, 4));
        f.open(W.if, 'holds');
        this.#read(field(w, 5, 5));
        f.set(t0);
        if (bit(w, 11)) f.i64(BigInt(field(w, 16, 5)));
        else this.#read(field(w, 16, 5));
        f.set(t1);
        this.#addSub(t0, t1, bit(w, 30), is64, true, -1);
        f.else();
        const nzcv = BigInt(w & 15);
        this.#setFlags(() => f.i64(nzcv << 60n), () => f.i64((nzcv >> 1n) & 1n), () => f.i64(nzcv << 63n), (~nzcv >> 2n) & 1n);
        f.close();
        return false;
      }
      case 'dp1Source':
        this.#dataProcessing1Source(field(w, 10, 6), is64, field(w, 5, 5), field(w, 0, 5));
        return false;
      case 'loadLiteral': {
        const opc = field(w, 30, 2);
        if (opc === 3) return false; // PRFM
        const off = pc + literalOffset(w) - this.#code.ramBase;
        f.i32(0).memory(opc === 0 ? W.i64Load32U : opc === 1 ? W.i64Load : W.i64Load32S, this.#code.ramAddress + off);
        this.#write(d.xd);
        return false;
      }
      case 'branchImm':
        if (is64) {
          f.i64(BigInt(pc + 4));
          this.#write(30);
        }
        this.#goto(pc + Number(BigInt.asIntN(64, d.imm)), i, true);
        return true;
      case 'compareBranch':
      case 'testBranch':
      case 'condBranch': {
        const kind = this.#kind(d, w, pc);
        if (kind === 'condBranch') this.#condition(d.op - o.B_EQ!);
        else {
          this.#read(d.xt);
          if (kind === 'compareBranch') this.#sized(is64);
          else f.i64(BigInt((field(w, 31, 1) << 5) | field(w, 19, 5))).op(W.i64ShrU).i64(1n).op(W.i64And);
          f.op(W.i64Eqz); // "is zero"
          if (bit(w, 24)) f.op(W.i32Eqz); // CBNZ, TBNZ
        }
        f.open(W.if, 'taken');
        this.#goto(pc + Number(BigInt.asIntN(64, d.imm)), i, false);
        f.close();
        this.#goto(pc + 4, i, true);
        return true;
      }
      case 'branchReg': {
        // BR, BLR, RET: a misaligned target faults in the interpreter (before BLR links)
        this.#read(field(w, 5, 5));
        f.tee(t0).i64(3n).op(W.i64And, W.i64Eqz, W.i32Eqz).open(W.if, 'misaligned');
        this.#sideExit(insn, k, len);
        f.close();
        if (field(w, 21, 4) === 1) {
          f.i64(BigInt(pc + 4));
          this.#write(30);
        }
        // A return to a call site of this unit stays in it (recursion, calls in a loop).
        for (const site of this.#returnSites()) {
          f.get(t0).i64(BigInt(site)).op(W.i64Eq).open(W.if, 'return-site');
          this.#goto(site, i, false);
          f.close();
        }
        f.get(t0).set(this.#npc).br('exit');
        return true;
      }
      case 'loadStore':
        this.#loadStore(insn, k, len);
        return false;
      case 'pair':
        this.#pair(insn, k, len);
        return false;
      case 'fpLoadStore':
        this.#fpLoadStore(insn, k, len);
        return false;
      case 'fpPair':
        this.#fpPair(insn, k, len);
        return false;
    }
  }

  /** ADC, ADCS, SBC, SBCS: Rn + (Rm or NOT Rm) + C (alu.ts addWithCarry). */
  #addWithCarry(rn: number, rm: number, invert: boolean, is64: boolean, setFlags: boolean, rd: number): void {
    const f = this.#f, [x, y, r, s] = this.#t as [number, number, number, number];
    const carry = this.#flags[2]!;
    this.#useFlags();
    this.#read(rn);
    if (!is64) f.i64(M32).op(W.i64And);
    f.set(x);
    this.#read(rm);
    if (invert) f.i64(-1n).op(W.i64Xor);
    if (!is64) f.i64(M32).op(W.i64And);
    f.set(y);
    f.get(x).get(y).op(W.i64Add).get(carry).op(W.i64Add).set(s);
    this.#sumTo(rd, is64, setFlags,
      () => {
        // 64 bits: the sum wrapped below x, or reached it exactly with a carry in; 32: bit 32
        if (is64) f.get(r).get(x).op(W.i64LeU).get(r).get(x).op(W.i64LtU).get(carry).op(W.i64Eqz, W.i32Eqz, W.select, W.i64ExtendI32U);
        else f.get(s).i64(32n).op(W.i64ShrU);
      },
      () => void f.get(x).get(r).op(W.i64Xor).get(y).get(r).op(W.i64Xor, W.i64And),
    );
  }

  /** RBIT, REV16, REV32/REV, REV, CLZ, CLS (dp-reg.ts dataProcessing1Source), by opcode. */
  #dataProcessing1Source(opcode: number, is64: boolean, rn: number, rd: number): void {
    const f = this.#f, x = this.#t[0]!;
    this.#read(rn);
    if (!is64) f.i64(M32).op(W.i64And);
    f.set(x);
    // ((x >> s) & m) | ((x & m) << s): swaps the groups of s bits that m selects with their neighbours
    const swap = (shift: bigint, mask: bigint): void => {
      f.get(x).i64(shift).op(W.i64ShrU).i64(mask).op(W.i64And).get(x).i64(mask).op(W.i64And).i64(shift).op(W.i64Shl, W.i64Or).set(x);
    };
    const bytesInHalves = (): void => swap(8n, 0x00ff_00ff_00ff_00ffn);
    const halvesInWords = (): void => swap(16n, 0x0000_ffff_0000_ffffn);
    switch (opcode) {
      case 0: // RBIT: bits in bytes, then the bytes reversed
        swap(1n, 0x5555_5555_5555_5555n);
        swap(2n, 0x3333_3333_3333_3333n);
        swap(4n, 0x0f0f_0f0f_0f0f_0f0fn);
        bytesInHalves();
        halvesInWords();
        f.get(x).i64(32n).op(W.i64Rotr);
        if (!is64) f.i64(32n).op(W.i64ShrU);
        break;
      case 1:
        bytesInHalves();
        f.get(x);
        break;
      case 2: // REV32 (X), REV (W): the bytes of each word reversed
        bytesInHalves();
        halvesInWords();
        f.get(x);
        break;
      case 3: // REV (X)
        bytesInHalves();
        halvesInWords();
        f.get(x).i64(32n).op(W.i64Rotr);
        break;
      case 4: // CLZ
        f.get(x).op(W.i64Clz);
        if (!is64) f.i64(32n).op(W.i64Sub);
        break;
      default: // CLS: leading bits equal to the sign bit, not counting it
        if (is64) f.get(x).get(x).i64(63n).op(W.i64ShrS, W.i64Xor, W.i64Clz).i64(1n).op(W.i64Sub);
        else f.get(x).op(W.i32WrapI64).get(x).op(W.i32WrapI64).i32(31).op(W.i32ShrS, W.i32Xor, W.i32Clz, W.i64ExtendI32U).i64(1n).op(W.i64Sub);
    }
    this.#sized(is64);
    this.#write(rd);
  }

  /** Blocks that start after a BL of this unit (at most 8, the first in address order). */
  #returnSites(): number[] {
    const sites: number[] = [];
    for (const b of this.#blocks) {
      const last = b.insns[b.insns.length - 1]!;
      if (last.d.op === this.#op.BRANCH_IMM && bit(last.word, 31) && this.#index.has(last.pc + 4)) sites.push(last.pc + 4);
    }
    return sites.slice(0, 8);
  }

  /** SMULH/UMULH: the high 64 bits of the 128-bit product (alu.ts umulh, smulh), by 32-bit halves. */
  #mulHigh(rn: number, rm: number, signed: boolean, rd: number): void {
    const f = this.#f;
    const [a, b, lh, hl] = this.#t as [number, number, number, number];
    const mid = this.#npc; // free until an exit sets it
    this.#read(rn);
    f.set(a);
    this.#read(rm);
    f.set(b);
    const lo = (v: number): void => void f.get(v).i64(M32).op(W.i64And);
    const hi = (v: number): void => void f.get(v).i64(32n).op(W.i64ShrU);
    lo(a); hi(b); f.op(W.i64Mul).set(lh);
    hi(a); lo(b); f.op(W.i64Mul).set(hl);
    lo(a); lo(b); f.op(W.i64Mul).i64(32n).op(W.i64ShrU);
    lo(lh); f.op(W.i64Add);
    lo(hl); f.op(W.i64Add).set(mid);
    hi(a); hi(b); f.op(W.i64Mul);
    hi(lh); f.op(W.i64Add);
    hi(hl); f.op(W.i64Add);
    hi(mid); f.op(W.i64Add);
    if (signed) {
      // minus b if a < 0, minus a if b < 0
      f.get(b).i64(0n).get(a).i64(0n).op(W.i64LtS, W.select, W.i64Sub);
      f.get(a).i64(0n).get(b).i64(0n).op(W.i64LtS, W.select, W.i64Sub);
    }
    this.#write(rd);
  }

  /**
   * Pushes nothing; leaves in t0 the RAM offset of an access of `count` x 2^sizeLog2 bytes at the
   * address on the stack, after exiting before instruction k unless it lies wholly in RAM, aligned or
   * (MMU on, SCTLR.A clear) in Normal RAM, where unaligned accesses complete (memory.ts inRamAt,
   * unalignedInRam), and (a store) in no translated code's granule. `outside` is emitted first where
   * it does not: a store's chance to be coalesced.
   */
  #ramOffset(insn: Insn, k: number, len: number, sizeLog2: number, count: number, store: boolean, outside?: () => void): void {
    const f = this.#f, t0 = this.#t[0]!, code = this.#code, bytes = count * 2 ** sizeLog2;
    f.i64(BigInt(code.ramBase)).op(W.i64Sub).tee(t0);
    f.i64(BigInt(sizeLog2)).op(W.i64Rotr).i64(BigInt(code.ramSize / 2 ** sizeLog2 - (count - 1))).op(W.i64GeU);
    const granule = (extra: number): void => {
      f.get(t0).op(W.i32WrapI64);
      if (extra) f.i32(extra).op(W.i32Add);
      f.i32(code.granuleLog2).op(W.i32ShrU).memory(W.i32Load8U, code.codeMapAddress);
    };
    f.open(W.if, 'unaligned-or-outside');
    f.get(t0).i64(BigInt(code.ramSize - bytes)).op(W.i64GtU);
    f.i32(0).memory(W.i64Load, code.stateAddress + SCTLR_SLOT * 8).i64(3n).op(W.i64And).i64(1n).op(W.i64Ne, W.i32Or); // M set, A clear
    f.open(W.if, 'outside');
    outside?.();
    this.#sideExit(insn, k, len);
    f.close();
    if (store) {
      granule(bytes - 1); // in RAM, unaligned: it may end in the next granule
      f.open(W.if, 'code');
      this.#sideExit(insn, k, len);
      f.close();
    }
    f.close();
    if (!store) return;
    // aligned, it lies in one granule (they are larger than 16 bytes), a pair in at most two
    granule(0);
    if (count === 2) {
      granule(bytes - 1);
      f.op(W.i32Or);
    }
    f.open(W.if, 'code');
    this.#sideExit(insn, k, len);
    f.close();
  }

  /** Exits before instruction k if SIMD&FP instructions trap (CPACR_EL1.FPEN, sysregs.ts fpTrapped). */
  #fpTrapExit(insn: Insn, k: number, len: number): void {
    const f = this.#f;
    f.i32(0).memory(W.i64Load, this.#code.stateAddress + CPACR_SLOT * 8).i64(1n << 20n).op(W.i64And, W.i64Eqz);
    f.open(W.if, 'fp-trapped');
    this.#sideExit(insn, k, len);
    f.close();
  }

  /** Register vt = the 2^sizeLog2 bytes at RAM offset t0 + extra, the rest zeroed (fp-loadstore.ts loadV). */
  #loadV(sizeLog2: number, t: number, extra: number): void {
    const f = this.#f, v = this.#code.stateAddress + (V0_SLOT + 2 * t) * 8, ram = this.#code.ramAddress + extra;
    f.i32(0).get(this.#t[0]!).op(W.i32WrapI64);
    f.memory([W.i64Load8U, W.i64Load16U, W.i64Load32U, W.i64Load, W.i64Load][sizeLog2]!, ram).memory(W.i64Store, v);
    f.i32(0);
    if (sizeLog2 === 4) f.get(this.#t[0]!).op(W.i32WrapI64).memory(W.i64Load, ram + 8);
    else f.i64(0n);
    f.memory(W.i64Store, v + 8);
  }

  /** The low 2^sizeLog2 bytes of register vt to RAM offset t0 + extra (fp-loadstore.ts storeV). */
  #storeV(sizeLog2: number, t: number, extra: number): void {
    const f = this.#f, v = this.#code.stateAddress + (V0_SLOT + 2 * t) * 8, ram = this.#code.ramAddress + extra;
    f.get(this.#t[0]!).op(W.i32WrapI64).i32(0).memory(W.i64Load, v);
    f.memory([W.i64Store8, W.i64Store16, W.i64Store32, W.i64Store, W.i64Store][sizeLog2]!, ram);
    if (sizeLog2 === 4) f.get(this.#t[0]!).op(W.i32WrapI64).i32(0).memory(W.i64Load, v + 8).memory(W.i64Store, ram + 8);
  }

  /** LDR/STR (SIMD&FP): unsigned immediate, register offset, imm9 forms (fp-loadstore.ts loadStoreFpRegister). */
  #fpLoadStore(insn: Insn, k: number, len: number): void {
    const f = this.#f, w = insn.word, t1 = this.#t[1]!;
    const opc = field(w, 22, 2), isLoad = (opc & 1) !== 0, sizeLog2 = opc >= 2 ? 4 : field(w, 30, 2);
    const rn = field(w, 5, 5), base = rn === 31 ? 32 : rn;
    this.#fpTrapExit(insn, k, len);
    this.#read(base);
    let writeback = false;
    if (bit(w, 24)) f.i64(BigInt(field(w, 10, 12) * 2 ** sizeLog2)).op(W.i64Add);
    else if (bit(w, 21)) {
      const option = field(w, 13, 3);
      this.#read(field(w, 16, 5));
      if ((option & 3) === 2) f.op(W.i32WrapI64, option & 4 ? W.i64ExtendI32S : W.i64ExtendI32U); // UXTW, SXTW
      if (bit(w, 12) && sizeLog2 > 0) f.i64(BigInt(sizeLog2)).op(W.i64Shl);
      f.op(W.i64Add);
    } else {
      const form = field(w, 10, 2), imm9 = BigInt((w << 11) >> 23);
      f.i64(imm9).op(W.i64Add).set(t1); // the updated base
      if (form === 1) this.#read(base);
      else f.get(t1);
      writeback = form !== 0;
    }
    this.#ramOffset(insn, k, len, sizeLog2, 1, !isLoad);
    if (isLoad) this.#loadV(sizeLog2, field(w, 0, 5), 0);
    else this.#storeV(sizeLog2, field(w, 0, 5), 0);
    if (writeback) {
      f.get(t1);
      this.#write(base);
    }
  }

  /** LDP/STP/LDNP/STNP (SIMD&FP) of s, d, q, every index form (fp-loadstore.ts loadStoreFpPair). */
  #fpPair(insn: Insn, k: number, len: number): void {
    const f = this.#f, w = insn.word, t1 = this.#t[1]!;
    const sizeLog2 = field(w, 30, 2) + 2, isLoad = bit(w, 22), index = field(w, 23, 2);
    const rn = field(w, 5, 5), base = rn === 31 ? 32 : rn, rt = field(w, 0, 5), rt2 = field(w, 10, 5), second = 2 ** sizeLog2;
    this.#fpTrapExit(insn, k, len);
    this.#read(base);
    f.i64(BigInt((w << 10) >> 25) << BigInt(sizeLog2)).op(W.i64Add).set(t1); // the updated base
    if (index === 1) this.#read(base);
    else f.get(t1);
    this.#ramOffset(insn, k, len, sizeLog2, 2, !isLoad);
    if (isLoad) {
      this.#loadV(sizeLog2, rt, 0);
      this.#loadV(sizeLog2, rt2, second);
    } else {
      this.#storeV(sizeLog2, rt, 0);
      this.#storeV(sizeLog2, rt2, second);
    }
    if (index & 1) {
      f.get(t1);
      this.#write(base);
    }
  }

  /** Loads (opc 1 zero-extend, 2 sign-extend to 64, 3 to 32) the value at RAM offset t0 + extra. */
  #load(sizeLog2: number, opc: number, extra: number): void {
    const f = this.#f, ram = this.#code.ramAddress + extra;
    f.get(this.#t[0]!).op(W.i32WrapI64);
    const ops = opc === 1
      ? [W.i64Load8U, W.i64Load16U, W.i64Load32U, W.i64Load]
      : [W.i64Load8S, W.i64Load16S, W.i64Load32S, W.i64Load];
    f.memory(ops[sizeLog2]!, ram);
    if (opc === 3) f.i64(M32).op(W.i64And);
  }

  /** Offers the store of register xt at RAM offset t0 to the coalesced ring: taken, on past 'stored'. */
  #storeCoalesced(sizeLog2: number, xt: number): void {
    const f = this.#f;
    f.get(this.#t[0]!).i64(BigInt(this.#code.ramBase)).op(W.i64Add).i32(sizeLog2);
    this.#read(xt);
    f.call(0).brIf('stored');
  }

  /** Stores the value in local v to RAM offset t0 + extra. */
  #store(sizeLog2: number, v: () => void, extra: number): void {
    const f = this.#f;
    f.get(this.#t[0]!).op(W.i32WrapI64);
    v();
    f.memory([W.i64Store8, W.i64Store16, W.i64Store32, W.i64Store][sizeLog2]!, this.#code.ramAddress + extra);
  }

  /** The load/store register forms: unsigned immediate, register offset, imm9 (loadstore.ts). */
  #loadStore(insn: Insn, k: number, len: number): void {
    const f = this.#f, o = this.#op, { d, word: w } = insn;
    const [, t1] = this.#t as [number, number, number, number];
    const form = d.op >= o.STRB_IMM9! ? 'imm9' : d.op >= o.STRB_REG! ? 'reg' : 'uimm';
    const rel = d.op - o[form === 'imm9' ? 'STRB_IMM9' : form === 'reg' ? 'STRB_REG' : 'STRB_UIMM']!;
    // size:opc of the 13 forms, in ops.ts order
    const sizeLog2 = [0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 3, 3][rel]!;
    const opc = [0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 0, 1][rel]!;
    const index = form === 'imm9' ? field(w, 10, 2) : 0; // 00 unscaled, 01 post, 11 pre
    // A store KVM has a syndrome for (no writeback) may go to the CPU's coalesced ring: the unit runs on.
    const coalescable = opc === 0 && index === 0;
    if (coalescable) f.open(W.block, 'stored');
    this.#read(d.xn);
    if (form === 'uimm') f.i64(d.imm).op(W.i64Add);
    else if (form === 'reg') {
      const option = field(w, 13, 3);
      this.#read(d.xm);
      if ((option & 3) !== 3) f.op(W.i32WrapI64, option & 4 ? W.i64ExtendI32S : W.i64ExtendI32U); // UXTW, SXTW
      f.i64(d.imm).op(W.i64Shl, W.i64Add);
    } else {
      f.set(t1); // the base, for writeback
      f.get(t1);
      if (index !== 1) f.i64(d.imm).op(W.i64Add);
    }
    if (opc !== 0) {
      this.#ramOffset(insn, k, len, sizeLog2, 1, false);
      this.#load(sizeLog2, opc, 0);
      this.#write(d.xd);
    } else {
      this.#ramOffset(insn, k, len, sizeLog2, 1, true, coalescable ? () => this.#storeCoalesced(sizeLog2, d.xt) : undefined);
      this.#store(sizeLog2, () => this.#read(d.xt), 0);
      if (coalescable) f.close();
    }
    if (index !== 0) {
      f.get(t1).i64(d.imm).op(W.i64Add); // the base wins over a loaded Rt
      this.#write(d.xn);
    }
  }

  /** STP/LDP W and X, every index form (loadstore.ts loadStorePair). */
  #pair(insn: Insn, k: number, len: number): void {
    const f = this.#f, o = this.#op, { d, word: w } = insn;
    const [, t1] = this.#t as [number, number, number, number];
    const signed = d.op === o.LDST_PAIR; // LDPSW
    const rel = signed ? 1 : d.op - o.STP_W!, isLoad = (rel & 1) !== 0, sizeLog2 = rel & 2 ? 3 : 2;
    const index = field(w, 23, 2), rt2 = field(w, 10, 5), second = 2 ** sizeLog2;
    this.#read(d.xn);
    f.set(t1).get(t1);
    if (index !== 1) f.i64(d.imm).op(W.i64Add);
    this.#ramOffset(insn, k, len, sizeLog2, 2, !isLoad);
    if (isLoad) {
      this.#load(sizeLog2, signed ? 2 : 1, 0);
      this.#write(d.xd);
      this.#load(sizeLog2, signed ? 2 : 1, second);
      this.#write(rt2);
    } else {
      this.#store(sizeLog2, () => this.#read(d.xt), 0);
      this.#store(sizeLog2, () => this.#read(rt2), second);
    }
    if (index & 1) {
      f.get(t1).i64(d.imm).op(W.i64Add);
      this.#write(d.xn);
    }
  }
}
