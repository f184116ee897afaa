/**
 * Every way a guest talks to its VMM besides an exit per access: coalesced (exit-free) writes,
 * doorbells and interrupts, on KVM for each guest arch (host KVM where it runs that arch, else the
 * labs) and on the WebAssembly backend, which must give the same outputs, outcomes and events.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { ConfigError, createVm, GuestError, INTERRUPT_ACK, KvmError, VmPool, VmStateError, type BackendKind, type GuestArch, type VmEvent, type VmOptions } from '../src/index';
import { guest, kvmSkipReason, processResources, testPool, withVm } from './support';
import { pmTimer } from '../src/workers/backend';

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

    test('a native device\'s writes and a JS device\'s, interleaved in one ring: the JS device gets each of its own, in order', { skip: arch !== 'aarch64' && 'the guest (two-device-loop) is aarch64' }, () => {
      // With no event stream the native constant device's writes are dropped in bulk on wasm: each
      // run of them ends at a JS device's write, which must still be delivered, in its place.
      const count = 700;
      const r = withVm(arch, backend, 'two-device-loop.bin', {}, (vm) => {
        const seen: number[] = [];
        vm.addNativeDevice({ kind: 'mmio', base: 0x900, size: 4 }, { type: 'constant', value: 0 }, { coalesced: true });
        vm.addDevice({ kind: 'mmio', base: 0xa00, size: 4 }, { write: (_o, d) => void seen.push(Buffer.from(d).readUInt32LE(0)) }, { coalesced: true });
        vm.setRegister('x0', count);
        return { ...vm.run({ timeoutMs: 30_000 }), seen };
      });
      assert.equal(r.outcome, 'system-off');
      assert.deepEqual(r.seen, Array.from({ length: count }, (_, i) => count - i));
      assert.ok(r.exits <= 1 + Math.ceil((2 * count) / 50), `${r.exits} exits for ${2 * count} coalesced writes`); // a full ring exits: 169 writes, 85 on the labs' kernel
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

    test('the WebAssembly CPU coalesces up to 64 ranges: the next is ERR_INVALID_OPTION and stays unmapped', { skip: backend !== 'wasm' && 'KVM takes as many as its kernel does' }, () => {
      withVm(arch, backend, 'hello.bin', {}, (vm) => {
        for (let i = 0; i < 64; i++) vm.addDevice({ kind: 'mmio', base: 0x10_0000 + 16 * i, size: 16 }, { write: () => {} }, { coalesced: true });
        const next = { kind: 'mmio', base: 0x10_0000 + 16 * 64, size: 16 } as const;
        assert.throws(() => vm.addDevice(next, { write: () => {} }, { coalesced: true }), (e) => e instanceof ConfigError && e.code === 'ERR_INVALID_OPTION' && /64 ranges/.test(e.message));
        vm.addDevice(next, { write: () => {} }); // not left mapped
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
      const pool = testPool({ maxThreads: 1 });
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

    test('more writes in a row than the ring holds: all delivered in order; each that finds the ring full is an exit with its pc', async () => {
      const count = 1000;
      const pool = testPool({ maxThreads: 1 });
      try {
        const vm = await pool.createVm({ arch, backend, events: true });
        const events = eventsOf(vm);
        await vm.addNativeDevice({ kind: 'mmio', base: 0x900, size: 8 }, { type: 'constant', value: 0 }, { coalesced: true });
        await vm.load(guest(arch, 'mmio-loop.bin'));
        await vm.setRegister(c.countRegister, count);
        const r = await vm.run({ timeoutMs: 30_000 });
        await vm.close();
        const writes = (await events).filter((e) => e.address === 0x900);
        assert.equal(r.outcome, c.end);
        assert.deepEqual(writes.map((e) => Number(e.data)), Array.from({ length: count }, (_, i) => count - i));
        const exited = writes.flatMap((e, i) => (e.pc === 0 ? [] : [i]));
        assert.equal(r.exits, exited.length + 1); // and the end
        // The wasm CPU's ring holds 169 writes (as KVM's: a page of 170 entries, one kept free) and is
        // drained at slice ends only. KVM's is also drained on a timer, and kernels whose
        // coalesced_mmio_has_room() takes the room modulo 170 in 32-bit unsigned arithmetic (the labs'
        // 6.1) call it full once 85 writes wait unwrapped: so at least 85 writes between two that exit.
        if (backend === 'wasm') assert.deepEqual(exited, [169, 339, 509, 679, 849]);
        else assert.ok(exited.every((i, k) => i - (k === 0 ? -1 : exited[k - 1]!) > 85), `writes that exited: ${exited.join(', ')}`);
      } finally {
        await pool.close();
      }
    });

    test('a run that ends in the middle of the ring (the stop byte) leaves the rest to the next run, in order', () => {
      withVm(arch, backend, 'hello.bin', { coalescedConsole: true }, (vm) => {
        // Every byte waits in the ring for the guest's end; the drain stops at the stop byte.
        const first = vm.run({ timeoutMs: 10_000, stopOnByte: 'e'.charCodeAt(0) });
        assert.deepEqual([first.outcome, first.output.toString(), first.exits], ['stopped', 'He', 1]);
        const second = vm.run({ timeoutMs: 10_000 });
        assert.deepEqual([second.outcome, second.output.toString(), second.exits], [c.end, 'llo\n', 0]);
      });
    });

    test('a restore forgets what the stopped run left: the reset VM prints all of it again, once', () => {
      withVm(arch, backend, 'hello.bin', { coalescedConsole: true }, (vm) => {
        vm.snapshot();
        const first = vm.run({ timeoutMs: 10_000, stopOnByte: 'e'.charCodeAt(0) });
        assert.deepEqual([first.outcome, first.output.toString()], ['stopped', 'He']);
        // KVM would complete the waiting exit's access into the snapshot: refused, typed.
        if (backend === 'kvm') assert.throws(() => vm.snapshot(), (e: unknown) => e instanceof VmStateError && e.code === 'ERR_VM_BUSY');
        vm.restore();
        const again = vm.run({ timeoutMs: 10_000 });
        assert.deepEqual([again.outcome, again.output.toString(), again.exits], [c.end, 'Hello\n', 1]);
      });
    });

    test('a device that stops the run in the middle of the ring: the rest reach it in the next run, none lost or repeated', () => {
      withVm(arch, backend, 'mmio-loop.bin', {}, (vm) => {
        const seen: number[] = [];
        vm.addDevice({ kind: 'mmio', base: 0x900, size: 8 }, { write: (_o, d) => {
          seen.push(Buffer.from(d).readUInt32LE(0));
          if (seen.length === 3) vm.stop();
        } }, { coalesced: true });
        vm.setRegister(c.countRegister, 10);
        const runs = [vm.run({ timeoutMs: 10_000 }).outcome];
        while (runs.length < 5 && runs.at(-1) === 'stopped') runs.push(vm.run({ timeoutMs: 10_000 }).outcome);
        assert.equal(runs.at(-1), c.end, `outcomes ${runs.join(', ')}`);
        assert.deepEqual(seen, [10, 9, 8, 7, 6, 5, 4, 3, 2, 1]);
      });
    });

    test('a write pending when the time limit ends the run still reaches its device', () => {
      const r = withVm(arch, backend, 'write-spin.bin', {}, (vm) => {
        const seen: number[] = [];
        vm.addDevice({ kind: 'mmio', base: 0x900, size: 4 }, { write: (_o, d) => void seen.push(Buffer.from(d).readUInt32LE(0)) }, { coalesced: true });
        vm.setRegister(c.countRegister, 0x4321);
        return { ...vm.run({ timeoutMs: 300 }), seen };
      });
      assert.equal(r.outcome, 'timeout');
      assert.deepEqual(r.seen, [0x4321]);
      assert.equal(r.exits, 0);
    });

    test('a stop while coalesced writes wait for room in the event ring loses none: the next run delivers them, in order', async () => {
      const count = 1000;
      const pool = testPool({ maxThreads: 1 });
      try {
        const vm = await pool.createVm({ arch, backend, events: true, ringCapacity: 64 });
        await vm.addNativeDevice({ kind: 'mmio', base: 0x900, size: 8 }, { type: 'constant', value: 0 }, { coalesced: true });
        await vm.load(guest(arch, 'mmio-loop.bin'));
        await vm.setRegister(c.countRegister, count);
        const stream = vm.events();
        const run = vm.run({ timeoutMs: 60_000 });
        // One batch read, then none: the ring fills and the vCPU waits for room, writes still in KVM's
        // ring or the wasm CPU's, until the stop.
        const firstBatch = await stream.next();
        await vm.stop();
        const stopped = await run;
        const data: number[] = [];
        const reading = (async () => {
          for (const e of firstBatch.value ?? []) if (e.address === 0x900) data.push(Number(e.data));
          for await (const batch of stream) for (const e of batch) if (e.address === 0x900) data.push(Number(e.data));
        })();
        const rest = stopped.outcome === 'stopped' ? await vm.run({ timeoutMs: 60_000 }) : stopped;
        await vm.close();
        await reading;
        assert.equal(stopped.outcome, 'stopped');
        assert.equal(rest.outcome, c.end);
        assert.deepEqual(data, Array.from({ length: count }, (_, i) => count - i));
      } finally {
        await pool.close();
      }
    });

    test('writes just before an exit reach the device and the event stream before it', { skip: arch !== 'aarch64' && 'the guest (coalesced-order) is aarch64' }, async () => {
      // On this thread: the device sees the writes, the read exit, the write after it, in that order.
      const log = withVm(arch, backend, 'coalesced-order.bin', {}, (vm) => {
        const seen: string[] = [];
        vm.addDevice({ kind: 'mmio', base: 0x900, size: 8 }, { write: (_o, d) => void seen.push(`w${d[0]}`) }, { coalesced: true });
        vm.addDevice({ kind: 'mmio', base: 0x908, size: 4 }, { read: () => void seen.push('r') });
        vm.setRegister('x0', 0);
        const r = vm.run({ timeoutMs: 10_000 });
        return { ...r, seen };
      });
      assert.deepEqual([log.outcome, log.exits, log.seen], ['system-off', 2, ['w1', 'w2', 'r', 'w3']]);
      // On a worker: the events in the same order, the read with its pc, the writes with 0.
      const pool = testPool({ maxThreads: 1 });
      try {
        const vm = await pool.createVm({ arch, backend, events: true });
        const events = eventsOf(vm);
        await vm.addNativeDevice({ kind: 'mmio', base: 0x900, size: 8 }, { type: 'constant', value: 0 }, { coalesced: true });
        await vm.addNativeDevice({ kind: 'mmio', base: 0x908, size: 4 }, { type: 'constant', value: 7 });
        await vm.load(guest(arch, 'coalesced-order.bin'));
        await vm.setRegister('x0', 0);
        const r = await vm.run({ timeoutMs: 10_000 });
        await vm.close();
        const all = (await events).map((e) => [e.direction, e.address, Number(e.data), e.pc]);
        assert.equal(r.outcome, 'system-off');
        assert.deepEqual(all, [['write', 0x900, 1, 0], ['write', 0x900, 2, 0], ['read', 0x908, 7, 0x10000 + 0x24], ['write', 0x900, 3, 0]]);
      } finally {
        await pool.close();
      }
    });

    /** coalesced-order with x0 = mode: the writes its coalesced device saw, and how the run ended. */
    const orderRun = (mode: bigint): { seen: number[]; outcome?: string; exits?: number; error?: unknown } => {
      const seen: number[] = [];
      try {
        return withVm(arch, backend, 'coalesced-order.bin', {}, (vm) => {
          vm.addDevice({ kind: 'mmio', base: 0x900, size: 8 }, { write: (_o, d) => void seen.push(d[0]!) }, { coalesced: true });
          vm.setRegister('x0', mode);
          const r = vm.run({ timeoutMs: 10_000 });
          return { seen, outcome: r.outcome, exits: r.exits };
        });
      } catch (error) {
        return { seen, error };
      }
    };

    test('writes just before SYSTEM_OFF reach the device first', { skip: arch !== 'aarch64' && 'the guest (coalesced-order) is aarch64' }, () => {
      assert.deepEqual(orderRun(2n), { seen: [1, 2], outcome: 'system-off', exits: 1 });
    });

    test('writes just before a store the run fails at (no syndrome) reach the device first', { skip: arch !== 'aarch64' && 'the guest (coalesced-order) is aarch64' }, () => {
      const r = orderRun(1n);
      assert.ok(r.error instanceof GuestError && r.error.code === 'ERR_GUEST_MMIO_NO_SYNDROME', String(r.error));
      assert.deepEqual(r.seen, [1, 2]);
    });
  });
}

/** The events irq-count gives for N interrupts: an acknowledge per interrupt (the count so far), then the count. */
function irqCountEvents(n: number): { address: number; data: bigint; direction: string }[] {
  return [...Array.from({ length: n }, (_, i) => ({ address: INTERRUPT_ACK, data: BigInt(i), direction: 'write' })), { address: 0x900, data: BigInt(n), direction: 'write' }];
}

/**
 * An irq-count guest on a worker, interrupted from the main thread while it runs: the first interrupt
 * once the run has begun, each next one when the event stream shows the guest acknowledged the last.
 * `stopOnReport`: the guest cannot end its run (x86 `hlt` with an in-kernel LAPIC), so its report does.
 */
async function interruptedOnWorker(pool: VmPool, arch: GuestArch, backend: BackendKind, n: number, guestImage = 'irq-count.bin', options: VmOptions = {}, stopOnReport = false) {
  const vm = await pool.createVm({ arch, backend, events: true, unhandled: 'ignore', ...(arch === 'x86_64' && { x86Mode: 'long' as const }), ...options });
  try {
    await vm.load(guest(arch, guestImage));
    await vm.setRegister(cases[arch].countRegister, n);
    const events: Omit<VmEvent, 'timeNs' | 'seq'>[] = [];
    const consumer = (async () => {
      for await (const batch of vm.events()) {
        for (const { timeNs: _t, seq: _s, ...e } of batch) {
          events.push(e);
          if (e.address === INTERRUPT_ACK && Number(e.data) + 1 < n) vm.interrupt();
          if (e.address === 0x900 && stopOnReport) void vm.stop();
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
      const pool = testPool({ maxThreads: 1 });
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
      const pool = testPool({ maxThreads: 1 });
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
    const pool = testPool({ maxThreads: 1 });
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

/**
 * The in-kernel interrupt controllers: KVM's GICv3 on aarch64 (the guest enables its CPU interface,
 * takes each interrupt from ICC_IAR1_EL1 and ends it with ICC_EOIR1_EL1), KVM's LAPIC on x86 (full
 * irqchip or split; the guest writes the LAPIC's EOI register). vm.interrupt() reaches them as an
 * SPI (KVM_IRQ_LINE) or an MSI (KVM_SIGNAL_MSI), with the same acknowledge contract.
 */
const inKernelIrqchips: [GuestArch, 'kernel' | 'split', string][] = [
  ['aarch64', 'kernel', 'irq-count-gic.bin'],
  ['x86_64', 'kernel', 'irq-count-lapic.bin'],
  ['x86_64', 'split', 'irq-count-lapic.bin'],
];

for (const [arch, irqchip, image] of inKernelIrqchips) {
  const options: VmOptions = { irqchip, ...(arch === 'x86_64' && { x86Mode: 'long' as const }) };
  // x86: with the LAPIC in KVM every `hlt` waits inside KVM, so the guest's report ends the run.
  const selfEnding = arch === 'aarch64';
  describe(`in-kernel irqchip '${irqchip}': kvm ${arch}`, { skip: kvmSkipReason(arch), timeout: 300_000 }, () => {
    test('an interrupt raised before the run reaches the sleeping guest through the controller; it acknowledges, ends it, counts', () => {
      const r = withVm(arch, 'kvm', image, options, (vm) => {
        const reports: number[] = [];
        vm.addDevice({ kind: 'mmio', base: 0x900, size: 4 }, { write: (_o, d) => {
          reports.push(Buffer.from(d).readUInt32LE(0));
          if (!selfEnding) vm.stop();
        } });
        vm.setRegister(cases[arch].countRegister, 1);
        vm.interrupt();
        vm.interrupt(); // a high line stays one interrupt
        return { ...vm.run({ timeoutMs: 60_000 }), reports };
      });
      assert.equal(r.outcome, selfEnding ? cases[arch].end : 'stopped');
      assert.deepEqual(r.reports, [1]);
    });

    test('on a worker, interrupted from the main thread: N interrupts, each acknowledged, then the count', async () => {
      const pool = testPool({ maxThreads: 1 });
      try {
        const n = 5;
        const { result, events } = await interruptedOnWorker(pool, arch, 'kvm', n, image, options, !selfEnding);
        assert.equal(result.outcome, selfEnding ? cases[arch].end : 'stopped');
        // The controller's own registers (GIC distributor, LAPIC EOI) are KVM's: no exit, no event.
        assert.deepEqual(events.map(({ address, data, direction }) => ({ address, data, direction })), irqCountEvents(n));
      } finally {
        await pool.close();
      }
    });

    test('no snapshot (KVM keeps the controller state); no fd left behind', () => {
      withVm(arch, 'kvm', image, options, (vm) => assert.throws(() => vm.snapshot(), (e) => e instanceof ConfigError && e.code === 'ERR_INVALID_OPTION' && /irqchip/.test(e.message)));
      const before = processResources().fds;
      for (let i = 0; i < 20; i++) createVm({ arch, ...options }).close();
      assert.equal(processResources().fds, before);
    });
  });
}

describe('in-kernel irqchip: what a KVM lacks is ERR_KVM_CAPABILITY naming it; bad options are typed', () => {
  test('aarch64 KVM has no split irqchip (x86\'s LAPIC-only one): KVM_CAP_SPLIT_IRQCHIP', { skip: kvmSkipReason('aarch64') }, () => {
    assert.throws(
      () => createVm({ arch: 'aarch64', backend: 'kvm', irqchip: 'split' }),
      (e) => e instanceof KvmError && e.code === 'ERR_KVM_CAPABILITY' && /KVM_CAP_SPLIT_IRQCHIP/.test(e.message) && !/npm run lab/.test(e.message),
    );
    createVm({ arch: 'aarch64', backend: 'kvm' }).close(); // the same KVM runs VMs without it
  });

  test('aarch64: RAM over the GICv3 is ERR_REGION_OVERLAP', { skip: kvmSkipReason('aarch64') }, () => {
    assert.throws(() => createVm({ arch: 'aarch64', backend: 'kvm', irqchip: 'kernel', regions: [{ guestAddr: 0x8000_0000, size: 0x10000 }] }), { code: 'ERR_REGION_OVERLAP' });
  });

  test('the WebAssembly CPU has only irqchip user; unknown names are refused', () => {
    assert.throws(() => createVm({ arch: 'aarch64', backend: 'wasm', irqchip: 'kernel' }), (e) => e instanceof ConfigError && e.code === 'ERR_INVALID_OPTION' && /wasm/.test(e.message));
    assert.throws(() => createVm({ arch: 'aarch64', backend: 'wasm', irqchip: 'gic' as 'kernel' }), { code: 'ERR_INVALID_OPTION' });
    createVm({ arch: 'aarch64', backend: 'wasm', irqchip: 'user' }).close();
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
      const pool = testPool({ maxThreads: 1 });
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
      const pool = testPool({ maxThreads: 1 });
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

for (const [arch, backend] of backends) {
  const c = cases[arch];
  describe(`the interrupt native device (the interrupt-roundtrip row): ${backend} ${arch}`, { skip: skipFor(arch, backend), timeout: 300_000 }, () => {
    test('irq-pingpong: each request write raises the line in the loop, the guest takes it and acknowledges: N round trips, in order', async () => {
      const n = 50;
      const pool = testPool({ maxThreads: 1 });
      try {
        const vm = await pool.createVm({ arch, backend, events: true, ...(arch === 'x86_64' && { x86Mode: 'long' as const }) });
        const events = eventsOf(vm);
        await vm.load(guest(arch, 'irq-pingpong.bin'));
        await vm.addNativeDevice({ kind: 'mmio', base: 0x908, size: 4 }, { type: 'interrupt' });
        await vm.addNativeDevice({ kind: 'mmio', base: 0x900, size: 4 }, { type: 'constant', value: 0 });
        await vm.setRegister(c.countRegister, n);
        const r = await vm.run({ timeoutMs: 60_000 });
        await vm.close();
        assert.equal(r.outcome, c.end);
        const expected = [...Array.from({ length: n }, (_, i) => [{ address: 0x908, data: BigInt(i) }, { address: INTERRUPT_ACK, data: BigInt(i) }]).flat(), { address: 0x900, data: BigInt(n) }];
        assert.deepEqual((await events).map(({ address, data }) => ({ address, data })), expected);
        // Per round trip the request and the acknowledge (x86 adds exits that open the interrupt window or wait in hlt).
        assert.ok(r.exits >= 2 * n + 1 && r.exits <= 4 * n, `${r.exits} exits for ${n} round trips`);
      } finally {
        await pool.close();
      }
    });
  });
}

describe('the ACPI PM timer device (the inl_pmtimer row): 24 bits at 3.579545 MHz of CLOCK_MONOTONIC, answered in the loop', () => {
  const reads: [GuestArch, BackendKind, string, 'pio' | 'mmio', number, string][] = [
    ['x86_64', 'kvm', 'pmtimer-loop.bin', 'pio', 0xb008, 'rbx'],
    ['aarch64', 'kvm', 'mmio-read-loop.bin', 'mmio', 0x900, 'x3'],
    ['aarch64', 'wasm', 'mmio-read-loop.bin', 'mmio', 0x900, 'x3'],
  ];
  for (const [arch, backend, image, kind, base, sum] of reads) {
    test(`${image} on ${backend} ${arch}: the value read lies between the timer before and after the run`, { skip: skipFor(arch, backend) }, () => {
      const { before, value, after, exits } = withVm(arch, backend, image, {}, (vm) => {
        vm.addNativeDevice({ kind, base, size: 4 }, { type: 'pm-timer' });
        // Two reads, the run ending at the second: the sum register then holds the first read alone
        // (at the guest's end PSCI's SMCCC return would clear x3 on aarch64).
        vm.setRegister(cases[arch].countRegister, 2);
        const before = pmTimer(process.hrtime.bigint()); // Node's clock is CLOCK_MONOTONIC too
        const r = vm.run({ timeoutMs: 10_000, maxExits: 2 });
        const after = pmTimer(process.hrtime.bigint());
        return { before, value: vm.getRegister(sum), after, exits: r.exits };
      });
      const wrap = (t: bigint) => t & 0xff_ffffn; // the timer is 24 bits wide and wraps every 4.7 s
      assert.equal(exits, 2);
      assert.ok(value <= 0xff_ffffn, `0x${value.toString(16)} is wider than 24 bits`);
      assert.ok(wrap(value - before) <= wrap(after - before), `read 0x${value.toString(16)} outside [0x${before.toString(16)}, 0x${after.toString(16)}]`);
    });
  }
});

describe('exits answered in the kernel: the guests of the matrix make no exit but their end', () => {
  const inKernel: [GuestArch, BackendKind, string, VmOptions?][] = [
    ['x86_64', 'kvm', 'cpuid-loop'],
    ['x86_64', 'kvm', 'cr8-loop', { irqchip: 'kernel', x86Mode: 'long' }], // with the in-kernel LAPIC
    ['aarch64', 'kvm', 'hvc-loop'],
    ['aarch64', 'kvm', 'sysreg-loop'],
    ['aarch64', 'kvm', 'eoi-loop', { irqchip: 'kernel' }], // with the in-kernel GICv3
    ['aarch64', 'wasm', 'hvc-loop'], // HVC other than PSCI SYSTEM_OFF/RESET: answered in the loop, no exit
  ];
  for (const [arch, backend, image, options = {}] of inKernel) {
    // x86 with the LAPIC in KVM: `hlt` never exits, so the guest's report (its one exit) ends the run.
    const endsAtReport = arch === 'x86_64' && options.irqchip !== undefined;
    test(`${image} on ${backend} ${arch}`, { skip: skipFor(arch, backend) }, () => {
      const r = withVm(arch, backend, `${image}.bin`, { unhandled: 'ignore', ...options }, (vm) => {
        vm.setRegister(cases[arch].countRegister, 1000);
        return vm.run({ timeoutMs: 60_000, ...(endsAtReport && { maxExits: 1 }) });
      });
      assert.equal(r.outcome, endsAtReport ? 'max-exits' : cases[arch].end);
      assert.equal(r.exits, 1);
    });
  }
});
