/**
 * Time limits hold whatever a run waits on: a full event ring no one reads, a main-thread device
 * that does not answer, stdout that no one drains (`femtovm run --timeout … | sleep 12`).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';

import { VmPool } from '../../src/index';
import { RunInterrupted } from '../../src/shared/devices';
import { createMailbox, DATA_OFFSET, MailboxState, MailboxWord } from '../../src/shared/mailbox';
import { MailboxServer } from '../../src/host/mailbox-server';
import { mailboxDevice } from '../../src/workers/mailbox-device';
import { RunWatch } from '../../src/workers/run-watch';
import { cli } from '../support';
import { backends, floodGuest, inLab, readEchoGuest } from './hostile';

for (const [arch, backend, skip] of backends) {
  describe(`time limits on ${backend} (${arch})`, { skip, timeout: 120_000 }, () => {
    test('a full event ring with no reader: the run ends `timeout`, not never', async () => {
      const pool = new VmPool({ maxThreads: 1 });
      try {
        const vm = await pool.createVm({ arch, backend, events: true, ringCapacity: 64 });
        try {
          await vm.load(floodGuest(arch));
          // 64 exits fill the ring; no one reads it, so the next run waits for space from its first exit.
          assert.equal((await vm.run({ maxExits: 64 })).outcome, 'max-exits');
          assert.equal(vm.eventSummary().pending, 64);
          const r = await vm.run({ timeoutMs: 300 });
          assert.equal(r.outcome, 'timeout');
          assert.ok(r.exits <= 1, `${r.exits} exits`);
          assert.equal(vm.eventSummary().pending, 64, 'the ring stayed full');
          // And stop() ends such a run too.
          const run = vm.run();
          await new Promise((resolve) => setTimeout(resolve, 50));
          await vm.stop();
          assert.equal((await run).outcome, 'stopped');
        } finally {
          await vm.close();
        }
      } finally {
        await pool.close();
      }
    });

    test('a main-thread device that does not answer in time: the run ends at its limit without the answer', async () => {
      const pool = new VmPool({ maxThreads: 1 });
      try {
        const vm = await pool.createVm({ arch, backend });
        try {
          await vm.load(readEchoGuest(arch));
          let calls = 0;
          const blockMs = inLab ? 6000 : 3000;
          await vm.addDevice({ kind: 'mmio', base: 0x900, size: 1 }, {
            read: (_offset, data) => {
              calls++;
              const until = Date.now() + blockMs; // the main thread itself is stuck: no answer, no stop() can come
              while (Date.now() < until);
              data[0] = 0x42;
            },
          });
          const r = await vm.run({ timeoutMs: 200 });
          assert.equal(r.outcome, 'timeout');
          assert.equal(calls, 1);
          assert.ok(r.durationMs < blockMs, `the run waited for the answer: ${r.durationMs} ms`);
          assert.equal(r.output.length, 0, 'the abandoned answer never reached the guest');
          // The mailbox is usable again: the next run gets its answers.
          const next = await vm.run({ maxExits: 2, timeoutMs: blockMs * 3 });
          assert.equal(next.outcome, 'max-exits');
        } finally {
          await vm.close();
        }
      } finally {
        await pool.close();
      }
    });
  });
}

describe('the mailbox wait honours the run watch', () => {
  test('no one serving: a deadline ends the wait `timeout`, a stop word `stopped`; the server then drops the abandoned request', async () => {
    const mailbox = createMailbox();
    const words = new Int32Array(mailbox, 0, DATA_OFFSET / 4);
    const watch = new RunWatch();
    const device = mailboxDevice(mailbox, 0, watch);
    watch.begin(30, undefined);
    assert.throws(() => device.read!(0, new Uint8Array(1)), (e: unknown) => e instanceof RunInterrupted && e.outcome === 'timeout');
    assert.equal(Atomics.load(words, MailboxWord.State), MailboxState.Abandoned);
    // The server finds it abandoned: nothing answered, the mailbox is idle again.
    let called = 0;
    const server = new MailboxServer(mailbox, [{ read: () => void called++ }], () => {});
    while (Atomics.load(words, MailboxWord.State) !== MailboxState.Idle) await new Promise((resolve) => setTimeout(resolve, 5));
    assert.equal(called, 0);
    server.close();
    await server.done;
    // A stop word set by another thread ends the wait too.
    const fresh = createMailbox();
    const stop = new Int32Array(new SharedArrayBuffer(4));
    const stopped = mailboxDevice(fresh, 0, watch);
    watch.begin(0, { words: stop, index: 0, value: 7 });
    Atomics.store(stop, 0, 7); // as the pool's stop protocol sets it (this thread cannot set it while it waits)
    assert.throws(() => stopped.write!(0, new Uint8Array(1)), (e: unknown) => e instanceof RunInterrupted && e.outcome === 'stopped');
  });
});

describe('femtovm run with a reader that never reads', { skip: inLab ? 'the CLI is tested on the host' : undefined }, () => {
  test('--timeout ends the command even when stdout never drains', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'femtovm-flood-'));
    const image = join(dir, 'flood.bin');
    writeFileSync(image, floodGuest('aarch64'));
    const child = spawn(process.execPath, [cli, 'run', image, '--arch', 'aarch64', '--backend', 'wasm', '--timeout', '1000'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    // stdout is never read: like `| sleep 12`, the pipe fills and stays full.
    const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
    assert.equal(code, 124, stderr);
    assert.match(stderr, /timeout/);
    child.stdout.destroy();
  });
});
