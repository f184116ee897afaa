// Builds dist/: the library and CLI bundled by esbuild (CommonJS, Node 20), each test file bundled
// on its own so the labs can run them with a bare `node --test`, and the public type declarations.
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { readdirSync, rmSync, existsSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const listTs = (dir) =>
  existsSync(join(root, dir))
    ? readdirSync(join(root, dir)).filter((f) => f.endsWith('.ts')).map((f) => join(root, dir, f))
    : [];

rmSync(join(root, 'dist'), { recursive: true, force: true });
const common = { bundle: true, platform: 'node', target: 'node20', format: 'cjs', sourcemap: 'linked', logLevel: 'warning' };
await build({
  ...common,
  entryPoints: {
    index: join(root, 'src/index.ts'),
    cli: join(root, 'src/cli/index.ts'),
    // Loaded by `femtovm bench` only (src/cli/bench.ts), so other commands start without it.
    bench: join(root, 'bench/index.ts'),
    'vcpu-agent': join(root, 'src/workers/vcpu-agent.ts'),
  },
  outdir: join(root, 'dist'),
  // Piscina starts its own worker entry from its package; bundling it would break that path. BullMQ
  // and ioredis stay packages too (loaded only when a queue is used, src/queue/).
  external: ['piscina', 'bullmq', 'ioredis'],
});
await build({
  ...common,
  entryPoints: listTs('test').filter((f) => f.endsWith('.test.ts')),
  outdir: join(root, 'dist/test'),
  external: ['piscina', 'bullmq', 'ioredis'],
});
// The adversarial suite (hostile guests, floods, misuse) in its own directory; `node --test dist/test/` finds it there.
await build({
  ...common,
  entryPoints: listTs('test/adversarial').filter((f) => f.endsWith('.test.ts')),
  outdir: join(root, 'dist/test/adversarial'),
  external: ['piscina'],
});
// The WebAssembly backend's A64 CPU (AssemblyScript).
execFileSync(process.execPath, [join(root, 'native/wasm/build.mjs'), join(root, 'dist/a64.wasm')], { stdio: 'inherit' });
// Type-check everything (strict), then emit the public declarations.
const tsc = join(root, 'node_modules/typescript/bin/tsc');
execFileSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.json'), '--noEmit'], { stdio: 'inherit' });
execFileSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.build.json')], { stdio: 'inherit' });
