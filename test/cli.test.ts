// The CLI's first-run behaviour on any host (the wasm backend, aarch64 guests): usage errors exit 2
// naming the flag, a bad image reports its own error, --json errors name the backend that would have
// run, durations are rounded, and Ctrl-C exits 130.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';

import { packageRoot } from '../src/shared/addon';

const root = packageRoot();
const cli = join(root, 'dist', 'cli.js');
const hello = join(root, 'guests', 'aarch64', 'hello.bin');
const femtovm = (...args: string[]) => spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8' });

test('usage errors exit 2 and say which flag is wrong, from every command', () => {
  const cases: [string[], RegExp][] = [
    [['run', hello, '--backend', 'wasm', '--timeout', '0'], /--timeout must be a number > 0, not "0"/],
    [['run', hello, '--backend', 'wasm', '--max-exits', '0'], /--max-exits must be a whole number ≥ 1, not "0"/],
    [['run', hello, '--backend', 'wasm', '--entry', '1.5'], /--entry must be a whole number ≥ 0, not "1.5"/],
    [['run', hello, '--backend', 'wasm', '--stop-on-byte', '256'], /--stop-on-byte must be a whole number ≥ 0 and ≤ 255/],
    [['run', hello, '--x86-mode', 'long'], /--x86-mode applies to x86_64 guests, and this one is aarch64/],
    [['swarm', hello, '--backend', 'wasm', '--count', '0'], /--count must be a whole number ≥ 1, not "0"/],
    [['swarm', hello, '--backend', 'wasm', '--count', '3', '--concurrency', '0'], /--concurrency must be a whole number ≥ 1/],
    [['bench', 'nosuch'], /unknown suite nosuch/],
    [['nosuch'], /unknown command 'nosuch'/],
    [['run'], /missing required argument 'image'/],
  ];
  for (const [args, message] of cases) {
    const r = femtovm(...args);
    assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, message, args.join(' '));
  }
  assert.equal(femtovm('--help').status, 0);
});

test('a bad image reports its own error, whatever arch was guessed; --json names the backend that would have run', () => {
  const dir = mkdtempSync(join(tmpdir(), 'femtovm-cli-'));
  const empty = join(dir, 'empty.bin');
  writeFileSync(empty, '');
  const truncatedElf = join(dir, 'truncated.elf');
  writeFileSync(truncatedElf, Buffer.from([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0]));
  for (const [path, code] of [[empty, 'ERR_IMAGE_EMPTY'], [truncatedElf, 'ERR_ELF_TRUNCATED']] as const) {
    const r = femtovm('run', path);
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stderr, new RegExp(`^femtovm: ${code}: `));
  }
  const truncated = femtovm('run', truncatedElf, '--backend', 'wasm', '--json');
  assert.match(JSON.parse(truncated.stdout).error.message, /would run to byte 64, past the file's 8/);
  // With --backend wasm and no other hint, a flat image is taken as aarch64 (all the wasm CPU runs).
  const random = join(dir, 'random.bin');
  writeFileSync(random, Buffer.alloc(64, 0xff));
  const json = JSON.parse(femtovm('run', random, '--backend', 'wasm', '--timeout', '500', '--json').stdout);
  assert.equal(json.arch, 'aarch64');
  assert.equal(json.backend, 'wasm');
  const missing = JSON.parse(femtovm('run', join(dir, 'nosuch.bin'), '--arch', 'aarch64', '--backend', 'wasm', '--json').stdout);
  assert.deepEqual([missing.backend, missing.arch, missing.error.code], ['wasm', 'aarch64', 'ERR_IMAGE_NOT_FOUND']);
});

test('--json rounds durationMs to the microsecond', () => {
  const json = JSON.parse(femtovm('run', hello, '--backend', 'wasm', '--json').stdout);
  assert.equal(json.output, 'Hello\n');
  // At most three decimals as printed (a float's product by 1000 may be off in the last bit).
  assert.match(String(json.durationMs), /^\d+(\.\d{1,3})?$/);
});

test('Ctrl-C stops a running guest and exits 130, as swarm does', async () => {
  // seed-hello prints Hello, then runs on into zeroed RAM forever: interrupt once it has printed.
  const child = spawn(process.execPath, [cli, 'run', join(root, 'guests', 'aarch64', 'seed-hello.bin'), '--backend', 'wasm'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d) => {
    out += d;
    if (out.includes('Hello\n') && !child.killed) child.kill('SIGINT');
  });
  const status = await new Promise((resolve) => child.on('exit', resolve));
  assert.equal(status, 130);
  assert.equal(out, 'Hello\n');
});

test('swarm of no runs prints numbers, not NaN', () => {
  const r = femtovm('swarm', hello, '--backend', 'wasm', '--count', '1', '--json');
  assert.equal(r.status, 0, r.stderr);
  const summary = JSON.parse(r.stdout);
  assert.ok(Number.isFinite(summary.latencyMs.p50) && Number.isFinite(summary.vmsPerSecond));
});
