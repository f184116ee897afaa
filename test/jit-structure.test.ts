/**
 * The translator's control structure (src/workers/wasm/jit/structure.ts): loops and forward blocks
 * for a unit's branches where WebAssembly's nesting allows them, the dispatch elsewhere; the
 * intervals it returns always nest.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { structure, type Structure } from '../src/workers/wasm/jit/structure';

function assertNested(s: Structure): void {
  for (const a of s.intervals) {
    for (const b of s.intervals) {
      const crosses = a.start < b.start && b.start < a.end && a.end < b.end;
      assert.ok(!crosses, `${a.kind} [${a.start}, ${a.end}) crosses ${b.kind} [${b.start}, ${b.end})`);
    }
  }
}

test('an insertion sort entered at its inner loop: the inner loop and its exit are structured, the outer loops dispatched', () => {
  // 0: outer head, 1: middle head (3:), 2: inner head (4:, the entry), 3: inner body, 4: middle tail (5:), 5: outer tail
  const edges: [number, number][] = [[0, 1], [1, 2], [2, 4], [2, 3], [3, 2], [3, 4], [4, 1], [4, 5], [5, 0]];
  const s = structure(edges, [2]);
  assertNested(s);
  assert.equal(s.loopEnd.get(2), 4, 'the inner loop spans blocks 2 and 3');
  assert.equal(s.blockStart.get(4), 2, 'its exit is a forward block from its head');
  assert.deepEqual(s.dispatch, [0, 1, 2], 'the loops around the entry are reached through the dispatch');
});

test('a loop entered at its head, with a forward branch past its end and crossing loops merged', () => {
  // 0 -> 1 (loop 1..3, with an inner loop 2..4 crossing it) -> 5; block 1 branches forward past both
  const edges: [number, number][] = [[0, 1], [1, 2], [1, 5], [2, 3], [3, 1], [3, 4], [4, 2], [4, 5]];
  const s = structure(edges, [0]);
  assertNested(s);
  assert.deepEqual(s.dispatch, [0]);
  assert.equal(s.loopEnd.get(1), 5, 'the first loop extended to the end of the one it crossed');
  assert.equal(s.loopEnd.get(2), 5);
  assert.equal(s.blockStart.get(5), 1, 'the exit branch from inside the loops opens at the outer head');
});

test('a forward branch into the middle of a loop from outside it: its target is dispatched, the loop dropped', () => {
  const edges: [number, number][] = [[0, 2], [1, 2], [2, 1], [2, 3]];
  const s = structure(edges, [0]);
  assertNested(s);
  assert.ok(s.dispatch.includes(2) && s.dispatch.includes(1));
  assert.equal(s.loopEnd.size, 0);
});

test('a return site inside a loop: the loop is dropped, its head dispatched', () => {
  // 0 -> 1 -> 3 -> 2 (a return site, looping back to 0)
  const edges: [number, number][] = [[0, 1], [1, 3], [3, 2], [2, 0]];
  const s = structure(edges, [0, 2]);
  assertNested(s);
  assert.equal(s.loopEnd.size, 0);
  assert.ok(s.dispatch.includes(0) && s.dispatch.includes(2));
});
