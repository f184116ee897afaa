/**
 * Guest addresses at or above 2^53 are reported exactly (a double cannot hold them): in the error of
 * an access no device claims and in the events, on the WebAssembly CPU, whose guests can reach them.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { createVm, GuestError, VmPool } from '../../src/index';
import { inLab, topStoreGuest } from './hostile';

const top = 0xffff_ffff_ffff_fff8n;
// With the MMU on (the default start state) the identity map ends at 2^39 and a store this high takes a
// translation fault in the guest: MMU off is where such an address reaches the VMM.
const arm64Start = 'mmu-off';

describe('addresses above 2^53', { skip: inLab ? 'the WebAssembly backend is tested on the host, not in the lab' : undefined }, () => {
  test('an unclaimed store to 0xfffffffffffffff8: the error names it exactly', () => {
    const vm = createVm({ arch: 'aarch64', backend: 'wasm', arm64Start });
    try {
      vm.load(topStoreGuest());
      assert.throws(
        () => vm.run({ timeoutMs: 5000 }),
        (e: unknown) => e instanceof GuestError && e.code === 'ERR_UNHANDLED_ACCESS' && e.access?.exactAddress === top && e.message.includes('0xfffffffffffffff8'),
      );
    } finally {
      vm.close();
    }
  });

  test('its event carries the exact address (as bigint, and as two 32-bit halves without allocating)', async () => {
    const pool = new VmPool({ maxThreads: 1 });
    try {
      const vm = await pool.createVm({ arch: 'aarch64', backend: 'wasm', arm64Start, events: true, unhandled: 'ignore' });
      try {
        await vm.load(topStoreGuest());
        const seen = (async () => {
          for await (const batch of vm.eventViews()) if (batch.length > 0) return [batch.exactAddress(0), batch.addressHi(0), batch.addressLo(0), batch.event(0).exactAddress];
          return [];
        })();
        await vm.run({ maxExits: 1 });
        await vm.close();
        assert.deepEqual(await seen, [top, 0xffffffff, 0xfffffff8, top]);
      } finally {
        await vm.close();
      }
    } finally {
      await pool.close();
    }
  });
});
