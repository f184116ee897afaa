/**
 * Random A64 test cases for the differential test: short snippets drawn from every instruction
 * class the wasm CPU implements, with random registers, NZCV and scratch memory. Every snippet is
 * valid, deterministic user-mode code (no UNPREDICTABLE forms, no faults), so QEMU and the wasm CPU
 * must agree on the result bit for bit.
 *
 * Conventions that keep memory accesses inside the scratch block and aligned (the wasm CPU runs
 * with the MMU off, where unaligned data accesses fault):
 *   x28 = BASE: the middle of the scratch block, 16-aligned; only writeback forms change it, by
 *         multiples of 16 within bounds;
 *   x27 = INDEX: 0, 16 or 32, for register-offset addressing;
 *   neither is ever a destination otherwise.
 */
import { LAYOUT } from './layout';
import { BASE, type Ctx, type Gen, INDEX, Rng, type Word, dest, laneValues, scaledOffset, src } from './gen-base';
import { fpcrValue, fpsrValue, loadsAndStoresFp, scalarFp, vregValues } from './gen-fp';
import { atomicsAndCrc } from './gen-lse';
import { advancedSimd } from './gen-simd';

export interface TestCase {
  /** The snippet, run from LAYOUT.region + 4. */
  code: number[];
  /** x0..x30 */
  x: bigint[];
  sp: bigint;
  /** NZCV in bits 31:28 */
  nzcv: number;
  /** q0..q31 */
  v: bigint[];
  fpcr: bigint;
  fpsr: bigint;
  scratch: Uint8Array;
}

const M64 = (1n << 64n) - 1n;

/** Register values that hit the edges: zero, all-ones, sign boundaries at 32 and 64 bits. */
function interestingValue(r: Rng): bigint {
  const specials = [0n, 1n, 2n, M64, M64 - 1n, 0x7fff_ffffn, 0x8000_0000n, 0xffff_ffffn, 0x1_0000_0000n,
    0x7fff_ffff_ffff_ffffn, 0x8000_0000_0000_0000n, 0xffff_ffff_8000_0000n, 63n, 64n, 32n, 31n];
  switch (r.int(5)) {
    case 4: return laneValues(r);
    case 0: return r.pick(specials);
    case 1: return BigInt(r.u32()); // 32-bit
    case 2: return BigInt(r.range(0, 200)) - 100n & M64; // small, either sign
    default: return r.u64();
  }
}

/** HighestSetBit-based validity of a logical immediate (DecodeBitMasks with immediate = true). */
function validBitmask(n: number, imms: number, sf: number): boolean {
  if (sf === 0 && n === 1) return false;
  const combined = (n << 6) | (~imms & 0x3f);
  if (combined === 0) return false;
  const len = 31 - Math.clz32(combined);
  if (len < 1) return false;
  const levels = (1 << len) - 1;
  return (imms & levels) !== levels;
}

const u = (v: number): number => v >>> 0;

// --- Encoders, named after the Arm ARM classes -------------------------------------------------

const enc = {
  addSubImm: (sf: number, op: number, s: number, sh: number, imm12: number, rn: number, rd: number) =>
    u((sf << 31) | (op << 30) | (s << 29) | (0b100010 << 23) | (sh << 22) | (imm12 << 10) | (rn << 5) | rd),
  logicalImm: (sf: number, opc: number, n: number, immr: number, imms: number, rn: number, rd: number) =>
    u((sf << 31) | (opc << 29) | (0b100100 << 23) | (n << 22) | (immr << 16) | (imms << 10) | (rn << 5) | rd),
  moveWide: (sf: number, opc: number, hw: number, imm16: number, rd: number) =>
    u((sf << 31) | (opc << 29) | (0b100101 << 23) | (hw << 21) | (imm16 << 5) | rd),
  bitfield: (sf: number, opc: number, immr: number, imms: number, rn: number, rd: number) =>
    u((sf << 31) | (opc << 29) | (0b100110 << 23) | (sf << 22) | (immr << 16) | (imms << 10) | (rn << 5) | rd),
  extract: (sf: number, rm: number, imms: number, rn: number, rd: number) =>
    u((sf << 31) | (0b100111 << 23) | (sf << 22) | (rm << 16) | (imms << 10) | (rn << 5) | rd),
  pcRel: (op: number, imm21: number, rd: number) =>
    u((op << 31) | ((imm21 & 3) << 29) | (0b10000 << 24) | (((imm21 >> 2) & 0x7ffff) << 5) | rd),
  logicalShifted: (sf: number, opc: number, shift: number, n: number, rm: number, imm6: number, rn: number, rd: number) =>
    u((sf << 31) | (opc << 29) | (0b01010 << 24) | (shift << 22) | (n << 21) | (rm << 16) | (imm6 << 10) | (rn << 5) | rd),
  addSubShifted: (sf: number, op: number, s: number, shift: number, rm: number, imm6: number, rn: number, rd: number) =>
    u((sf << 31) | (op << 30) | (s << 29) | (0b01011 << 24) | (shift << 22) | (rm << 16) | (imm6 << 10) | (rn << 5) | rd),
  addSubExtended: (sf: number, op: number, s: number, rm: number, option: number, imm3: number, rn: number, rd: number) =>
    u((sf << 31) | (op << 30) | (s << 29) | (0b01011 << 24) | (1 << 21) | (rm << 16) | (option << 13) | (imm3 << 10) | (rn << 5) | rd),
  addSubCarry: (sf: number, op: number, s: number, rm: number, rn: number, rd: number) =>
    u((sf << 31) | (op << 30) | (s << 29) | (0b11010000 << 21) | (rm << 16) | (rn << 5) | rd),
  condCompare: (sf: number, op: number, rmOrImm: number, cond: number, imm: number, rn: number, nzcv: number) =>
    u((sf << 31) | (op << 30) | (1 << 29) | (0b11010010 << 21) | (rmOrImm << 16) | (cond << 12) | (imm << 11) | (rn << 5) | nzcv),
  condSelect: (sf: number, op: number, rm: number, cond: number, op2: number, rn: number, rd: number) =>
    u((sf << 31) | (op << 30) | (0b11010100 << 21) | (rm << 16) | (cond << 12) | (op2 << 10) | (rn << 5) | rd),
  dp2: (sf: number, rm: number, opcode: number, rn: number, rd: number) =>
    u((sf << 31) | (0b11010110 << 21) | (rm << 16) | (opcode << 10) | (rn << 5) | rd),
  dp1: (sf: number, opcode: number, rn: number, rd: number) =>
    u((sf << 31) | (1 << 30) | (0b11010110 << 21) | (opcode << 10) | (rn << 5) | rd),
  dp3: (sf: number, op31: number, o0: number, rm: number, ra: number, rn: number, rd: number) =>
    u((sf << 31) | (0b11011 << 24) | (op31 << 21) | (rm << 16) | (o0 << 15) | (ra << 10) | (rn << 5) | rd),
  branch: (link: number, imm26: number) => u((link << 31) | (0b00101 << 26) | (imm26 & 0x3ffffff)),
  compareBranch: (sf: number, op: number, imm19: number, rt: number) =>
    u((sf << 31) | (0b011010 << 25) | (op << 24) | ((imm19 & 0x7ffff) << 5) | rt),
  testBranch: (b: number, op: number, imm14: number, rt: number) =>
    u(((b >> 5) << 31) | (0b011011 << 25) | (op << 24) | ((b & 31) << 19) | ((imm14 & 0x3fff) << 5) | rt),
  condBranch: (imm19: number, cond: number) => u((0b01010100 << 24) | ((imm19 & 0x7ffff) << 5) | cond),
  branchReg: (opc: number, rn: number) => u(0xd61f0000 | (opc << 21) | (rn << 5)),
  ldstUnsigned: (size: number, opc: number, imm12: number, rn: number, rt: number) =>
    u((size << 30) | (0b111001 << 24) | (opc << 22) | (imm12 << 10) | (rn << 5) | rt),
  ldstImm9: (size: number, opc: number, imm9: number, mode: number, rn: number, rt: number) =>
    u((size << 30) | (0b111000 << 24) | (opc << 22) | ((imm9 & 0x1ff) << 12) | (mode << 10) | (rn << 5) | rt),
  ldstRegister: (size: number, opc: number, rm: number, option: number, s: number, rn: number, rt: number) =>
    u((size << 30) | (0b111000 << 24) | (opc << 22) | (1 << 21) | (rm << 16) | (option << 13) | (s << 12) | (0b10 << 10) | (rn << 5) | rt),
  loadLiteral: (opc: number, imm19: number, rt: number) => u((opc << 30) | (0b011000 << 24) | ((imm19 & 0x7ffff) << 5) | rt),
  ldstPair: (opc: number, mode: number, l: number, imm7: number, rt2: number, rn: number, rt: number) =>
    u((opc << 30) | (0b101 << 27) | (mode << 23) | (l << 22) | ((imm7 & 0x7f) << 15) | (rt2 << 10) | (rn << 5) | rt),
  exclusive: (size: number, o2: number, l: number, o1: number, rs: number, o0: number, rt2: number, rn: number, rt: number) =>
    u((size << 30) | (0b001000 << 24) | (o2 << 23) | (l << 22) | (o1 << 21) | (rs << 16) | (o0 << 15) | (rt2 << 10) | (rn << 5) | rt),
  mrsNzcv: (rt: number) => u(0xd53b4200 | rt),
  msrNzcv: (rt: number) => u(0xd51b4200 | rt),
};

function forwardTarget(c: Ctx): number {
  return c.r.range(c.items.length + 1, c.total); // a later item, or the end
}

// --- One generator per class ---------------------------------------------------------------------

const dataProcessingImmediate: Gen[] = [
  ({ r }) => {
    const s = r.bit();
    return [enc.addSubImm(r.bit(), r.bit(), s, r.bit(), r.int(4096), src(r), s ? (r.int(8) ? dest(r) : 31) : r.int(6) ? dest(r) : 31)];
  },
  ({ r }) => {
    const sf = r.bit();
    for (;;) {
      const n = sf ? r.bit() : 0, imms = r.int(64), immr = sf ? r.int(64) : r.int(32);
      if (!validBitmask(n, imms, sf)) continue;
      const opc = r.int(4);
      // AND/ORR/EOR (immediate) write SP for register 31, ANDS writes XZR
      return [enc.logicalImm(sf, opc, n, immr, imms, src(r), opc !== 3 && r.int(6) === 0 ? 31 : dest(r))];
    }
  },
  ({ r }) => {
    const sf = r.bit();
    return [enc.moveWide(sf, r.pick([0, 2, 3]), sf ? r.int(4) : r.int(2), r.int(65536), dest(r))];
  },
  ({ r }) => {
    const sf = r.bit(), size = sf ? 64 : 32;
    return [enc.bitfield(sf, r.int(3), r.int(size), r.int(size), src(r), dest(r))];
  },
  ({ r }) => {
    const sf = r.bit();
    return [enc.extract(sf, src(r), r.int(sf ? 64 : 32), src(r), dest(r))];
  },
  ({ r }) => [enc.pcRel(r.bit(), r.range(-4096, 4096), dest(r))],
];

const dataProcessingRegister: Gen[] = [
  ({ r }) => {
    const sf = r.bit();
    return [enc.logicalShifted(sf, r.int(4), r.int(4), r.bit(), src(r), r.int(sf ? 64 : 32), src(r), dest(r))];
  },
  ({ r }) => {
    const sf = r.bit();
    return [enc.addSubShifted(sf, r.bit(), r.bit(), r.int(3), src(r), r.int(sf ? 64 : 32), src(r), dest(r))];
  },
  ({ r }) => {
    const s = r.bit();
    const rd = s || r.int(4) ? dest(r) : 31; // SP as destination for ADD/SUB (extended)
    return [enc.addSubExtended(r.bit(), r.bit(), s, src(r), r.int(8), r.int(5), src(r), rd)];
  },
  ({ r }) => [enc.addSubCarry(r.bit(), r.bit(), r.bit(), src(r), src(r), dest(r))],
  ({ r }) => {
    const imm = r.bit();
    return [enc.condCompare(r.bit(), r.bit(), imm ? r.int(32) : src(r), r.int(16), imm, src(r), r.int(16))];
  },
  ({ r }) => [enc.condSelect(r.bit(), r.bit(), src(r), r.int(16), r.bit(), src(r), dest(r))],
  // UDIV, SDIV, LSLV, LSRV, ASRV, RORV
  ({ r }) => [enc.dp2(r.bit(), src(r), r.pick([2, 3, 8, 9, 10, 11]), src(r), dest(r))],
  // RBIT, REV16, REV32/REV, REV (X), CLZ, CLS
  ({ r }) => {
    const sf = r.bit();
    return [enc.dp1(sf, r.pick(sf ? [0, 1, 2, 3, 4, 5] : [0, 1, 2, 4, 5]), src(r), dest(r))];
  },
  // MADD/MSUB (32 or 64); SMADDL/SMSUBL, SMULH, UMADDL/UMSUBL, UMULH (64)
  ({ r }) => {
    const op31 = r.pick([0, 0, 1, 2, 5, 6]);
    const sf = op31 === 0 ? r.bit() : 1;
    const o0 = op31 === 2 || op31 === 6 ? 0 : r.bit();
    return [enc.dp3(sf, op31, o0, src(r), op31 === 2 || op31 === 6 ? 31 : src(r), src(r), dest(r))];
  },
  ({ r }) => [r.bit() ? enc.mrsNzcv(dest(r)) : enc.msrNzcv(src(r))],
];

/** A store's data register: under writeback it must differ from the base. */
function storeData(r: Rng, writeback: boolean): number {
  const n = src(r);
  return writeback && n === BASE ? 0 : n;
}

const loadsAndStores: Gen[] = [
  // Load/store register: every size and opc, every addressing form.
  ({ r }) => {
    const [size, opc] = r.pick([[0, 0], [0, 1], [0, 2], [0, 3], [1, 0], [1, 1], [1, 2], [1, 3], [2, 0], [2, 1], [2, 2], [3, 0], [3, 1]] as const);
    const bytes = 1 << size, store = opc === 0;
    const form = r.int(4);
    if (form === 0) return [enc.ldstUnsigned(size, opc, r.int(32), BASE, store ? storeData(r, false) : dest(r))];
    if (form === 1) {
      return [enc.ldstRegister(size, opc, INDEX, r.pick([0b010, 0b011, 0b110, 0b111]), r.bit(), BASE, store ? storeData(r, false) : dest(r))];
    }
    const mode = r.pick([0, 1, 2, 3]); // unscaled, post-index, unprivileged, pre-index
    const writeback = mode === 1 || mode === 3;
    const imm9 = writeback ? r.range(-4, 4) * 16 : scaledOffset(r, bytes, 240);
    return [enc.ldstImm9(size, opc, imm9, mode, BASE, store ? storeData(r, writeback) : dest(r))];
  },
  // Load/store pair: W, X and LDPSW; no-allocate, post-index, offset, pre-index.
  ({ r }) => {
    const opc = r.pick([0, 1, 2]), load = opc === 1 ? 1 : r.bit();
    const mode = opc === 1 ? r.range(1, 3) : r.int(4);
    const size = opc === 2 ? 8 : 4, writeback = mode === 1 || mode === 3;
    const offset = writeback ? r.range(-4, 4) * 16 : scaledOffset(r, size, 240);
    let rt: number, rt2: number;
    if (load) {
      rt = dest(r);
      do rt2 = dest(r); while (rt2 === rt);
    } else {
      rt = storeData(r, writeback);
      rt2 = storeData(r, writeback);
    }
    return [enc.ldstPair(opc, mode, load, offset / size, rt2, BASE, rt)];
  },
  // Load register (literal): from the code already placed, aligned.
  (c) => {
    const here = 4 + c.wordsBefore * 4; // byte offset of this instruction from the region start
    const opc = here < 8 ? 0 : c.r.pick([0, 1, 2]), size = opc === 1 ? 8 : 4;
    const slots = Math.floor(here / size); // aligned targets wholly before this instruction
    const target = c.r.int(slots) * size;
    return [enc.loadLiteral(opc, (target - here) / 4, dest(c.r))];
  },
  // LDAR/STLR, any size.
  ({ r }) => {
    const load = r.bit();
    return [enc.exclusive(r.int(4), 1, load, 0, 31, 1, 31, BASE, load ? dest(r) : src(r))];
  },
  // Exclusive pair of accesses on [BASE]: LD(A)XR ... ST(L)XR, single or pair registers.
  ({ r }) => {
    const pair = r.bit(), size = pair ? r.range(2, 3) : r.int(4);
    const rt = dest(r);
    let rt2 = 31;
    if (pair) do rt2 = dest(r); while (rt2 === rt);
    const load = enc.exclusive(size, 0, 1, pair, 31, r.bit(), rt2, BASE, rt);
    // The status register must differ from the data and base registers (else UNPREDICTABLE).
    const status = dest(r);
    const data = (): number => {
      for (;;) {
        const n = src(r);
        if (n !== status && n !== BASE) return n;
      }
    };
    const rs = data(), rs2 = pair ? data() : 31;
    const middle = r.bit() ? [enc.addSubImm(1, 0, 0, 0, r.int(4096), src(r), dest(r))] : [];
    return [load, ...middle, enc.exclusive(size, 0, 0, pair, status, r.bit(), rs2, BASE, rs)];
  },
];

const branches: Gen[] = [
  (c) => {
    const link = c.r.bit();
    return [{ targetItem: forwardTarget(c), encode: (off) => enc.branch(link, off) }];
  },
  (c) => {
    const cond = c.r.int(16);
    return [{ targetItem: forwardTarget(c), encode: (off) => enc.condBranch(off, cond) }];
  },
  (c) => {
    const sf = c.r.bit(), op = c.r.bit(), rt = src(c.r);
    return [{ targetItem: forwardTarget(c), encode: (off) => enc.compareBranch(sf, op, off, rt) }];
  },
  (c) => {
    const b = c.r.int(64), op = c.r.bit(), rt = src(c.r);
    return [{ targetItem: forwardTarget(c), encode: (off) => enc.testBranch(b, op, off, rt) }];
  },
  // ADR xN, target; BR/BLR/RET xN
  (c) => {
    const rn = dest(c.r), opc = c.r.int(3), target = forwardTarget(c);
    return [{ targetItem: target, encode: (off) => enc.pcRel(0, off * 4, rn) }, enc.branchReg(opc, rn)];
  },
];

/** How often each class is drawn, in the two mixes generateCase offers. */
const CLASSES = {
  all: [
    dataProcessingImmediate, dataProcessingImmediate,
    dataProcessingRegister, dataProcessingRegister, dataProcessingRegister,
    loadsAndStores, loadsAndStores,
    branches,
    scalarFp, scalarFp, loadsAndStoresFp, atomicsAndCrc,
    advancedSimd, advancedSimd,
  ],
  /** the integer classes only (the parity suite: KVM's register API has no FP/SIMD registers yet) */
  integer: [
    dataProcessingImmediate, dataProcessingImmediate,
    dataProcessingRegister, dataProcessingRegister, dataProcessingRegister,
    loadsAndStores, loadsAndStores,
    branches,
  ],
  /**
   * the classes added for compiled C (scalar FP, SIMD&FP loads and stores, LSE atomics, CRC32), with
   * enough integer code and branches around them to use their results
   */
  fp: [scalarFp, scalarFp, scalarFp, scalarFp, loadsAndStoresFp, loadsAndStoresFp, atomicsAndCrc, dataProcessingRegister, branches],
  /** Advanced SIMD, with scalar FP, SIMD&FP loads/stores, integer code and branches around it */
  simd: [advancedSimd, advancedSimd, advancedSimd, advancedSimd, advancedSimd, advancedSimd, scalarFp, loadsAndStoresFp, dataProcessingRegister, branches],
} as const satisfies Record<string, readonly (readonly Gen[])[]>;

export type ClassMix = keyof typeof CLASSES;

/** Lays the items out and resolves branch offsets (an offset counts from the branch's own word). */
function layout(items: Word[][]): number[] {
  const starts: number[] = [];
  let n = 0;
  for (const item of items) {
    starts.push(n);
    n += item.length;
  }
  starts.push(n); // the end: the exit sequence (QEMU) or HVC (wasm)
  const code: number[] = [];
  for (const item of items) {
    for (const w of item) {
      code.push(typeof w === 'number' ? w : w.encode(starts[w.targetItem]! - code.length));
    }
  }
  return code;
}

/** Test case number `index` of the stream for `seed` and `mix`. */
export function generateCase(seed: number, index: number, mix: ClassMix = 'all', maxItems = 8): TestCase {
  const r = new Rng((seed * 0x9e3779b1) ^ Math.imul(index + 1, 0x85ebca6b));
  const c: Ctx = { r, items: [], total: r.range(1, maxItems), wordsBefore: 0, fpSize: r.pick([1, 2, 3] as const) };
  while (c.items.length < c.total) {
    const item = r.pick(r.pick(CLASSES[mix]))(c);
    c.items.push(item);
    c.wordsBefore += item.length;
  }
  const x = Array.from({ length: 31 }, () => interestingValue(r));
  x[BASE] = BigInt(LAYOUT.region + LAYOUT.scratch + LAYOUT.scratchSize / 2);
  x[INDEX] = BigInt(r.pick([0, 16, 32]));
  const scratch = new Uint8Array(LAYOUT.scratchSize);
  for (let i = 0; i < scratch.length; i += 4) new DataView(scratch.buffer).setUint32(i, r.u32(), true);
  return {
    code: layout(c.items),
    x,
    sp: r.bit() ? BigInt(LAYOUT.region + LAYOUT.scratch) : interestingValue(r) & ~15n,
    nzcv: r.int(16) << 28,
    v: vregValues(r, c.fpSize),
    fpcr: fpcrValue(r),
    fpsr: fpsrValue(r),
    scratch,
  };
}
