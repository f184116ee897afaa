/**
 * A guest that prints without end cannot grow the host's memory: console output is kept up to
 * `maxOutputBytes` and counted past it, in-thread and through the pool, on both backends. The flood
 * here is small (a bound of a few KiB proves the bound holds); `npm run flood:adversarial` prints
 * 140 M bytes (FEMTOVM_FLOOD_BYTES).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { createVm, DEFAULT_MAX_OUTPUT, VmPool } from '../../src/index';
import { backends, floodGuest, inLab } from './hostile';

const floodBytes = Number(process.env.FEMTOVM_FLOOD_BYTES ?? (inLab ? 5_000 : 50_000));

for (const [arch, backend, skip] of backends) {
  describe(`console output is bounded on ${backend} (${arch})`, { skip, timeout: 3_600_000 }, () => {
    // At ~8 µs a KVM exit on this nested host, a full-size flood is the WebAssembly CPU's (~20 s, not ~20 min).
    const tooSlow = floodBytes > 10_000_000 && backend === 'kvm' ? 'the full-size flood runs on the WebAssembly backend' : undefined;
    test(`a ${floodBytes}-byte flood keeps maxOutputBytes and counts the rest`, { skip: tooSlow }, () => {
      const vm = createVm({ arch, backend });
      try {
        vm.load(floodGuest(arch));
        const heapBefore = process.memoryUsage().heapUsed;
        const r = vm.run({ maxExits: floodBytes, maxOutputBytes: 1000 });
        assert.equal(r.outcome, 'max-exits');
        assert.equal(r.output.length, 1000);
        assert.equal(r.output.toString(), 'A'.repeat(1000));
        assert.equal(r.outputTruncated, true);
        assert.equal(r.outputDropped, floodBytes - 1000);
        if (floodBytes >= 10_000_000) assert.ok(process.memoryUsage().heapUsed - heapBefore < 64 << 20, 'the flood did not grow the heap');
        // A run within the bound is whole and says so; 0 keeps nothing.
        const small = vm.run({ maxExits: 10 });
        assert.deepEqual([small.output.length, small.outputTruncated, small.outputDropped], [10, false, 0]);
        const none = vm.run({ maxExits: 10, maxOutputBytes: 0 });
        assert.deepEqual([none.output.length, none.outputTruncated, none.outputDropped], [0, true, 10]);
      } finally {
        vm.close();
      }
    });

    test('the default bound is 1 MiB; a bad bound is ERR_INVALID_OPTION', () => {
      assert.equal(DEFAULT_MAX_OUTPUT, 1 << 20);
      const vm = createVm({ arch, backend });
      try {
        vm.load(floodGuest(arch));
        for (const bad of [-1, 1.5, Number.NaN, Infinity, '10', {}]) {
          assert.throws(() => vm.run({ maxExits: 10, maxOutputBytes: bad as number }), { code: 'ERR_INVALID_OPTION' }, String(bad));
        }
        if (!inLab) {
          const r = vm.run({ maxExits: DEFAULT_MAX_OUTPUT + 5 });
          assert.deepEqual([r.output.length, r.outputDropped], [DEFAULT_MAX_OUTPUT, 5]);
        }
      } finally {
        vm.close();
      }
    });

    test('through the pool: pool.run and a RemoteVm keep the bound on the worker', async () => {
      const pool = new VmPool({ maxThreads: 1 });
      try {
        const r = await pool.run(floodGuest(arch), { arch, backend, maxExits: 5000, maxOutputBytes: 100 });
        assert.deepEqual([r.output.length, r.outputTruncated, r.outputDropped], [100, true, 4900]);
        const vm = await pool.createVm({ arch, backend });
        try {
          await vm.load(floodGuest(arch));
          const remote = await vm.run({ maxExits: 5000, maxOutputBytes: 10 });
          assert.deepEqual([remote.output.length, remote.outputDropped], [10, 4990]);
        } finally {
          await vm.close();
        }
      } finally {
        await pool.close();
      }
    });
  });
}
