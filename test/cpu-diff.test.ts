// Differential test of the wasm CPU against qemu-aarch64: a fixed-seed batch of random snippets
// from every instruction class, 0 mismatches allowed. More: npm run fuzz:cpu -- --cases N --seed S.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { describe, runDiff } from './cpu-diff/diff';
import { oracleUnavailable } from './cpu-diff/oracle';

const SEED = 20261125;
const CASES = 12_000;
const JIT_CASES = 4_000; // each case translated (and compiled) afresh: slower per case

const unavailable = oracleUnavailable();

test(`wasm CPU agrees with qemu-aarch64 on ${CASES} random snippets (seed ${SEED})`, { skip: unavailable, timeout: 300_000 }, () => {
  const report = runDiff(SEED, CASES);
  assert.equal(report.cases, CASES);
  assert.equal(report.faulted, 0, 'the generator produced code that faults under QEMU');
  const shown = report.mismatches.slice(0, 3).map(describe).join('\n\n');
  assert.equal(report.mismatches.length, 0, `${report.mismatches.length} mismatches:\n${shown}`);
});

test(`the same with every block translated to WebAssembly at its first execution: ${JIT_CASES} snippets (seed ${SEED})`, { skip: unavailable, timeout: 300_000 }, () => {
  const report = runDiff(SEED, JIT_CASES, 0, 5000, 'on');
  assert.equal(report.cases, JIT_CASES);
  assert.equal(report.faulted, 0, 'the generator produced code that faults under QEMU');
  const shown = report.mismatches.slice(0, 3).map(describe).join('\n\n');
  assert.equal(report.mismatches.length, 0, `${report.mismatches.length} mismatches:\n${shown}`);
});
