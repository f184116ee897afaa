/**
 * The VM API on every backend: KVM for each guest arch, against real KVM on the host where its KVM
 * runs that arch (skipping loudly elsewhere) and always in the labs (`npm run test:lab`); and the
 * WebAssembly backend, which must give aarch64 guests the same outputs, outcomes and errors.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';

import { loadAddon } from '../src/shared/addon';
import { FreshKvmVms } from '../src/workers/kvm-backend';
import { createVm, GuestError, KvmError, type BackendKind, type GuestArch, type Vm, type VmOptions } from '../src/index';
import { cli, guest, kvmSkipReason, processResources, root, withVm } from './support';

interface ArchCase {
  /** How a guest ends itself. */
  end: 'halted' | 'system-off';
  pc: string;
  /** The register mmio-loop takes its count in. */
  countRegister: string;
  /** mmio-sizes, regs and the ELF need x86 long mode. */
  longMode: VmOptions;
  regs: { inputs: [string, bigint][]; sum: string; difference: string; stack: string };
  faultCode: string;
}

const cases: Record<GuestArch, ArchCase> = {
  x86_64: {
    end: 'halted',
    pc: 'rip',
    countRegister: 'rcx',
    longMode: { x86Mode: 'long' },
    regs: { inputs: [['rax', 0x1234_5678_9abc_def0n], ['rbx', 0x1111n]], sum: 'rdx', difference: 'rsi', stack: 'rdi' },
    faultCode: 'ERR_GUEST_SHUTDOWN',
  },
  aarch64: {
    end: 'system-off',
    pc: 'pc',
    countRegister: 'x0',
    longMode: {},
    // PSCI SYSTEM_OFF overwrites x0-x3, so the guest leaves its results in x4-x6.
    regs: { inputs: [['x0', 0x1234_5678_9abc_def0n], ['x1', 0x1111n]], sum: 'x4', difference: 'x5', stack: 'x6' },
    faultCode: 'ERR_GUEST_MMIO_NO_SYNDROME',
  },
};

const le = (bytes: Uint8Array) => bytes.reduceRight((v, b) => (v << 8n) | BigInt(b), 0n);
const bytesOf = (value: bigint, size: number) => Uint8Array.from({ length: size }, (_, i) => Number((value >> BigInt(8 * i)) & 0xffn));

const backends: [GuestArch, BackendKind][] = [['x86_64', 'kvm'], ['aarch64', 'kvm'], ['aarch64', 'wasm']];
for (const [arch, backend] of backends) {
  const c = cases[arch];
  const skip = backend === 'kvm' ? kvmSkipReason(arch) : process.env.FEMTOVM_LAB ? 'the WebAssembly backend is tested on the host, not in the lab' : undefined;
  const withVmHere = <T>(a: GuestArch, image: string, options: VmOptions, body: (vm: Vm) => T) => withVm(a, backend, image, options, body);
  describe(`${backend} ${arch}`, { skip, timeout: 300_000 }, () => {
    test('hello prints Hello and ends cleanly', () => {
      const r = withVmHere(arch, 'hello.bin', {}, (vm) => vm.run({ timeoutMs: 10_000 }));
      assert.equal(r.output.toString(), 'Hello\n');
      assert.equal(r.outcome, c.end);
      assert.equal(r.exits, 7);
      assert.equal(r.backend, backend);
    });

    test('an ELF64 image loads its segments and starts at e_entry', () => {
      withVmHere(arch, 'hello.elf', c.longMode, (vm) => {
        const pc = vm.getRegister(c.pc);
        const r = vm.run({ timeoutMs: 10_000 });
        assert.equal(r.output.toString(), 'Hello\n');
        assert.ok(pc > BigInt(vm.layout.regions[0]!.guestAddr), 'entry is past the first loaded byte');
      });
    });

    test('registers round-trip through the guest', () => {
      withVmHere(arch, 'regs.bin', c.longMode, (vm) => {
        for (const [name, value] of c.regs.inputs) vm.setRegister(name, value);
        vm.run({ timeoutMs: 10_000 });
        const [[, a], [, b]] = c.regs.inputs as [[string, bigint], [string, bigint]];
        assert.equal(vm.getRegister(c.regs.sum), a + b);
        assert.equal(vm.getRegister(c.regs.difference), a - b);
        assert.equal(vm.getRegister(c.regs.stack), BigInt(vm.layout.guestTop));
        assert.equal(vm.registers()[c.regs.sum], a + b);
      });
    });

    test('MMIO reads and writes of every size reach the device with their data', () => {
      const reads: number[] = [];
      const writes: [number, bigint][] = [];
      const values: Record<number, bigint> = { 1: 0x7fn, 2: 0xffffn, 4: 0x12345678n, 8: 0xfedcba9876543210n };
      withVmHere(arch, 'mmio-sizes.bin', c.longMode, (vm) => {
        vm.addDevice(
          { kind: 'mmio', base: 0x900, size: 16 },
          {
            read: (offset, data) => {
              assert.equal(offset, 0);
              reads.push(data.length);
              data.set(bytesOf(values[data.length]!, data.length));
            },
            write: (offset, data) => {
              assert.equal(offset, 8);
              writes.push([data.length, le(data)]);
            },
          },
        );
        assert.equal(vm.run({ timeoutMs: 10_000 }).outcome, c.end);
      });
      assert.deepEqual(reads, [1, 2, 4, 8]);
      assert.deepEqual(writes, [[1, 0x80n], [2, 0n], [4, 0x12345679n], [8, 0xfedcba9876543211n]]);
    });

    test('a read device feeds the echo guest', () => {
      const input = Buffer.from('Hi there!\n');
      let next = 0;
      const r = withVmHere(arch, 'mmio-echo.bin', {}, (vm) => {
        vm.addDevice({ kind: 'mmio', base: 0x900, size: 1 }, { read: (_, data) => void (data[0] = input[next++] ?? 0) });
        return vm.run({ timeoutMs: 10_000 });
      });
      assert.equal(r.output.toString(), 'Hi there!\n');
    });

    test('every write of a 1,000-exit loop arrives, in order', () => {
      const seen: number[] = [];
      const r = withVmHere(arch, 'mmio-loop.bin', {}, (vm) => {
        vm.setRegister(c.countRegister, 1000);
        vm.addDevice({ kind: 'mmio', base: 0x900, size: 4 }, { write: (_, data) => void seen.push(Number(le(data))) });
        return vm.run({ timeoutMs: 30_000 });
      });
      assert.equal(r.outcome, c.end);
      assert.equal(r.exits, 1001);
      assert.deepEqual(seen, Array.from({ length: 1000 }, (_, i) => 1000 - i));
    });

    test('a VM whose guest ended runs again after a new load (arm64: powered on again after SYSTEM_OFF)', () => {
      withVmHere(arch, 'hello.bin', {}, (vm) => {
        for (let i = 0; i < 3; i++) {
          if (i > 0) vm.load(guest(arch, 'hello.bin'));
          const r = vm.run({ timeoutMs: 10_000 });
          assert.equal(r.outcome, c.end, `run ${i + 1}`);
          assert.equal(r.output.toString(), 'Hello\n');
        }
      });
    });

    test('maxExits ends the run with outcome max-exits', () => {
      const r = withVmHere(arch, 'mmio-loop.bin', { unhandled: 'ignore' }, (vm) => {
        vm.setRegister(c.countRegister, 1000);
        return vm.run({ maxExits: 10, timeoutMs: 10_000 });
      });
      assert.equal(r.outcome, 'max-exits');
      assert.equal(r.exits, 10);
    });

    test('stop() from a device handler ends the run after that exit', () => {
      const r = withVmHere(arch, 'mmio-loop.bin', {}, (vm) => {
        vm.setRegister(c.countRegister, 1000);
        let n = 0;
        vm.addDevice({ kind: 'mmio', base: 0x900, size: 4 }, { write: () => void (++n === 5 && vm.stop()) });
        return vm.run({ timeoutMs: 10_000 });
      });
      assert.equal(r.outcome, 'stopped');
      assert.equal(r.exits, 5);
    });

    test('a guest spinning with no exits ends at its time limit', () => {
      const r = withVmHere(arch, 'spin.bin', {}, (vm) => vm.run({ timeoutMs: 150 }));
      assert.equal(r.outcome, 'timeout');
      assert.equal(r.exits, 0);
      assert.ok(r.durationMs >= 150 && r.durationMs < 10_000, `took ${r.durationMs} ms`);
    });

    test('a time limit holds when every exit waits on a slow device', () => {
      const pause = new Int32Array(new SharedArrayBuffer(4));
      const r = withVmHere(arch, 'mmio-loop.bin', {}, (vm) => {
        vm.setRegister(c.countRegister, 1_000_000);
        vm.addDevice({ kind: 'mmio', base: 0x900, size: 4 }, { write: () => void Atomics.wait(pause, 0, 0, 10) }); // 10 ms per exit
        return vm.run({ timeoutMs: 100 });
      });
      assert.equal(r.outcome, 'timeout');
      // One exit in progress may finish after the limit, not dozens: 100 ms + ~10 ms, far below 64 exits' 640 ms.
      assert.ok(r.durationMs >= 100 && r.durationMs < 400, `took ${r.durationMs} ms over ${r.exits} exits`);
    });

    test('stopOnByte ends the run after that console byte', () => {
      const image = arch === 'aarch64' ? 'seed-hello.bin' : 'hello.bin';
      const r = withVmHere(arch, image, {}, (vm) => vm.run({ stopOnByte: 0x0a, timeoutMs: 10_000 }));
      assert.equal(r.output.toString(), 'Hello\n');
      assert.equal(r.outcome, 'stopped');
    });

    test('a faulting guest is a GuestError with its code and registers', () => {
      withVmHere(arch, 'fault.bin', {}, (vm) => {
        const error = assertGuestError(() => vm.run({ timeoutMs: 10_000 }), c.faultCode);
        assert.equal(typeof error.registers[c.pc], 'bigint');
        assert.match(error.message, /pc 0x/);
      });
    });

    test('an access no device claims is ERR_UNHANDLED_ACCESS naming it', () => {
      withVmHere(arch, 'mmio-echo.bin', {}, (vm) => {
        const error = assertGuestError(() => vm.run({ timeoutMs: 10_000 }), 'ERR_UNHANDLED_ACCESS');
        assert.deepEqual(error.access, { kind: 'mmio', address: 0x900, exactAddress: 0x900n, size: 1, direction: 'read' });
      });
    });

    test('unhandled accesses can be ignored: reads return 0', () => {
      const r = withVmHere(arch, 'mmio-echo.bin', { unhandled: 'ignore' }, (vm) => vm.run({ timeoutMs: 10_000 }));
      assert.equal(r.outcome, c.end);
      assert.equal(r.output.length, 0);
    });

    test('a device handler that throws ends the run with ERR_HANDLER_THREW', () => {
      withVmHere(arch, 'mmio-echo.bin', {}, (vm) => {
        vm.addDevice({ kind: 'mmio', base: 0x900, size: 1 }, { read: () => { throw new Error('device broke'); } });
        const error = assertGuestError(() => vm.run({ timeoutMs: 10_000 }), 'ERR_HANDLER_THREW');
        assert.equal((error.cause as Error).message, 'device broke');
        // The VM stays usable after a failed run.
        assert.equal(typeof vm.getRegister(c.pc), 'bigint');
      });
    });

    test('bad input gets typed errors', () => {
      withVmHere(arch, 'hello.bin', {}, (vm) => {
        assert.throws(() => vm.getRegister('bogus'), { code: 'ERR_UNKNOWN_REGISTER' });
        assert.throws(() => vm.setRegister('bogus', 1), { code: 'ERR_UNKNOWN_REGISTER' });
        assert.throws(() => vm.setRegister(c.pc, -1), { code: 'ERR_INVALID_OPTION' });
        assert.throws(() => vm.load(new Uint8Array(16), { loadAddr: vm.layout.guestTop - 8 }), { code: 'ERR_IMAGE_OUT_OF_RANGE' });
        assert.throws(() => vm.load(new Uint8Array(vm.layout.regions[0]!.size + 4096)), { code: 'ERR_IMAGE_OUT_OF_RANGE' });
        const other = arch === 'x86_64' ? 'aarch64' : 'x86_64';
        assert.throws(() => vm.load(readFileSync(guest(other, 'hello.elf'))), { code: 'ERR_ELF_MACHINE' });
        assert.throws(() => vm.load(guest(arch, 'no-such.bin')), { code: 'ERR_IMAGE_NOT_FOUND' });
        assert.throws(() => vm.readMemory(0x996, 1), { code: 'ERR_ADDRESS_OUT_OF_RANGE' });
        assert.throws(() => vm.addDevice({ kind: 'mmio', base: 0x990, size: 16 }, {}), { code: 'ERR_DEVICE_OVERLAP' });
        assert.throws(() => vm.addDevice({ kind: 'mmio', base: vm.layout.regions[0]!.guestAddr, size: 16 }, {}), { code: 'ERR_DEVICE_OVERLAP' });
        assert.throws(() => vm.run({ stopOnByte: 300 }), { code: 'ERR_INVALID_OPTION' });
      });
    });

    test('close() releases the VM: calls fail with ERR_VM_CLOSED (KVM: RAM views detach)', () => {
      const vm = createVm({ arch, backend });
      const view = vm.memory();
      assert.ok(view.length > 0);
      vm.close();
      vm.close();
      if (backend === 'kvm') assert.equal(view.length, 0);
      assert.throws(() => vm.run(), { code: 'ERR_VM_CLOSED' });
      assert.throws(() => vm.getRegister(c.pc), { code: 'ERR_VM_CLOSED' });
      assert.equal(vm.stop(), false);
    });

    test('no fd or mapping leaks over 200 VMs, errors included', () => {
      const cycle = (i: number) => {
        const vm = createVm({ arch, backend });
        try {
          vm.load(guest(arch, i % 2 ? 'hello.bin' : 'fault.bin'));
          const r = vm.run({ timeoutMs: 10_000 });
          assert.equal(r.outcome, c.end); // only hello gets here; a fault throws
        } catch (error) {
          if (!(error instanceof GuestError)) throw error;
        } finally {
          vm.close();
        }
      };
      cycle(0);
      const before = processResources();
      for (let i = 0; i < 200; i++) cycle(i);
      const after = processResources();
      assert.equal(after.fds, before.fds);
      assert.ok(after.maps - before.maps < 40, `mappings grew by ${after.maps - before.maps}`);
    });

    test('femtovm run prints the guest console and exits 0; --json gives the result object', () => {
      const image = arch === 'aarch64' ? 'seed-hello.bin' : 'hello.bin';
      const limits = ['--timeout', '10000'];
      const out = execFileSync(process.execPath, [cli, 'run', guest(arch, image), '--backend', backend, '--stop-on-byte', '0x0a', ...limits], { encoding: 'utf8' });
      assert.equal(out, 'Hello\n');
      const json = JSON.parse(execFileSync(process.execPath, [cli, 'run', guest(arch, 'hello.bin'), '--backend', backend, '--json', ...limits], { encoding: 'utf8' }));
      assert.deepEqual(Object.keys(json).sort(), ['arch', 'backend', 'durationMs', 'exits', 'outcome', 'output', 'outputDropped', 'outputTruncated']);
      assert.deepEqual({ ...json, durationMs: 0 }, { backend, arch, outcome: c.end, exits: 7, output: 'Hello\n', outputTruncated: false, outputDropped: 0, durationMs: 0 });
      const fault = spawnSync(process.execPath, [cli, 'run', guest(arch, 'fault.bin'), '--backend', backend, ...limits], { encoding: 'utf8' });
      assert.equal(fault.status, 1);
      assert.match(fault.stderr, new RegExp(`^femtovm: ${c.faultCode}: .+\\n$`));
    });

    test('femtovm swarm: --json summary; failures counted (exit 1); Ctrl-C stops it and summarizes what ran (exit 130)', async () => {
      const swarm = (image: string, ...flags: string[]) => [cli, 'swarm', guest(arch, image), '--backend', backend, '--concurrency', '2', ...flags];
      const ok = spawnSync(process.execPath, swarm('hello.bin', '--count', '40', '--no-reuse', '--json'), { encoding: 'utf8' });
      assert.equal(ok.status, 0, ok.stderr);
      const summary = JSON.parse(ok.stdout);
      assert.deepEqual([summary.count, summary.ran, summary.outcomes, summary.failures], [40, 40, { [c.end]: 40 }, []]);
      assert.equal(Math.round(summary.exitsPerSecond / summary.vmsPerSecond), 7);
      assert.ok(summary.latencyMs.p50 > 0 && summary.latencyMs.p50 <= summary.latencyMs.p99 && summary.latencyMs.p99 <= summary.latencyMs.max);
      const faults = spawnSync(process.execPath, swarm('fault.bin', '--count', '4', '--json'), { encoding: 'utf8' });
      assert.equal(faults.status, 1);
      assert.deepEqual(JSON.parse(faults.stdout).failures.map((f: { code: string; count: number }) => [f.code, f.count]), [[c.faultCode, 4]]);
      // Ctrl-C once both lanes are inside a run (its --progress lines say so), however long an
      // emulated machine takes to get there: a condition, not a time.
      const child = spawn(process.execPath, swarm('spin.bin', '--count', '100', '--json', '--progress'), { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      let progress = '';
      child.stdout.on('data', (d) => (out += d));
      child.stderr.on('data', (d) => {
        progress += d;
        if (/, 2 running,/.test(progress) && !child.killed) child.kill('SIGINT'); // once: a second Ctrl-C would end it at once
      });
      const status = await new Promise((resolve) => child.on('exit', resolve));
      assert.equal(status, 130);
      const interrupted = JSON.parse(out);
      assert.equal(interrupted.ran, 2);
      assert.deepEqual(interrupted.outcomes, { aborted: interrupted.ran });
    });

    test('close() unmaps guest RAM at once, views and all, without waiting for a GC', { skip: backend === 'wasm' && 'KVM only (the wasm CPU keeps its memory for the next VM)' }, () => {
      // Mapped bytes in all: adjacent RAM mappings merge, so count bytes, not mappings.
      const mapped = () =>
        readFileSync('/proc/self/maps', 'utf8').trim().split('\n').reduce((sum, line) => {
          const [from, to] = line.split(' ')[0]!.split('-').map((h) => parseInt(h, 16));
          return sum + (to! - from!);
        }, 0);
      const mem = 8 << 20;
      const ram = 20 * (mem - 0x1000);
      const vms = Array.from({ length: 20 }, () => createVm({ arch, backend, mem }));
      const views = vms.map((vm) => vm.memory());
      const open = mapped();
      for (const vm of vms) vm.close();
      const freed = open - mapped();
      assert.ok(freed >= ram, `close() unmapped ${(freed / 2 ** 20).toFixed(1)} MiB of the ${(ram / 2 ** 20).toFixed(1)} MiB of RAM`);
      assert.ok(views.every((v) => v.length === 0), 'views are detached');
    });

    test('fresh VMs made natively (runMany, reuse: false): a setup KVM refuses is a typed error per run, nothing leaks; a short exit record is a RangeError', { skip: backend === 'wasm' && 'KVM only' }, () => {
      // A RAM region KVM refuses (not page-aligned): every run's KVM_SET_USER_MEMORY_REGION fails.
      const setup = { regions: [{ guestAddr: 0x10800, size: 0x1000 }], entry: 0x10800, stackTop: 0x11800, x86LongMode: false, x86Tables: 0, startRegisters: [], rom: { guestAddr: 0, bytes: new Uint8Array(0) }, segments: [], registers: [] as [string, bigint][], pcRegister: c.pc, ignoreUnhandled: false };
      const slot = new Float64Array(new SharedArrayBuffer(8));
      const fresh = new FreshKvmVms(arch, setup, slot);
      const before = processResources();
      for (let i = 0; i < 50; i++) assert.throws(() => fresh.run({}), (e: unknown) => e instanceof KvmError && e.code === 'ERR_MEMORY');
      const after = processResources();
      assert.equal(after.fds, before.fds, 'the VM fd of each failed run is closed');
      assert.ok(after.maps - before.maps < 10, `mappings ${before.maps} -> ${after.maps}`);
      // Thrown into JavaScript, not out of the native constructor (which would free the object under its wrapper).
      assert.throws(() => new (loadAddon().KvmOneShot)(setup, new ArrayBuffer(8), slot), RangeError);
    });

    test('VMs are created while signals keep arriving (a profiler\'s SIGPROF every 50 µs)', { skip: backend === 'wasm' && 'KVM only' }, () => {
      // KVM_CREATE_VM fails with EINTR when a signal is pending: femtovm retries it.
      const dir = mkdtempSync(join(tmpdir(), 'femtovm-prof-'));
      try {
        // Each open VM adds mappings, and KVM_CREATE_VM's window for EINTR grows with them.
        const script = `const { createVm } = require(${JSON.stringify(join(root, 'dist', 'index.js'))});
          const vms = [];
          for (let i = 0; i < 300; i++) vms.push(createVm({ arch: '${arch}', backend: 'kvm' }));
          for (const vm of vms) vm.close();`;
        const r = spawnSync(process.execPath, ['--cpu-prof', '--cpu-prof-interval', '50', '--cpu-prof-dir', dir, '-e', script], { encoding: 'utf8', timeout: 120_000 });
        assert.equal(r.status, 0, r.stderr);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });
}

describe('kvm x86_64 port I/O and long mode', { skip: kvmSkipReason('x86_64') }, () => {
    test('every out of the PIO loop reaches the port device, in order', () => {
      const seen: number[] = [];
      const r = withVm('x86_64', 'kvm', 'pio-loop.bin', {}, (vm) => {
        vm.setRegister('rcx', 300);
        vm.addDevice({ kind: 'pio', base: 0x80, size: 1 }, { write: (_, data) => void seen.push(data[0]!) });
        return vm.run({ timeoutMs: 10_000 });
      });
      assert.equal(r.outcome, 'halted');
      assert.deepEqual(seen, Array.from({ length: 300 }, (_, i) => (300 - i) & 0xff));
    });

    test('long mode: hello-long prints through the MMIO console', () => {
      const r = withVm('x86_64', 'kvm', 'hello-long.bin', { x86Mode: 'long' }, (vm) => vm.run({ timeoutMs: 10_000 }));
      assert.equal(r.output.toString(), 'Hello\n');
    });
});

function assertGuestError(run: () => unknown, code: string): GuestError {
  try {
    run();
  } catch (error) {
    assert.ok(error instanceof GuestError, `expected a GuestError, got ${String(error)}`);
    assert.equal(error.code, code);
    return error;
  }
  assert.fail(`expected ${code}, the run succeeded`);
}
