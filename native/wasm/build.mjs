// Compiles the AssemblyScript A64 CPU into two small wasm modules:
//   node native/wasm/build.mjs <out.wasm>
// <out.wasm>, the interpreter alone, and <out>-jit.wasm, the same with the translator's hooks
// (assembly/jit.ts: taken branches counted, stores to translated code noted, units entered), for
// CPUs whose translator is on: with it off the interpreter pays nothing for it.
// No GC or runtime (the CPU allocates nothing: all state is static memory), optimized for speed.
import asc from 'assemblyscript/asc';
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';

const out = process.argv[2];
if (!out?.endsWith('.wasm')) {
  console.error('usage: node native/wasm/build.mjs <out.wasm>');
  process.exit(2);
}
mkdirSync(dirname(out), { recursive: true });
const entry = join(dirname(new URL(import.meta.url).pathname), 'assembly/index.ts');
for (const [file, hooks] of [[out, 0], [out.replace(/\.wasm$/, '-jit.wasm'), 1]]) {
  const { error } = await asc.main([
    entry,
    '--outFile', file,
    '-O3', '--noAssert',
    '--runtime', 'stub',
    '--use', 'abort=', // nothing can abort: no import for it
    '--use', `JIT_HOOKS=${hooks}`,
    '--importTable', // the host grows it with translated units (assembly/jit.ts)
    '--initialMemory', '6', // CPU state below 64 KiB, the decode cache (256 KiB), the default 64 KiB of guest RAM
  ], { stdout: process.stdout, stderr: process.stderr });
  if (error) {
    console.error(error.message);
    process.exit(1);
  }
}
