/**
 * `femtovm run` runs its guest on the main thread (docs/architecture.md, "femtovm run"): shared by
 * run-in-thread.test.ts (the WebAssembly backend, any host) and run-in-thread.kvm.test.ts (KVM, on the
 * host where its KVM runs the arch, and in the labs). Every wait is for a condition (bytes seen, the
 * process gone), never a time.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcessByStdio } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { describe, test } from 'node:test';

import { createVm, type BackendKind, type GuestArch } from '../src/index';
import { loadAddon } from '../src/shared/addon';
import { floodGuest, printThenSpinGuest } from './adversarial/hostile';
import { cli } from './support';

type Cli = ChildProcessByStdio<null, Readable, Readable>;

export function runInThreadTests(arch: GuestArch, backend: BackendKind, skip: string | undefined): void {
  describe(`femtovm run on the main thread: ${backend} ${arch}`, { skip, timeout: 120_000 }, () => {
    const dir = mkdtempSync(join(tmpdir(), 'femtovm-in-thread-'));
    const image = (name: string, bytes: Uint8Array) => {
      const path = join(dir, `${name}.bin`);
      writeFileSync(path, bytes);
      return path;
    };
    const printThenSpin = image('print-then-spin', printThenSpinGuest(arch));
    const flood = image('flood', floodGuest(arch));
    const femtovm = (path: string, ...flags: string[]): Cli =>
      spawn(process.execPath, [cli, 'run', path, '--arch', arch, '--backend', backend, ...flags], { stdio: ['ignore', 'pipe', 'pipe'] });
    const exited = (child: Cli) => new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const collect = (stream: Readable) => {
      const text = { value: '' };
      stream.on('data', (chunk: Buffer) => (text.value += chunk.toString('latin1')));
      return text;
    };

    test('the console reaches stdout while the guest still runs; Ctrl-C then stops it and exits 130', async () => {
      const child = femtovm(printThenSpin);
      const stderr = collect(child.stderr);
      let out = '';
      child.stdout.on('data', (chunk: Buffer) => {
        out += chunk.toString('latin1');
        if (out === 'H') child.kill('SIGINT'); // the guest printed, so it runs: it never ends by itself
      });
      assert.equal(await exited(child), 130, stderr.value);
      assert.equal(out, 'H');
      assert.equal(stderr.value, '');
    });

    test('a stdout no one reads: --timeout still ends the command (124)', async () => {
      const child = femtovm(flood, '--timeout', '1000');
      const stderr = collect(child.stderr);
      // stdout is never read: like `| sleep 12`, the pipe fills and stays full.
      assert.equal(await exited(child), 124, stderr.value);
      assert.match(stderr.value, /timeout after \d+ exits/);
      child.stdout.destroy();
    });

    test('a reader that goes away (`| head -c 1`) ends the run; the command exits 0', async () => {
      const child = femtovm(flood); // no time limit: only the reader's going can end it
      const stderr = collect(child.stderr);
      child.stdout.once('data', () => child.stdout.destroy());
      assert.equal(await exited(child), 0, stderr.value);
    });

    test('no worker thread is started and Piscina is not loaded', () => {
      const probe = join(dir, 'probe.cjs');
      writeFileSync(
        probe,
        `const threads = require('node:worker_threads');
const Worker = threads.Worker;
threads.Worker = class extends Worker { constructor(...args) { process.stderr.write('a worker started\\n'); super(...args); } };
process.on('exit', () => { if (Object.keys(require.cache).some((p) => p.includes('piscina'))) process.stderr.write('piscina loaded\\n'); });
`,
      );
      const r = spawnSync(process.execPath, ['--require', probe, cli, 'run', printThenSpin, '--arch', arch, '--backend', backend, '--timeout', '200', '--json'], { encoding: 'utf8' });
      assert.equal(r.status, 124, r.stderr);
      assert.equal(r.stderr, '');
      assert.deepEqual([JSON.parse(r.stdout).outcome, JSON.parse(r.stdout).output], ['timeout', 'H']);
    });

    test('vm.run({ consoleFd }) writes every byte there, whatever maxOutputBytes keeps', () => {
      const file = join(dir, `console-${backend}.txt`);
      const fd = openSync(file, 'w');
      const vm = createVm({ arch, backend });
      try {
        vm.load(floodGuest(arch));
        const result = vm.run({ maxExits: 3000, maxOutputBytes: 100, consoleFd: fd });
        assert.equal(result.outcome, 'max-exits');
        assert.deepEqual([result.output.length, result.outputTruncated], [100, true]);
        const streamed = readFileSync(file, 'latin1');
        assert.equal(streamed.length, result.output.length + result.outputDropped);
        assert.match(streamed, /^A+$/);
        for (const bad of [-1, 1.5, 2 ** 31, '1']) {
          assert.throws(() => vm.run({ consoleFd: bad as number }), { code: 'ERR_INVALID_OPTION', message: /consoleFd/ });
        }
      } finally {
        vm.close();
        closeSync(fd);
      }
    });
  });
}

/** The addon's Ctrl-C stop on its own (no guest): it sets the word, one at a time, and gives SIGINT back when closed. */
export function sigintStopTests(): void {
  test('SigintStop: SIGINT sets the stop word; one per process; closing gives SIGINT back to Node', async () => {
    const addon = loadAddon();
    const words = new Int32Array(new SharedArrayBuffer(8));
    const stop = new addon.SigintStop(words, 1, 7, 0);
    try {
      assert.throws(() => new addon.SigintStop(words, 0, 1, 0), { code: 'ERR_VM_BUSY' });
      process.kill(process.pid, 'SIGINT');
      while (Atomics.load(words, 1) !== 7) await new Promise((resolve) => setImmediate(resolve));
    } finally {
      stop.close();
      stop.close();
    }
    assert.throws(() => new addon.SigintStop(words, 2, 1, 0), RangeError);
    const listened = new Promise((resolve) => process.once('SIGINT', resolve));
    const alive = setInterval(() => {}, 1000); // a signal listener does not keep the event loop alive by itself
    try {
      process.kill(process.pid, 'SIGINT');
      assert.equal(await listened, 'SIGINT');
    } finally {
      clearInterval(alive);
    }
  });
}
