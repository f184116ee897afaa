/**
 * A fixed-seed batch of fuzzed images and API-misuse calls: 0 crashes, 0 hangs, 0 errors without a
 * code. `npm run fuzz:adversarial` runs 10,000 (FEMTOVM_FUZZ_COUNT) and prints the tally.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';

import type { BackendKind, GuestArch } from '../../src/index';
import { fuzz } from './fuzz';
import { backends } from './hostile';

const count = Number(process.env.FEMTOVM_FUZZ_COUNT ?? 600);
const seed = Number(process.env.FEMTOVM_FUZZ_SEED ?? 17);
const targets = backends.filter(([, , skip]) => skip === undefined).map(([arch, backend]) => [arch, backend] as [GuestArch, BackendKind]);

test(`${count} fuzzed images and misuse calls (seed ${seed}) on ${targets.map(([, b]) => b).join(' and ') || 'no backend'}: every error typed`, { skip: targets.length === 0 ? 'no backend here' : undefined, timeout: 3_600_000 }, (t) => {
  const tally = fuzz(count, seed, targets);
  t.diagnostic(JSON.stringify({ cases: tally.cases, results: tally.results, typedErrors: tally.typedErrors, untyped: tally.untyped.length, codes: tally.codes }));
  assert.equal(tally.cases, count);
  assert.deepEqual(tally.untyped, []);
});
