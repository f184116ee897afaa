/**
 * npm run fuzz:cpu -- [--cases N] [--seed S] [--from I] [--show K] [--mix all|fp|simd|integer] [--jit on|off|auto]
 * Differential fuzzing of the wasm CPU against qemu-aarch64; prints a reproducer per mismatch.
 */
import { parseArgs } from 'node:util';
import { describe, runDiff } from './diff';
import { oracleUnavailable } from './oracle';
import { JIT_MODES, type JitMode } from '../../src/workers/wasm/jit/code-cache';

const { values } = parseArgs({
  options: {
    cases: { type: 'string', default: '10000' },
    seed: { type: 'string', default: String(Date.now() % 1_000_000) },
    from: { type: 'string', default: '0' },
    show: { type: 'string', default: '5' },
    jit: { type: 'string', default: 'off' }, // 'on': every block translated to WebAssembly first
    mix: { type: 'string', default: 'all' }, // all: every class; fp: scalar FP and SIMD&FP loads/stores; simd: Advanced SIMD; integer: the rest
  },
});
const why = oracleUnavailable();
if (why !== undefined) {
  console.error(`fuzz:cpu: ${why}`);
  process.exit(2);
}
const seed = Number(values.seed), cases = Number(values.cases), show = Number(values.show);
if (!(JIT_MODES as readonly string[]).includes(values.jit)) {
  console.error(`fuzz:cpu: --jit ${values.jit}: on, off or auto`);
  process.exit(2);
}
const t0 = Date.now();
if (values.mix !== 'all' && values.mix !== 'fp' && values.mix !== 'simd' && values.mix !== 'integer') {
  console.error(`fuzz:cpu: --mix is all, fp, simd or integer, not ${values.mix}`);
  process.exit(2);
}
const report = runDiff(seed, cases, Number(values.from), values.mix, values.jit as JitMode);
for (const m of report.mismatches.slice(0, show)) console.log(`${describe(m)}\n`);
console.log(`seed ${seed} (${values.mix}, jit ${values.jit}): ${report.cases} cases, ${report.mismatches.length} mismatches, ${report.faulted} faulted under QEMU (skipped), ${((Date.now() - t0) / 1000).toFixed(1)} s`);
process.exit(report.mismatches.length === 0 ? 0 : 1);
