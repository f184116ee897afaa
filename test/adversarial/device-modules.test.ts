/**
 * A device module (code on a VM's thread) that throws where no access awaits it ends only its own
 * VM; one stuck in a loop is ended by the time limit, stop() or close(): its thread is terminated
 * (ERR_THREAD_TERMINATED), and the pool goes on.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';

import { GuestError, PoolError, VmPool, type RemoteVm } from '../../src/index';
import { guest } from '../support';
import { backends, readEchoGuest } from './hostile';

const dir = mkdtempSync(join(tmpdir(), 'femtovm-modules-'));
const module = (name: string, source: string) => {
  const path = join(dir, `${name}.js`);
  writeFileSync(path, source);
  return path;
};
// Throws from a timer, again and again, from its first access on: long after its VM is gone.
const timerThrow = module('timer-throw', "module.exports = () => ({ read: (_o, d) => { d[0] = 0x41; setInterval(() => { throw new Error('late failure'); }, 2); } });\n");
const rejecting = module('rejecting', "module.exports = () => ({ read: (_o, d) => { d[0] = 0x41; Promise.reject(new Error('rejected later')); } });\n");
// Says it is stuck (a word in shared memory) before it loops forever.
const stuck = module('stuck', 'module.exports = (flag) => ({ read: () => { Atomics.store(new Int32Array(flag), 0, 1); for (;;); } });\n');
const range = { kind: 'mmio', base: 0x900, size: 1 } as const;

/** Calls the VM until one rejects (the failure arrives with the thread's next turn), at most `tries` times. */
async function failureOf(vm: RemoteVm, tries = 200): Promise<unknown> {
  for (let i = 0; i < tries; i++) {
    try {
      await vm.registers();
    } catch (error) {
      return error;
    }
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return undefined;
}

for (const [arch, backend, skip] of backends) {
  describe(`device modules that misbehave on ${backend} (${arch})`, { skip, timeout: 300_000 }, () => {
    for (const [what, path] of [['a throw from a timer', timerThrow], ['an unhandled rejection', rejecting]] as const) {
      test(`${what} ends its own VM (ERR_HANDLER_THREW); VMs created later on the thread are untouched`, async () => {
        const pool = new VmPool({ maxThreads: 1 });
        try {
          const vm = await pool.createVm({ arch, backend });
          await vm.load(readEchoGuest(arch));
          await vm.addDeviceModule(range, path);
          assert.equal((await vm.run({ maxExits: 2 })).output.toString().length >= 0, true);
          const failure = await failureOf(vm);
          assert.ok(failure instanceof GuestError, String(failure));
          assert.equal(failure.code, 'ERR_HANDLER_THREW');
          await assert.rejects(vm.run(), { code: 'ERR_HANDLER_THREW' });
          await vm.close();
          // The same thread (maxThreads 1) serves ten more VMs while the module's timer still throws.
          for (let i = 0; i < 10; i++) {
            const next = await pool.createVm({ arch, backend });
            try {
              await next.load(guest(arch, 'hello.bin'));
              assert.equal((await next.run()).output.toString(), 'Hello\n');
            } finally {
              await next.close();
            }
            assert.equal((await pool.run(guest(arch, 'hello.bin'), { arch, backend })).output.toString(), 'Hello\n');
          }
        } finally {
          await pool.close();
        }
      });
    }

    test('a module stuck in a loop: the time limit, stop() and pool.close() each end it with ERR_THREAD_TERMINATED', async () => {
      const pool = new VmPool({ maxThreads: 1, stopGraceMs: 200 });
      const flag = new Int32Array(new SharedArrayBuffer(4));
      const stuckVm = async () => {
        const vm = await pool.createVm({ arch, backend });
        await vm.load(readEchoGuest(arch));
        Atomics.store(flag, 0, 0);
        await vm.addDeviceModule(range, stuck, flag.buffer);
        return vm;
      };
      const whenStuck = async () => {
        while (Atomics.load(flag, 0) === 0) await new Promise((resolve) => setTimeout(resolve, 5));
      };
      try {
        const timed = await stuckVm();
        await assert.rejects(timed.run({ timeoutMs: 100 }), (e: unknown) => e instanceof PoolError && e.code === 'ERR_THREAD_TERMINATED');
        await assert.rejects(timed.registers(), { code: 'ERR_THREAD_TERMINATED' });
        await timed.close();

        const stopped = await stuckVm();
        const run = stopped.run();
        await whenStuck();
        await stopped.stop();
        await assert.rejects(run, { code: 'ERR_THREAD_TERMINATED' });
        await stopped.close();

        // The pool goes on with a new thread.
        assert.equal((await pool.run(guest(arch, 'hello.bin'), { arch, backend })).output.toString(), 'Hello\n');
        const closing = await stuckVm();
        const pending = closing.run();
        pending.catch(() => {});
        await whenStuck();
        await pool.close(); // settles
        await assert.rejects(pending, { code: 'ERR_THREAD_TERMINATED' });
      } finally {
        await pool.close();
      }
    });
  });
}
