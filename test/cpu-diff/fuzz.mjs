// npm run fuzz:cpu -- --cases N --seed S: builds the wasm CPU, bundles fuzz-main.ts, runs it.
import { build } from 'esbuild';
import { execFileSync, spawnSync } from 'node:child_process';
import { join } from 'node:path';

const root = new URL('../..', import.meta.url).pathname;
execFileSync(process.execPath, [join(root, 'native/wasm/build.mjs'), join(root, 'dist/a64.wasm')], { stdio: 'inherit' });
const out = join(root, 'node_modules/.cache/femtovm/cpu-fuzz.cjs');
await build({
  entryPoints: [join(root, 'test/cpu-diff/fuzz-main.ts')],
  bundle: true, platform: 'node', target: 'node20', format: 'cjs', outfile: out, logLevel: 'warning',
});
process.exit(spawnSync(process.execPath, [out, ...process.argv.slice(2)], { stdio: 'inherit' }).status ?? 1);
