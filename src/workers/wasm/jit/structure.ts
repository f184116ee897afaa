/**
 * The control structure of a unit: which of its branches become a wasm `br` to an enclosing `loop`
 * (a back edge, to the loop's head) or `block` (a forward edge, to the block's end), and which go
 * through the unit's dispatch (a br_table on a block number, in a loop around everything). WebAssembly
 * can only branch to the start of an enclosing loop or the end of an enclosing block, so the
 * intervals these cover must nest; the dispatch reaches a block only where no loop straddles it.
 *
 * Blocks are numbered in address order; boundary b is the point before block b's code, and boundary
 * -1 the point before the dispatch's br_table. The dispatch's own wasm blocks are intervals [-1, t),
 * one per block t it reaches: a forward branch to such a t is a `br` to the end of it.
 *
 * Rules, applied until nothing changes (each only widens an interval or moves a block into the
 * dispatch, so it ends): a loop spans its head to its last back edge; a loop that would straddle a
 * block the dispatch reaches is dropped, its head reached through the dispatch instead; two loops
 * that cross become one (the first extended to the second's end); a forward block opens at its
 * first branch and earlier where it would cross a loop, another block or the dispatch; a forward
 * branch from outside a loop into its middle makes its target a dispatch target.
 */

export type IntervalKind = 'loop' | 'block' | 'dispatch';

/** A wasm `loop` or `block` over boundaries [start, end), for branches to block `target`. */
export interface Interval {
  readonly kind: IntervalKind;
  readonly start: number;
  readonly end: number;
  readonly target: number;
}

export interface Structure {
  /** Blocks the dispatch reaches, in block order: the dispatch's label is an index into this. */
  readonly dispatch: readonly number[];
  /** The loop with its head at block b: its end boundary. */
  readonly loopEnd: ReadonlyMap<number, number>;
  /** The forward block ending at block b: its start boundary. */
  readonly blockStart: ReadonlyMap<number, number>;
  /** Every interval, in the order they open (at a boundary, the one that ends last first). */
  readonly intervals: readonly Interval[];
}

/** Whether [a, b) and [c, d) cross (overlap without one holding the other). */
const cross = (a: number, b: number, c: number, d: number): boolean => (a < c && c < b && b < d) || (c < a && a < d && d < b);

/**
 * The structure of blocks with branches `edges` ([from, to] block numbers) where the dispatch must
 * reach `entries` (the unit's entry, return sites).
 */
export function structure(edges: readonly (readonly [number, number])[], entries: Iterable<number>): Structure {
  const dispatch = new Set(entries);
  const loopEnd = new Map<number, number>();
  const sources = new Map<number, number[]>();
  for (const [from, to] of edges) {
    if (to <= from) loopEnd.set(to, Math.max(loopEnd.get(to) ?? 0, from + 1));
    else sources.set(to, [...(sources.get(to) ?? []), from]);
  }
  const blockStart = new Map<number, number>();
  for (const [to, from] of sources) blockStart.set(to, Math.min(...from));
  for (let changed = true; changed;) {
    changed = false;
    for (const [h, e] of loopEnd) {
      if ([...dispatch].some((t) => h < t && t < e)) {
        loopEnd.delete(h);
        dispatch.add(h);
        changed = true;
        continue;
      }
      for (const [h2, e2] of loopEnd) {
        if (h < h2 && h2 < e && e < e2) {
          loopEnd.set(h, e2);
          changed = true;
        }
      }
    }
    for (const [t, p] of blockStart) {
      if (dispatch.has(t)) {
        blockStart.delete(t); // a forward branch to it goes to the end of the dispatch's block
        changed = true;
        continue;
      }
      let start = p;
      for (const [h, e] of loopEnd) {
        if (start < h && h < t && t < e) {
          dispatch.add(t); // into a loop's middle from outside it
          changed = true;
        } else if (h < start && start < e && e < t) start = h;
      }
      for (const [t2, p2] of blockStart) if (p2 < start && start < t2 && t2 < t) start = p2;
      if ([...dispatch].some((d) => start < d && d < t)) start = -1;
      if (start !== p) {
        blockStart.set(t, start);
        changed = true;
      }
    }
  }
  const intervals: Interval[] = [
    ...[...dispatch].map((t) => ({ kind: 'dispatch' as const, start: -1, end: t, target: t })),
    ...[...loopEnd].map(([h, e]) => ({ kind: 'loop' as const, start: h, end: e, target: h })),
    ...[...blockStart].map(([t, p]) => ({ kind: 'block' as const, start: p, end: t, target: t })),
  ].sort((a, b) => a.start - b.start || b.end - a.end);
  for (const a of intervals) {
    for (const b of intervals) {
      if (cross(a.start, a.end, b.start, b.end)) throw new Error(`structure: ${a.kind} ${a.start}..${a.end} crosses ${b.kind} ${b.start}..${b.end}`);
    }
  }
  return { dispatch: [...dispatch].sort((a, b) => a - b), loopEnd, blockStart, intervals };
}
