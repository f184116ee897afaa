// Speed of the wasm A64 CPU through its TypeScript API:  node native/wasm/bench.mjs
// Guest MIPS on the cpu suite's guests (slices of 1e6 instructions): the countdown and load/store
// loops the goal is about, the sort and the calls beside them; and the cost of one MMIO exit round
// trip (run() returns to JS, JS resumes it). Builds dist/a64.wasm first.
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

const root = new URL('../..', import.meta.url).pathname;
execFileSync(process.execPath, [join(root, 'native/wasm/build.mjs'), join(root, 'dist/a64.wasm')], { stdio: 'inherit' });
const bundle = join(root, 'node_modules/.cache/femtovm/a64-cpu.cjs');
await build({
  entryPoints: [join(root, 'src/workers/wasm/a64-cpu.ts')],
  bundle: true, platform: 'node', target: 'node20', format: 'cjs', outfile: bundle, logLevel: 'warning',
});
const { A64Cpu, CpuExit } = createRequire(import.meta.url)(bundle);

const SLICE = 1_000_000;
const ROUNDS = 5;

function load(cpu, words) {
  const dv = new DataView(cpu.ram.buffer, cpu.ram.byteOffset);
  words.forEach((w, i) => dv.setUint32(i * 4, w, true));
}

/** Best of ROUNDS: guest instructions per µs for `image` run to its final HVC. */
function mips(image, regs) {
  const cpu = new A64Cpu({ ramSize: 1 << 20 });
  let best = 0;
  for (let round = 0; round < ROUNDS; round++) {
    cpu.reset(0x10000, 1 << 20);
    cpu.ram.set(image);
    for (const [name, value] of Object.entries(regs)) cpu.setReg(name, value);
    const t0 = process.hrtime.bigint();
    let exit;
    while ((exit = cpu.run(SLICE)) === CpuExit.SliceEnd);
    const ns = Number(process.hrtime.bigint() - t0);
    if (exit !== CpuExit.Hvc) throw new Error(`unexpected exit ${exit}`);
    best = Math.max(best, (cpu.instret / ns) * 1000);
  }
  return best;
}

/** Best of ROUNDS: ns per MMIO exit, the guest storing to the console address in a loop. */
function mmioExitNs(exits) {
  // 1: strb w2, [x1] ; b 1b
  const cpu = new A64Cpu();
  load(cpu, [0x39000022, 0x17ffffff]);
  cpu.setReg('x1', 0x996n);
  let best = Infinity;
  for (let round = 0; round < ROUNDS; round++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < exits; i++) {
      if (cpu.run(SLICE) !== CpuExit.Mmio || cpu.mmioAddr !== 0x996) throw new Error('expected an MMIO exit');
    }
    best = Math.min(best, Number(process.hrtime.bigint() - t0) / exits);
  }
  return best;
}

// The cpu suite's guests (bench/cpu.ts, guests/aarch64/cpu-*.S), N for about 0.3 s each.
const guest = (name) => new Uint8Array(readFileSync(join(root, 'guests/aarch64', `${name}.bin`)));
const kernels = [
  ['countdown loop', 'cpu-countdown', 100_000_000n],
  ['load/store loop', 'cpu-loadstore', 15_000_000n],
  ['insertion sort', 'cpu-sort', 12_000n],
  ['recursive calls', 'cpu-calls', 120_000n],
];
for (const [name, file, n] of kernels) {
  console.log(`${`${name}:`.padEnd(17)}${mips(guest(file), { x0: n }).toFixed(0)} M guest instructions/s`);
}
console.log(`MMIO exit round trip: ${mmioExitNs(1_000_000).toFixed(0)} ns`);
