/**
 * Interrupts through an irqfd (VmOptions.irqfd, KVM_IRQFD, native/kvm_irqfd.h): on each in-kernel
 * irqchip KVM offers (aarch64 vGICv3; x86 full and split), interrupt() and the `interrupt` native
 * device signal an eventfd KVM injects from, the guest takes each interrupt and ends it (EOI); how
 * many arrive, what happens without an in-kernel irqchip, and that the eventfd goes with the VM.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { ConfigError, createVm, INTERRUPT_ACK, type GuestArch, type VmEvent, type VmOptions } from '../src/index';
import { platforms, ramLayout } from '../src/shared/platform';
import { KvmBackend } from '../src/workers/kvm-backend';
import { guest, kvmSkipReason, processResources, testPool, withVm } from './support';

const countRegister: Record<GuestArch, string> = { aarch64: 'x0', x86_64: 'rcx' };

const irqchips: [GuestArch, 'kernel' | 'split', string][] = [
  ['aarch64', 'kernel', 'irq-count-gic.bin'],
  ['x86_64', 'kernel', 'irq-count-lapic.bin'],
  ['x86_64', 'split', 'irq-count-lapic.bin'],
];

for (const [arch, irqchip, countGuest] of irqchips) {
  const options: VmOptions = { irqchip, irqfd: true, ...(arch === 'x86_64' && { x86Mode: 'long' as const }) };
  // x86: with the LAPIC in KVM every `hlt` waits inside KVM, so the guest's report (its last exit) ends the run.
  const selfEnding = arch === 'aarch64';
  describe(`irqfd with irqchip '${irqchip}': kvm ${arch}`, { skip: kvmSkipReason(arch), timeout: 300_000 }, () => {
    test('irqfd-pingpong: each request signals the irqfd in the loop, KVM injects, the guest takes and ends it: N interrupts, one exit each', () => {
      const n = 200;
      const r = withVm(arch, 'kvm', 'irqfd-pingpong.bin', options, (vm) => {
        const reports: number[] = [];
        vm.addNativeDevice({ kind: 'mmio', base: 0x908, size: 4 }, { type: 'interrupt' });
        vm.addDevice({ kind: 'mmio', base: 0x900, size: 4 }, { write: (_o, d) => void reports.push(Buffer.from(d).readUInt32LE(0)) });
        vm.setRegister(countRegister[arch], n);
        return { ...vm.run({ timeoutMs: 60_000, ...(!selfEnding && { maxExits: n + 1 }) }), reports };
      });
      assert.equal(r.outcome, selfEnding ? 'system-off' : 'max-exits');
      assert.deepEqual(r.reports, [n]);
      // The requests and the report (aarch64: and PSCI SYSTEM_OFF); the interrupt, its EOI and the
      // sleep until it came stay in KVM.
      assert.equal(r.exits, selfEnding ? n + 2 : n + 1);
    });

    test('from the main thread while the guest runs on a worker: N interrupts, each taken, then the count', async () => {
      const n = 5;
      const pool = testPool({ maxThreads: 1 });
      try {
        const vm = await pool.createVm({ arch, backend: 'kvm', events: true, unhandled: 'ignore', ...options });
        await vm.load(guest(arch, countGuest));
        await vm.setRegister(countRegister[arch], n);
        const events: Pick<VmEvent, 'address' | 'data'>[] = [];
        const consumer = (async () => {
          for await (const batch of vm.events()) {
            for (const { address, data } of batch) {
              events.push({ address, data });
              // The guest still writes 0x9f8 when it takes one (an irqfd needs no acknowledge): the
              // next interrupt goes once it has taken the last, or the two would be one edge.
              if (address === INTERRUPT_ACK && Number(data) + 1 < n) vm.interrupt();
              if (address === 0x900 && !selfEnding) void vm.stop();
            }
          }
        })();
        const run = vm.run({ timeoutMs: 120_000 });
        vm.interrupt(); // KVM holds it pending wherever the run is by now
        const result = await run;
        await vm.close();
        await consumer;
        assert.equal(result.outcome, selfEnding ? 'system-off' : 'stopped');
        const expected = [...Array.from({ length: n }, (_, i) => ({ address: INTERRUPT_ACK, data: BigInt(i) })), { address: 0x900, data: BigInt(n) }];
        assert.deepEqual(events, expected);
      } finally {
        await pool.close();
      }
    });

    test('interrupts signalled before the guest takes one are one: an irqfd is an edge', () => {
      const r = withVm(arch, 'kvm', countGuest, options, (vm) => {
        const reports: number[] = [];
        vm.addDevice({ kind: 'mmio', base: 0x900, size: 4 }, { write: (_o, d) => void reports.push(Buffer.from(d).readUInt32LE(0)) });
        vm.setRegister(countRegister[arch], 2);
        for (let i = 0; i < 3; i++) vm.interrupt();
        const first = vm.run({ timeoutMs: 60_000, maxExits: 1 }); // to the acknowledge of the one interrupt
        // Three edges made one: the guest sleeps for a second interrupt until the run's time is up.
        const asleep = { ...vm.run({ timeoutMs: 300 }), reports: reports.length };
        vm.interrupt();
        const last = vm.run({ timeoutMs: 60_000, ...(!selfEnding && { maxExits: 2 }) }); // its acknowledge, the report
        return { first, asleep, last, reports };
      });
      assert.equal(r.first.outcome, 'max-exits');
      assert.equal(r.asleep.outcome, 'timeout');
      assert.equal(r.asleep.reports, 0);
      assert.equal(r.last.outcome, selfEnding ? 'system-off' : 'max-exits');
      assert.deepEqual(r.reports, [2]);
    });

    test('no fd left behind: the eventfd goes with the VM, whether it ran or not', () => {
      const before = processResources().fds;
      for (let i = 0; i < 20; i++) createVm({ arch, backend: 'kvm', ...options }).close();
      withVm(arch, 'kvm', countGuest, options, (vm) => {
        vm.addDevice({ kind: 'mmio', base: 0x900, size: 8 }, { write: () => {} });
        vm.setRegister(countRegister[arch], 1);
        vm.interrupt();
        assert.ok(processResources().fds > before, 'an open VM holds fds');
        return vm.run({ timeoutMs: 60_000, maxExits: 2 });
      });
      assert.equal(processResources().fds, before);
    });
  });
}

describe('irqfd: what it needs is typed', () => {
  test('without an in-kernel irqchip (the default, and the only one on wasm): ConfigError ERR_INVALID_OPTION', () => {
    const needsIrqchip = (e: unknown) => e instanceof ConfigError && e.code === 'ERR_INVALID_OPTION' && /irqfd needs an in-kernel irqchip/.test(e.message);
    // KVM for the arch this host's KVM runs (another arch fails earlier, BackendUnavailableError).
    for (const arch of (['aarch64', 'x86_64'] as const).filter((a) => kvmSkipReason(a) === undefined)) {
      assert.throws(() => createVm({ arch, backend: 'kvm', irqfd: true }), needsIrqchip);
      assert.throws(() => createVm({ arch, backend: 'kvm', irqchip: 'user', irqfd: true }), needsIrqchip);
    }
    assert.throws(() => createVm({ arch: 'aarch64', backend: 'wasm', irqfd: true }), needsIrqchip);
    createVm({ arch: 'aarch64', backend: 'wasm', irqfd: false }).close();
  });

  for (const arch of ['aarch64', 'x86_64'] as const) {
    test(`the native core refuses it too (${arch}): ERR_INVALID_OPTION, the half-made VM released`, { skip: kvmSkipReason(arch) }, () => {
      const boot = { layout: ramLayout(arch, platforms[arch].defaultMem, 'real'), entry: platforms[arch].loadAddr, x86LongMode: false, irqchip: 'user' as const, irqfd: true, jit: {} };
      const before = processResources().fds;
      assert.throws(() => new KvmBackend(arch, boot), (e) => e instanceof ConfigError && e.code === 'ERR_INVALID_OPTION' && /an irqfd needs an in-kernel irqchip/.test(e.message));
      assert.equal(processResources().fds, before);
    });
  }

  test('irqfd is a boolean', () => {
    assert.throws(() => createVm({ arch: 'aarch64', backend: 'wasm', irqfd: 1 as unknown as boolean }), (e) => e instanceof ConfigError && e.code === 'ERR_INVALID_OPTION' && /boolean/.test(e.message));
  });

  test('on a worker the pool rejects it the same way, and the worker stays usable', async () => {
    const pool = testPool({ maxThreads: 1 });
    try {
      await assert.rejects(pool.createVm({ arch: 'aarch64', backend: 'wasm', irqfd: true }), (e) => e instanceof ConfigError && e.code === 'ERR_INVALID_OPTION');
      const vm = await pool.createVm({ arch: 'aarch64', backend: 'wasm' });
      await vm.close();
    } finally {
      await pool.close();
    }
  });
});
