/**
 * close() during a run ends that run first, and a busy VM refuses a second run: no VM's CPU serves
 * another while a run is on it.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { createVm, VmPool } from '../../src/index';
import { guest } from '../support';
import { backends, readEchoGuest } from './hostile';

for (const [arch, backend, skip] of backends) {
  describe(`VM lifecycle under misuse on ${backend} (${arch})`, { skip, timeout: 120_000 }, () => {
    test('close() from a device handler stops the run; the next VM runs its own guest on its own CPU', () => {
      for (let i = 0; i < 5; i++) {
        const first = createVm({ arch, backend });
        first.load(readEchoGuest(arch));
        let reads = 0;
        first.addDevice({ kind: 'mmio', base: 0x900, size: 1 }, {
          read: (_o, data) => {
            data[0] = 0x78;
            if (++reads === 3) first.close();
          },
        });
        const r = first.run({ timeoutMs: 10_000 });
        assert.equal(r.outcome, 'stopped');
        assert.equal(reads, 3, 'no access after close()');
        assert.throws(() => first.run(), { code: 'ERR_VM_CLOSED' });
        assert.throws(() => first.getRegister('pc'), { code: 'ERR_VM_CLOSED' });
        // A VM made next gets a CPU no run is on, and runs its own guest.
        const second = createVm({ arch, backend });
        try {
          second.load(guest(arch, 'hello.bin'));
          assert.equal(second.run({ timeoutMs: 10_000 }).output.toString(), 'Hello\n');
          assert.equal(reads, 3, 'the first run never resumed');
        } finally {
          second.close();
        }
      }
    });

    test("a busy RemoteVm's second run() is ERR_VM_BUSY, and stop() hits the run in progress", async () => {
      const pool = new VmPool({ maxThreads: 1 });
      try {
        const vm = await pool.createVm({ arch, backend });
        try {
          await vm.load(guest(arch, 'spin.bin'));
          const first = vm.run();
          await assert.rejects(vm.run(), { code: 'ERR_VM_BUSY' });
          await vm.stop();
          assert.equal((await first).outcome, 'stopped');
          // Idle again: a run is accepted, and a stop before it starts is not carried over.
          await vm.load(guest(arch, 'hello.bin'));
          assert.equal((await vm.run()).output.toString(), 'Hello\n');
        } finally {
          await vm.close();
        }
      } finally {
        await pool.close();
      }
    });
  });
}
