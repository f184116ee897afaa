// Differential test of the wasm CPU against qemu-aarch64: a fixed-seed batch of random snippets
// from every instruction class, and a batch of the FP classes alone; 0 mismatches allowed. More: npm run fuzz:cpu -- --cases N --seed S.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { describe, runDiff } from './cpu-diff/diff';
import { oracleUnavailable } from './cpu-diff/oracle';

const SEED = 20261125;
const CASES = 12_000;
/** The scalar FP and SIMD&FP load/store classes, with FP edge values, FPCR modes and flags. */
const FP_CASES = 5_000;

const unavailable = oracleUnavailable();

test(`wasm CPU agrees with qemu-aarch64 on ${CASES} random snippets (seed ${SEED})`, { skip: unavailable, timeout: 300_000 }, () => {
  const report = runDiff(SEED, CASES);
  assert.equal(report.cases, CASES);
  assert.equal(report.faulted, 0, 'the generator produced code that faults under QEMU');
  const shown = report.mismatches.slice(0, 3).map(describe).join('\n\n');
  assert.equal(report.mismatches.length, 0, `${report.mismatches.length} mismatches:\n${shown}`);
});

test(`wasm CPU agrees with qemu-aarch64 on ${FP_CASES} random FP snippets (seed ${SEED})`, { skip: unavailable, timeout: 300_000 }, () => {
  const report = runDiff(SEED, FP_CASES, 0, 'fp');
  assert.equal(report.cases, FP_CASES);
  assert.equal(report.faulted, 0, 'the generator produced code that faults under QEMU');
  const shown = report.mismatches.slice(0, 3).map(describe).join('\n\n');
  assert.equal(report.mismatches.length, 0, `${report.mismatches.length} mismatches:\n${shown}`);
});
