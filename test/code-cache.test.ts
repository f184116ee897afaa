// The femtovm executable (src/cli/bin.ts) loads the CLI through V8's code cache on Node 20: the cache
// is written beside the bundle when a command ends, used as is while it fits the bundle, and made
// again when it does not (a changed bundle, a cache cut short); a directory it cannot write costs
// nothing but the cache.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdtempSync, readdirSync, readFileSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import Module from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';

import { root } from './support';

const builtIn = (Module as { enableCompileCache?: unknown }).enableCompileCache !== undefined;

test('dist/cli.js writes a code cache for the CLI bundle, keeps a good one, remakes a stale one', { skip: builtIn ? 'this Node caches compiled code itself (module.enableCompileCache)' : undefined }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'femtovm-cache-'));
  for (const file of ['cli.js', 'cli-main.js']) copyFileSync(join(root, 'dist', file), join(dir, file));
  const help = () => {
    const r = spawnSync(process.execPath, [join(dir, 'cli.js'), '--help'], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^Usage: femtovm/);
  };
  const cacheFile = join(dir, `cli-main.js.${process.version}-${process.arch}.v8cache`);
  const bundle = statSync(join(dir, 'cli-main.js'));

  help();
  const made = statSync(cacheFile);
  assert.ok(readFileSync(cacheFile).subarray(0, 64).toString('latin1').startsWith(`${bundle.size}:${bundle.mtimeMs}\n`));
  help(); // a cache V8 takes is not written again
  assert.equal(statSync(cacheFile).mtimeMs, made.mtimeMs);

  writeFileSync(cacheFile, readFileSync(cacheFile).subarray(0, 100)); // cut short: V8 rejects it
  help();
  assert.ok(statSync(cacheFile).size > made.size / 2, 'made again whole');

  utimesSync(join(dir, 'cli-main.js'), new Date(), new Date(bundle.mtimeMs + 5000)); // another bundle
  const changed = statSync(join(dir, 'cli-main.js'));
  help();
  assert.ok(readFileSync(cacheFile).toString('latin1').startsWith(`${changed.size}:${changed.mtimeMs}\n`));

  const readOnly = mkdtempSync(join(tmpdir(), 'femtovm-cache-ro-'));
  for (const file of ['cli.js', 'cli-main.js']) copyFileSync(join(root, 'dist', file), join(readOnly, file));
  chmodSync(readOnly, 0o555);
  const r = spawnSync(process.execPath, [join(readOnly, 'cli.js'), '--help'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  if (process.getuid?.() !== 0) assert.deepEqual(readdirSync(readOnly).sort(), ['cli-main.js', 'cli.js']); // root writes anywhere
});
