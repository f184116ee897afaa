// Speed of the wasm A64 CPU through its TypeScript API:  node native/wasm/bench.mjs
// Guest MIPS on a countdown loop and a load/store loop (slices of 1e6 instructions), and the cost
// of one MMIO exit round trip (run() returns to JS, JS resumes it). Builds dist/a64.wasm first.
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { join } from 'node:path';

const root = new URL('../..', import.meta.url).pathname;
execFileSync(process.execPath, [join(root, 'native/wasm/build.mjs'), join(root, 'dist/a64.wasm')], { stdio: 'inherit' });
const bundle = join(root, 'node_modules/.cache/femtovm/a64-cpu.cjs');
await build({
  entryPoints: [join(root, 'src/host/wasm/a64-cpu.ts')],
  bundle: true, platform: 'node', target: 'node20', format: 'cjs', outfile: bundle, logLevel: 'warning',
});
const { A64Cpu, CpuExit } = createRequire(import.meta.url)(bundle);

const SLICE = 1_000_000;
const ROUNDS = 5;

function load(cpu, words) {
  const dv = new DataView(cpu.ram.buffer, cpu.ram.byteOffset);
  words.forEach((w, i) => dv.setUint32(i * 4, w, true));
}

/** Best of ROUNDS: guest instructions per µs for `words` run to their final HVC. */
function mips(words, regs) {
  const cpu = new A64Cpu({ ramSize: 1 << 20 });
  let best = 0;
  for (let round = 0; round < ROUNDS; round++) {
    cpu.reset(0x10000, 1 << 20);
    load(cpu, words);
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

const countdown = mips(
  [
    0xf1000400, // 1: subs x0, x0, #1
    0x54ffffe1, //    b.ne 1b
    0xd4000002, //    hvc #0
  ],
  { x0: 100_000_000n },
);
const loadStore = mips(
  [
    0xf9400022, // 1: ldr x2, [x1]
    0x91000442, //    add x2, x2, #1
    0xf9000422, //    str x2, [x1, #8]
    0xf1000400, //    subs x0, x0, #1
    0x54ffff81, //    b.ne 1b
    0xd4000002, //    hvc #0
  ],
  { x0: 40_000_000n, x1: 0x20000n },
);
console.log(`countdown loop:  ${countdown.toFixed(0)} M guest instructions/s`);
console.log(`load/store loop: ${loadStore.toFixed(0)} M guest instructions/s`);
console.log(`MMIO exit round trip: ${mmioExitNs(1_000_000).toFixed(0)} ns`);
