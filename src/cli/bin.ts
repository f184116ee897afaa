#!/usr/bin/env -S node --no-sparkplug --no-wasm-code-gc
/**
 * The femtovm executable (dist/cli.js): loads the CLI (src/cli/index.ts, bundled as dist/cli-main.js)
 * through V8's code cache, so a command does not compile the whole bundle again at every start
 * (~25 ms of `femtovm run`'s ~100 here). Node 22 has this built in (module.enableCompileCache);
 * on Node 20 the cache is made here with vm.Script: written beside the bundle when a command ends
 * (holding every function that command ran), used while the bundle, Node and V8's flags are the
 * same. A cache that cannot be written (a read-only install) or that V8 rejects costs only the
 * compile it would have saved. Node's builtins only: this file runs before anything is cached.
 * The first line starts node with the V8 flags the translator needs (src/shared/v8-flags.ts).
 */
import { readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import Module, { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { Script } from 'node:vm';

const bundle = join(__dirname, 'cli-main.js');
const builtIn = (Module as { enableCompileCache?: () => unknown }).enableCompileCache;
if (builtIn !== undefined) {
  builtIn();
  require(bundle);
} else {
  runCached(bundle);
}

/** Runs a CommonJS file as `require` would, compiled from its code cache when there is a good one. */
function runCached(path: string): void {
  const source = readFileSync(path, 'utf8');
  const { size, mtimeMs } = statSync(path);
  const cacheFile = `${path}.${process.version}-${process.arch}.v8cache`;
  // The bundle the cache was made from: V8 itself checks only the source's length.
  const key = Buffer.from(`${size}:${mtimeMs}\n`);
  let cachedData: Buffer | undefined;
  try {
    const file = readFileSync(cacheFile);
    if (file.subarray(0, key.length).equals(key)) cachedData = file.subarray(key.length);
  } catch {
    // no cache yet
  }
  const script = new Script(Module.wrap(source), { filename: path, ...(cachedData && { cachedData }) });
  if (cachedData === undefined || script.cachedDataRejected === true) process.once('exit', () => saveCache(script, cacheFile, key));
  const loaded = new Module(path);
  loaded.filename = path;
  (script.runInThisContext() as (exports: unknown, require: NodeRequire, module: Module, filename: string, dirname: string) => void)(
    loaded.exports,
    createRequire(path),
    loaded,
    path,
    dirname(path),
  );
}

/** Writes the cache whole or not at all (a temporary file, renamed): commands may end at once. */
function saveCache(script: Script, cacheFile: string, key: Buffer): void {
  const temporary = `${cacheFile}.${process.pid}`;
  try {
    writeFileSync(temporary, Buffer.concat([key, script.createCachedData()]));
    renameSync(temporary, cacheFile);
  } catch {
    // a read-only install: every start compiles, as without a cache
  }
}
