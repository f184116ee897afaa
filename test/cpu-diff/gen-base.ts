/**
 * What the differential test's generators share (gen.ts, gen-fp.ts, gen-lse.ts): the random
 * stream, the register conventions (BASE, INDEX: see gen.ts) and a generator's shape.
 */

export const BASE = 28;
export const INDEX = 27;

/** mulberry32: small, fast, and the same sequence everywhere for a seed. */
export class Rng {
  #s: number;
  constructor(seed: number) {
    this.#s = seed >>> 0;
  }
  u32(): number {
    this.#s = (this.#s + 0x6d2b79f5) >>> 0;
    let t = this.#s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }
  /** 0 <= n < max */
  int(max: number): number {
    return this.u32() % max;
  }
  range(lo: number, hi: number): number {
    return lo + this.int(hi - lo + 1);
  }
  bit(): number {
    return this.u32() & 1;
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }
  u64(): bigint {
    return (BigInt(this.u32()) << 32n) | BigInt(this.u32());
  }
}

/** A register an instruction may write: anything but BASE and INDEX (31 excluded too). */
export function dest(r: Rng): number {
  const n = r.int(29); // 0..28 → skip 27, 28
  return n >= INDEX ? n + 2 : n;
}

/** A register an instruction may read: any of x0..x30, or 31 (XZR or SP by encoding). */
export function src(r: Rng): number {
  return r.int(32);
}

/** An instruction whose branch offset is known only once the snippet is laid out. */
export interface Pending {
  /** index of the item (instruction group) the branch goes to; items.length = the end */
  targetItem: number;
  encode: (offsetWords: number) => number;
}
export type Word = number | Pending;

/** The generator state for one snippet. */
export interface Ctx {
  r: Rng;
  /** items generated so far (each a list of words) */
  items: Word[][];
  /** planned number of items */
  total: number;
  /** words already placed before the current item, from the snippet start */
  wordsBefore: number;
  /** the FP format most FP instructions and register values of the case use: 1 half, 2 single, 3 double */
  fpSize: 1 | 2 | 3;
}

export type Gen = (c: Ctx) => Word[];

/** Offsets in bytes that keep BASE's accesses inside scratch and aligned to `size`. */
export function scaledOffset(r: Rng, size: number, maxBytes: number): number {
  return r.range(-Math.floor(maxBytes / size), Math.floor(maxBytes / size)) * size;
}

/** 64 bits of lanes of 8 << sz bits at their edges (SIMD): minimum, maximum, -1, 0, 1, a small index, random. */
export function laneValues(r: Rng): bigint {
  const bits = 8 << r.int(4), mask = (1n << BigInt(bits)) - 1n, half = 1n << BigInt(bits - 1);
  let v = 0n;
  for (let at = 0; at < 64; at += bits) {
    const lane = r.pick([0n, 1n, mask, half, half - 1n, half + 1n, BigInt(r.int(64)), BigInt(r.u32()) & mask, r.u64() & mask]);
    v |= lane << BigInt(at);
  }
  return v;
}
