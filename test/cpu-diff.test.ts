// Differential test of the wasm CPU against qemu-aarch64: fixed-seed batches of random snippets
// from every instruction class, from the FP classes and from Advanced SIMD; 0 mismatches allowed.
// More: npm run fuzz:cpu -- --cases N --seed S --mix all|fp|simd|integer.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { describe, runDiff } from './cpu-diff/diff';
import { oracleUnavailable } from './cpu-diff/oracle';

const SEED = 20261125;
const BATCHES = [
  { mix: 'all', cases: 12_000, what: 'random snippets' },
  /** The scalar FP and SIMD&FP load/store classes, with FP edge values, FPCR modes and flags. */
  { mix: 'fp', cases: 5_000, what: 'random FP snippets' },
  /** Advanced SIMD, integer and FP, with lane edge values. */
  { mix: 'simd', cases: 6_000, what: 'random Advanced SIMD snippets' },
] as const;
/** The same mixes with every block translated to WebAssembly at its first execution: compiled afresh per case, slower. */
const JIT_BATCHES = [
  { mix: 'all', cases: 4_000, what: 'random snippets' },
  { mix: 'fp', cases: 1_500, what: 'random FP snippets' },
  { mix: 'simd', cases: 1_500, what: 'random Advanced SIMD snippets' },
] as const;

const unavailable = oracleUnavailable();

for (const { mix, cases, what } of BATCHES) {
  test(`wasm CPU agrees with qemu-aarch64 on ${cases} ${what} (seed ${SEED})`, { skip: unavailable, timeout: 300_000 }, () => {
    const report = runDiff(SEED, cases, 0, mix);
    assert.equal(report.cases, cases);
    assert.equal(report.faulted, 0, 'the generator produced code that faults under QEMU');
    const shown = report.mismatches.slice(0, 3).map(describe).join('\n\n');
    assert.equal(report.mismatches.length, 0, `${report.mismatches.length} mismatches:\n${shown}`);
  });
}

for (const { mix, cases, what } of JIT_BATCHES) {
  test(`the same with every block translated to WebAssembly at its first execution: ${cases} ${what} (seed ${SEED})`, { skip: unavailable, timeout: 300_000 }, () => {
    const report = runDiff(SEED, cases, 0, mix, 'on');
    assert.equal(report.cases, cases);
    assert.equal(report.faulted, 0, 'the generator produced code that faults under QEMU');
    const shown = report.mismatches.slice(0, 3).map(describe).join('\n\n');
    assert.equal(report.mismatches.length, 0, `${report.mismatches.length} mismatches:\n${shown}`);
  });
}
