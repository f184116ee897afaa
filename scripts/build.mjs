// Builds dist/: the library and CLI bundled by esbuild (CommonJS, Node 20), each test file bundled
// on its own so the labs can run them with a bare `node --test`, and the public type declarations.
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const listTs = (dir) =>
  existsSync(join(root, dir))
    ? readdirSync(join(root, dir)).filter((f) => f.endsWith('.ts')).map((f) => join(root, dir, f))
    : [];

// commander loads node:child_process as it starts, for executable subcommands (femtovm has none):
// ~10 ms of every command's start. It is loaded when commander would spawn instead.
const lazyChildProcess = {
  name: 'lazy-child-process',
  setup(b) {
    b.onLoad({ filter: /[\\/]commander[\\/]lib[\\/]command\.js$/ }, (args) => {
      const source = readFileSync(args.path, 'utf8');
      const eager = "const childProcess = require('node:child_process');";
      if (!source.includes(eager)) throw new Error(`${args.path}: commander no longer loads child_process as expected`);
      return { contents: source.replace(eager, "const childProcess = { spawn: (...a) => require('node:child_process').spawn(...a) };"), loader: 'js' };
    });
  },
};

rmSync(join(root, 'dist'), { recursive: true, force: true });
const common = { bundle: true, platform: 'node', target: 'node20', format: 'cjs', sourcemap: 'linked', logLevel: 'warning' };
await build({
  ...common,
  entryPoints: {
    index: join(root, 'src/index.ts'),
    // The executable is a small loader (code cache); the CLI itself is cli-main.
    cli: join(root, 'src/cli/bin.ts'),
    'cli-main': join(root, 'src/cli/index.ts'),
    // Loaded by `femtovm bench` only (src/cli/bench.ts), so other commands start without it.
    bench: join(root, 'bench/index.ts'),
    'vcpu-agent': join(root, 'src/workers/vcpu-agent.ts'),
  },
  outdir: join(root, 'dist'),
  // Piscina starts its own worker entry from its package; bundling it would break that path. BullMQ
  // and ioredis stay packages too (loaded only when a queue is used, src/queue/).
  external: ['piscina', 'bullmq', 'ioredis'],
  plugins: [lazyChildProcess],
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
