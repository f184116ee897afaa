/**
 * Every way a guest talks to its VMM besides an exit per access: coalesced (exit-free) writes,
 * doorbells and interrupts, on KVM for each guest arch (host KVM where it runs that arch, else the
 * labs) and on the WebAssembly backend, which must give the same outputs, outcomes and events.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { ConfigError, createVm, GuestError, INTERRUPT_ACK, VmPool, type BackendKind, type GuestArch, type VmEvent, type VmOptions } from '../src/index';
import { guest, kvmSkipReason, processResources, withVm } from './support';

interface ArchCase {
  end: 'halted' | 'system-off';
  countRegister: string;
}

const cases: Record<GuestArch, ArchCase> = {
  x86_64: { end: 'halted', countRegister: 'rcx' },
  aarch64: { end: 'system-off', countRegister: 'x0' },
};

const backends: [GuestArch, BackendKind][] = [['x86_64', 'kvm'], ['aarch64', 'kvm'], ['aarch64', 'wasm']];

function skipFor(arch: GuestArch, backend: BackendKind): string | undefined {
  if (backend === 'kvm') return kvmSkipReason(arch);
  return process.env.FEMTOVM_LAB ? 'the WebAssembly backend is tested on the host, not in the lab' : undefined;
}

/** Every event of a pooled VM's run, time stamps left out. */
async function eventsOf(vm: { events(): AsyncGenerator<VmEvent[]> }): Promise<Omit<VmEvent, 'timeNs'>[]> {
  const all: Omit<VmEvent, 'timeNs'>[] = [];
  for await (const batch of vm.events()) for (const { timeNs: _t, ...e } of batch) all.push(e);
  return all;
}

for (const [arch, backend] of backends) {
  const c = cases[arch];
  describe(`coalesced writes: ${backend} ${arch}`, { skip: skipFor(arch, backend), timeout: 300_000 }, () => {
    test('hello with a coalesced console: the same output, one exit (the guest ending itself)', () => {
      const r = withVm(arch, backend, 'hello.bin', { coalescedConsole: true }, (vm) => vm.run({ timeoutMs: 10_000 }));
      assert.equal(r.output.toString(), 'Hello\n');
      assert.equal(r.outcome, c.end);
      assert.equal(r.exits, 1);
    });

    test('a coalesced device gets every write, in order, with far fewer exits than one per write', () => {
      const count = 1000;
      const run = (coalesced: boolean) =>
        withVm(arch, backend, 'mmio-loop.bin', {}, (vm) => {
          const seen: number[] = [];
          vm.addDevice({ kind: 'mmio', base: 0x900, size: 8 }, { write: (_o, d) => void seen.push(Buffer.from(d).readUInt32LE(0)) }, { coalesced });
          vm.setRegister(c.countRegister, count);
          return { seen, result: vm.run({ timeoutMs: 30_000 }) };
        });
      const plain = run(false);
      const coalesced = run(true);
      assert.deepEqual(coalesced.seen, plain.seen);
      assert.deepEqual(coalesced.seen.slice(0, 3), [count, count - 1, count - 2]);
      assert.equal(coalesced.result.outcome, c.end);
      assert.equal(plain.result.exits, count + 1);
      // KVM's ring holds 170 writes: a write that finds it full exits as usual (and the exit drains it).
      assert.ok(coalesced.result.exits <= 1 + Math.ceil(count / 100), `${coalesced.result.exits} exits for ${count} coalesced writes`);
    });

    test('writes reach the device while the guest runs without exits (the 10 ms drain)', () => {
      const r = withVm(arch, backend, 'write-spin.bin', {}, (vm) => {
        let seen: number | undefined;
        vm.addDevice({ kind: 'mmio', base: 0x900, size: 4 }, { write: (_o, d) => {
          seen = Buffer.from(d).readUInt32LE(0);
          vm.stop(); // reached only when the write arrives during the run; else the run times out
        } }, { coalesced: true });
        vm.setRegister(c.countRegister, 0x1234);
        return { ...vm.run({ timeoutMs: 60_000 }), seen };
      });
      assert.equal(r.outcome, 'stopped');
      assert.equal(r.seen, 0x1234);
      assert.equal(r.exits, 0);
    });

    test('a read of a coalesced range is a GuestError ERR_COALESCED_READ; a coalesced device with read() is refused', () => {
      withVm(arch, backend, 'mmio-read-loop.bin', {}, (vm) => {
        assert.throws(() => vm.addDevice({ kind: 'mmio', base: 0x900, size: 8 }, { read: () => {}, write: () => {} }, { coalesced: true }), (e) => e instanceof ConfigError && e.code === 'ERR_INVALID_OPTION');
        vm.addDevice({ kind: 'mmio', base: 0x900, size: 8 }, { write: () => {} }, { coalesced: true });
        vm.setRegister(c.countRegister, 3);
        assert.throws(() => vm.run({ timeoutMs: 10_000 }), (e) => e instanceof GuestError && e.code === 'ERR_COALESCED_READ' && e.access?.address === 0x900 && e.access.direction === 'read');
      });
    });

    test('overlapping a coalesced device is refused like any other (ERR_DEVICE_OVERLAP)', () => {
      withVm(arch, backend, 'hello.bin', {}, (vm) => {
        vm.addDevice({ kind: 'mmio', base: 0x900, size: 8 }, { write: () => {} }, { coalesced: true });
        assert.throws(() => vm.addDevice({ kind: 'mmio', base: 0x904, size: 8 }, { write: () => {} }, { coalesced: true }), { code: 'ERR_DEVICE_OVERLAP' });
        assert.throws(() => vm.addDevice({ kind: 'mmio', base: 0x990, size: 8 }, { write: () => {} }, { coalesced: true }), { code: 'ERR_DEVICE_OVERLAP' });
      });
    });

    test('on a worker: the event stream has every coalesced write in order (pc 0: no exit), then the end', async () => {
      const pool = new VmPool({ maxThreads: 1 });
      try {
        const vm = await pool.createVm({ arch, backend, events: true, coalescedConsole: true });
        const events = eventsOf(vm);
        await vm.load(guest(arch, 'hello.bin'));
        const r = await vm.run({ timeoutMs: 10_000 });
        await vm.close();
        assert.equal(r.output.toString(), 'Hello\n');
        assert.equal(r.exits, 1);
        const all = await events;
        assert.deepEqual(all.map((e) => String.fromCharCode(Number(e.data))).join(''), 'Hello\n');
        for (const e of all) {
          assert.equal(e.pc, 0);
          assert.equal(e.direction, 'write');
          assert.equal(e.address, arch === 'x86_64' ? 0x3f8 : 0x996);
        }
      } finally {
        await pool.close();
      }
    });
  });
}

/** The events irq-count gives for N interrupts: an acknowledge per interrupt (the count so far), then the count. */
function irqCountEvents(n: number): { address: number; data: bigint; direction: string }[] {
  return [...Array.from({ length: n }, (_, i) => ({ address: INTERRUPT_ACK, data: BigInt(i), direction: 'write' })), { address: 0x900, data: BigInt(n), direction: 'write' }];
}

/**
 * irq-count on a worker, interrupted from the main thread while it runs: the first interrupt once the
 * run has begun, each next one when the event stream shows the guest acknowledged the last.
 */
async function interruptedOnWorker(pool: VmPool, arch: GuestArch, backend: BackendKind, n: number) {
  const vm = await pool.createVm({ arch, backend, events: true, unhandled: 'ignore', ...(arch === 'x86_64' && { x86Mode: 'long' as const }) });
  try {
    await vm.load(guest(arch, 'irq-count.bin'));
    await vm.setRegister(cases[arch].countRegister, n);
    const events: Omit<VmEvent, 'timeNs' | 'seq'>[] = [];
    const consumer = (async () => {
      for await (const batch of vm.events()) {
        for (const { timeNs: _t, seq: _s, ...e } of batch) {
          events.push(e);
          if (e.address === INTERRUPT_ACK && Number(e.data) + 1 < n) vm.interrupt();
        }
      }
    })();
    const run = vm.run({ timeoutMs: 120_000 });
    vm.interrupt(); // the line stays high until the guest takes it, wherever the run is by now
    const result = await run;
    await vm.close();
    await consumer;
    return { result, events };
  } finally {
    await vm.close();
  }
}

for (const [arch, backend] of backends) {
  const c = cases[arch];
  const options: VmOptions = arch === 'x86_64' ? { x86Mode: 'long' } : {};
  describe(`interrupts: ${backend} ${arch}`, { skip: skipFor(arch, backend), timeout: 300_000 }, () => {
    test('an interrupt raised before the run wakes the sleeping guest, which acknowledges and counts it', () => {
      const r = withVm(arch, backend, 'irq-count.bin', options, (vm) => {
        const reports: number[] = [];
        vm.addDevice({ kind: 'mmio', base: 0x900, size: 4 }, { write: (_o, d) => void reports.push(Buffer.from(d).readUInt32LE(0)) });
        vm.setRegister(c.countRegister, 1);
        vm.interrupt();
        vm.interrupt(); // a high line stays one interrupt
        return { ...vm.run({ timeoutMs: 60_000 }), reports };
      });
      assert.equal(r.outcome, c.end);
      assert.deepEqual(r.reports, [1]);
    });

    test('with no interrupt the guest sleeps until the time limit', () => {
      const r = withVm(arch, backend, 'irq-count.bin', options, (vm) => {
        vm.setRegister(c.countRegister, 1);
        return vm.run({ timeoutMs: 200 });
      });
      assert.equal(r.outcome, 'timeout');
    });

    test('on a worker, interrupted from the main thread while it sleeps: N interrupts, each acknowledged, then the count', async () => {
      const pool = new VmPool({ maxThreads: 1 });
      try {
        const n = 5;
        const { result, events } = await interruptedOnWorker(pool, arch, backend, n);
        assert.equal(result.outcome, c.end);
        assert.deepEqual(events.map(({ address, data, direction }) => ({ address, data, direction })), irqCountEvents(n));
      } finally {
        await pool.close();
      }
    });

    test('the acknowledge address is reserved (ERR_DEVICE_OVERLAP); interrupt() on a closed VM is ERR_VM_CLOSED', async () => {
      const vm = createVm({ arch, backend });
      assert.throws(() => vm.addDevice({ kind: 'mmio', base: 0x9f0, size: 0x10 }, {}), { code: 'ERR_DEVICE_OVERLAP' });
      vm.close();
      assert.throws(() => vm.interrupt(), { code: 'ERR_VM_CLOSED' });
      const pool = new VmPool({ maxThreads: 1 });
      try {
        const remote = await pool.createVm({ arch, backend });
        await remote.close();
        assert.throws(() => remote.interrupt(), { code: 'ERR_VM_CLOSED' });
      } finally {
        await pool.close();
      }
    });
  });
}

describe('interrupt parity: KVM/arm64 and the WebAssembly CPU give the same events', { skip: kvmSkipReason('aarch64'), timeout: 300_000 }, () => {
  test('irq-count interrupted from the main thread: the same events, PCs included', async () => {
    const pool = new VmPool({ maxThreads: 1 });
    try {
      const kvm = await interruptedOnWorker(pool, 'aarch64', 'kvm', 4);
      const wasm = await interruptedOnWorker(pool, 'aarch64', 'wasm', 4);
      assert.equal(kvm.result.outcome, 'system-off');
      assert.equal(wasm.result.outcome, 'system-off');
      assert.equal(kvm.result.exits, wasm.result.exits);
      assert.deepEqual(kvm.events, wasm.events);
    } finally {
      await pool.close();
    }
  });
});

/** A promise of the moment `count()` reaches `target`, looked at after each doorbell call. */
function ringsReach(target: number): { handler: (rings: number) => void; reached: Promise<void>; total: () => number } {
  let total = 0;
  let resolve!: () => void;
  const reached = new Promise<void>((r) => (resolve = r));
  return {
    handler: (rings) => {
      total += rings;
      if (total >= target) resolve();
    },
    reached,
    total: () => total,
  };
}

for (const [arch, backend] of backends) {
  const c = cases[arch];
  describe(`doorbells: ${backend} ${arch}`, { skip: skipFor(arch, backend), timeout: 300_000 }, () => {
    test('every write to a doorbell rings it with no exit; the handler runs on this thread after the run', async () => {
      const count = 200;
      const rings = ringsReach(count);
      const vm = createVm({ arch, backend });
      try {
        vm.load(guest(arch, 'mmio-loop.bin'));
        vm.addDoorbell({ kind: 'mmio', address: 0x900, size: 4 }, rings.handler);
        vm.setRegister(c.countRegister, count);
        const r = vm.run({ timeoutMs: 30_000 });
        assert.equal(r.outcome, c.end);
        assert.equal(r.exits, 1);
        await rings.reached; // libuv saw the eventfd once the thread's loop turned
        assert.equal(rings.total(), count);
      } finally {
        vm.close();
      }
    });

    test('a doorbell with a match rings only on that value; other writes there are ordinary (here ignored) accesses', () => {
      const rings = ringsReach(1);
      const vm = createVm({ arch, backend, unhandled: 'ignore' });
      let r;
      try {
        vm.load(guest(arch, 'mmio-loop.bin'));
        vm.addDoorbell({ kind: 'mmio', address: 0x900, size: 4, match: 1 }, rings.handler);
        vm.setRegister(c.countRegister, 50);
        r = vm.run({ timeoutMs: 30_000 });
      } finally {
        vm.close(); // hands the rings not yet delivered to the handler
      }
      assert.equal(r.exits, 50); // 49 non-matching writes + the end
      assert.equal(rings.total(), 1);
    });

    test('a port doorbell (x86)', { skip: arch !== 'x86_64' && 'port I/O is x86 only' }, () => {
      const rings = ringsReach(100);
      const vm = createVm({ arch, backend });
      let r;
      try {
        vm.load(guest(arch, 'pio-loop.bin'));
        vm.addDoorbell({ kind: 'pio', address: 0x80, size: 1 }, rings.handler);
        vm.setRegister(c.countRegister, 100);
        r = vm.run({ timeoutMs: 30_000 });
      } finally {
        vm.close();
      }
      assert.equal(r.exits, 1);
      assert.equal(rings.total(), 100);
    });

    test('on a worker, the handler runs on the main thread while the guest runs (it spins with no exit)', async () => {
      const pool = new VmPool({ maxThreads: 1 });
      try {
        const vm = await pool.createVm({ arch, backend });
        const rings = ringsReach(1);
        await vm.load(guest(arch, 'write-spin.bin'));
        await vm.addDoorbell({ kind: 'mmio', address: 0x900, size: 4 }, rings.handler);
        const run = vm.run({ timeoutMs: 120_000 });
        await rings.reached; // the guest is spinning in its run by now: only a doorbell can have told us
        await vm.stop();
        const r = await run;
        assert.equal(r.outcome, 'stopped');
        assert.equal(r.exits, 0);
        await vm.close();
        assert.equal(rings.total(), 1);
      } finally {
        await pool.close();
      }
    });

    test('bad doorbells are typed errors', () => {
      const vm = createVm({ arch, backend });
      try {
        vm.addDevice({ kind: 'mmio', base: 0x900, size: 8 }, {});
        assert.throws(() => vm.addDoorbell({ kind: 'mmio', address: 0x904, size: 4 }, () => {}), { code: 'ERR_DEVICE_OVERLAP' });
        assert.throws(() => vm.addDoorbell({ kind: 'mmio', address: 0x910, size: 3 as 4 }, () => {}), { code: 'ERR_INVALID_OPTION' });
        assert.throws(() => vm.addDoorbell({ kind: 'mmio', address: 0x910, size: 1, match: 0x100 }, () => {}), { code: 'ERR_INVALID_OPTION' });
        assert.throws(() => vm.addDoorbell({ kind: 'mmio', address: 0x996, size: 1 }, () => {}), { code: 'ERR_DEVICE_OVERLAP' });
        assert.throws(() => vm.addDoorbell({ kind: 'mmio', address: INTERRUPT_ACK, size: 4 }, () => {}), { code: 'ERR_DEVICE_OVERLAP' });
        if (arch === 'aarch64') assert.throws(() => vm.addDoorbell({ kind: 'pio', address: 0x80, size: 1 }, () => {}), { code: 'ERR_INVALID_OPTION' });
        else assert.throws(() => vm.addDoorbell({ kind: 'pio', address: 0xffff, size: 2 }, () => {}), { code: 'ERR_ADDRESS_OUT_OF_RANGE' });
      } finally {
        vm.close();
      }
    });

    test('no fd leaks: eventfds and their watchers go with the VM, on a worker too', async () => {
      const cycle = () => {
        const vm = createVm({ arch, backend });
        try {
          vm.load(guest(arch, 'hello.bin'));
          vm.addDoorbell({ kind: 'mmio', address: 0x900, size: 4 }, () => {});
          vm.addDoorbell({ kind: 'mmio', address: 0x908, size: 1, match: 7 }, () => {});
          vm.run({ timeoutMs: 10_000 });
        } finally {
          vm.close();
        }
      };
      cycle();
      const pool = new VmPool({ maxThreads: 1 });
      try {
        const remote = async () => {
          const vm = await pool.createVm({ arch, backend });
          await vm.addDoorbell({ kind: 'mmio', address: 0x900, size: 4 }, () => {});
          await vm.close();
        };
        await remote();
        const before = processResources().fds;
        for (let i = 0; i < 100; i++) cycle();
        for (let i = 0; i < 10; i++) await remote();
        assert.equal(processResources().fds, before);
      } finally {
        await pool.close();
      }
    });
  });
}

describe('exits answered in the kernel: the guests of the matrix make no exit but their end', () => {
  const inKernel: [GuestArch, BackendKind, string][] = [
    ['x86_64', 'kvm', 'cpuid-loop'],
    ['aarch64', 'kvm', 'hvc-loop'],
    ['aarch64', 'kvm', 'sysreg-loop'],
    ['aarch64', 'wasm', 'hvc-loop'], // HVC other than PSCI SYSTEM_OFF/RESET: answered in the loop, no exit
  ];
  for (const [arch, backend, image] of inKernel) {
    test(`${image} on ${backend} ${arch}`, { skip: skipFor(arch, backend) }, () => {
      const r = withVm(arch, backend, `${image}.bin`, {}, (vm) => {
        vm.setRegister(cases[arch].countRegister, 1000);
        return vm.run({ timeoutMs: 60_000 });
      });
      assert.equal(r.outcome, cases[arch].end);
      assert.equal(r.exits, 1);
    });
  }
});
