/**
 * API misuse gets a typed error with a code, never a TypeError from deep inside, a hang, or a silent
 * wrong answer: pool and swarm options, run() arguments, registers, devices, layouts, the CLI.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, test } from 'node:test';

import { createVm, FemtovmError, maxPoolThreads, VmPool, type Vm } from '../../src/index';
import { runSwarm } from '../../src/host/swarm';
import { countFailure, countRun, emptyTally, MAX_LATENCIES } from '../../src/shared/swarm-tally';
import { cli, guest } from '../support';
import { backends, inLab } from './hostile';

/** `f` throws (or rejects) a FemtovmError with `code`. */
async function typed(f: () => unknown, code: string, what: string): Promise<void> {
  try {
    await f();
  } catch (error) {
    assert.ok(error instanceof FemtovmError, `${what}: ${String(error)}`);
    assert.equal(error.code, code, `${what}: ${error.message}`);
    return;
  }
  assert.fail(`${what}: no error`);
}

describe('pool and swarm options', () => {
  test('bad maxThreads, maxQueue, idleTimeoutMs, stopGraceMs, warmBytes are ERR_INVALID_OPTION', async () => {
    for (const maxThreads of [Number.NaN, 0, -1, '2', 1.5, 1e9, maxPoolThreads() + 1]) await typed(() => new VmPool({ maxThreads: maxThreads as number }), 'ERR_INVALID_OPTION', `maxThreads ${String(maxThreads)}`);
    for (const maxQueue of [0, -1, 1.5, Number.NaN, '1']) await typed(() => new VmPool({ maxQueue: maxQueue as number }), 'ERR_INVALID_OPTION', `maxQueue ${String(maxQueue)}`);
    for (const idleTimeoutMs of [-1, Number.NaN, Infinity]) await typed(() => new VmPool({ idleTimeoutMs }), 'ERR_INVALID_OPTION', `idleTimeoutMs ${idleTimeoutMs}`);
    await typed(() => new VmPool({ stopGraceMs: 0 }), 'ERR_INVALID_OPTION', 'stopGraceMs 0');
    await typed(() => new VmPool({ warmBytes: -1 }), 'ERR_INVALID_OPTION', 'warmBytes -1');
    await typed(() => new VmPool(null as never), 'ERR_INVALID_OPTION', 'null options');
  });

  test('maxQueue 1: a second VM waiting for the one thread is ERR_POOL_FULL at once; maxQueue 0 is refused', async () => {
    await typed(() => new VmPool({ maxQueue: 0 }), 'ERR_INVALID_OPTION', 'maxQueue 0');
    const pool = new VmPool({ maxThreads: 1, maxQueue: 1 });
    try {
      const wasm = { arch: 'aarch64', backend: 'wasm' } as const;
      const busy = await pool.createVm(wasm);
      const queued = pool.run(guest('aarch64', 'hello.bin'), wasm);
      await typed(() => pool.run(guest('aarch64', 'hello.bin'), wasm), 'ERR_POOL_FULL', 'a full queue');
      await busy.close();
      assert.equal((await queued).output.toString(), 'Hello\n');
    } finally {
      await pool.close();
    }
  });

  test('pool.run: a null image, bad registers or a non-cloneable option is a typed error; the pool goes on', async () => {
    const pool = new VmPool({ maxThreads: 1 });
    try {
      const wasm = { arch: 'aarch64', backend: 'wasm' } as const;
      await typed(() => pool.run(null as never, wasm), 'ERR_INVALID_OPTION', 'null image');
      await typed(() => pool.run(42 as never, wasm), 'ERR_INVALID_OPTION', 'a number as image');
      await typed(() => pool.run(guest('aarch64', 'hello.bin'), null as never), 'ERR_INVALID_OPTION', 'null options');
      await typed(() => pool.run(guest('aarch64', 'hello.bin'), { ...wasm, registers: { x0: (() => 1) as never } }), 'ERR_INVALID_OPTION', 'a function as register value');
      await typed(() => pool.run(guest('aarch64', 'hello.bin'), { ...wasm, load: { entry: (() => 1) as never } }), 'ERR_INVALID_OPTION', 'a function in load options');
      await typed(() => pool.createVm({ ...wasm, x86Mode: Symbol('x') as never }), 'ERR_INVALID_OPTION', 'a symbol option');
      const vm = await pool.createVm(wasm);
      try {
        await typed(() => vm.run(null as never), 'ERR_INVALID_OPTION', 'RemoteVm.run(null)');
        await typed(() => vm.load(null as never), 'ERR_INVALID_OPTION', 'RemoteVm.load(null)');
        await typed(() => vm.addDeviceModule({ kind: 'mmio', base: 0x900, size: 1 }, '/no/such/module.js'), 'ERR_INVALID_OPTION', 'a missing device module');
      } finally {
        await vm.close();
      }
      assert.equal((await pool.run(guest('aarch64', 'hello.bin'), wasm)).output.toString(), 'Hello\n');
    } finally {
      await pool.close();
    }
  });

  test('swarm concurrency is capped at maxPoolThreads(); 0 is ERR_INVALID_OPTION', async () => {
    const summary = await runSwarm(guest('aarch64', 'hello.bin'), { count: 3, concurrency: 1000, vm: { arch: 'aarch64', backend: 'wasm' } });
    assert.equal(summary.concurrency, maxPoolThreads());
    assert.equal(summary.ran, 3);
    await typed(() => runSwarm(guest('aarch64', 'hello.bin'), { count: 1, concurrency: 0 }), 'ERR_INVALID_OPTION', 'concurrency 0');
  });
});

for (const [arch, backend, skip] of backends) {
  describe(`Vm misuse on ${backend} (${arch})`, { skip }, () => {
    const withVm = (f: (vm: Vm) => void) => {
      const vm = createVm({ arch, backend });
      try {
        f(vm);
      } finally {
        vm.close();
      }
    };
    const pc = arch === 'x86_64' ? 'rip' : 'pc';

    test('setRegister with values no register takes: ERR_INVALID_OPTION; unknown names: ERR_UNKNOWN_REGISTER', async () => {
      for (const value of [1.5, Number.NaN, Infinity, null, 'abc', {}, -1, 2n ** 64n, undefined, [], Symbol('x')]) {
        await typed(() => withVm((vm) => vm.setRegister(pc, value as never)), 'ERR_INVALID_OPTION', `setRegister(${String(value)})`);
      }
      for (const name of [null, 42, {}, 'bogus', 'toString', '__proto__']) await typed(() => withVm((vm) => vm.setRegister(name as never, 1)), 'ERR_UNKNOWN_REGISTER', `register ${String(name)}`);
      if (arch === 'aarch64') {
        // Registers that take only some values: a code, whichever the backend.
        for (const [name, value] of [['pstate', 0xffffn], ['currentel', 0xffn], ['cntvct_el0', 5n], ['sctlr_el1', 2n ** 63n]] as const) {
          try {
            withVm((vm) => vm.setRegister(name, value));
          } catch (error) {
            assert.ok(error instanceof FemtovmError && typeof error.code === 'string', `${name}: ${String(error)}`);
          }
        }
      }
    });

    test('load, memory, readMemory, run, addDevice and addNativeDevice with bad arguments', async () => {
      const image = guest(arch, 'hello.bin');
      const cases: [string, (vm: Vm) => unknown, string][] = [
        ['load(null)', (vm) => vm.load(null as never), 'ERR_INVALID_OPTION'],
        ['load(42)', (vm) => vm.load(42 as never), 'ERR_INVALID_OPTION'],
        ['load entry 1.5', (vm) => vm.load(image, { entry: 1.5 }), 'ERR_INVALID_OPTION'],
        ['load entry -1', (vm) => vm.load(image, { entry: -1 }), 'ERR_INVALID_OPTION'],
        ['load loadAddr NaN', (vm) => vm.load(image, { loadAddr: Number.NaN }), 'ERR_INVALID_OPTION'],
        ['load options null', (vm) => vm.load(image, null as never), 'ERR_INVALID_OPTION'],
        ['memory(1)', (vm) => vm.memory(1), 'ERR_INVALID_OPTION'],
        ['memory(-1)', (vm) => vm.memory(-1), 'ERR_INVALID_OPTION'],
        ['memory("0")', (vm) => vm.memory('0' as never), 'ERR_INVALID_OPTION'],
        ['readMemory(undefined, 4)', (vm) => vm.readMemory(undefined as never, 4), 'ERR_ADDRESS_OUT_OF_RANGE'],
        ['readMemory(0x10000, -1)', (vm) => vm.readMemory(0x10000, -1), 'ERR_ADDRESS_OUT_OF_RANGE'],
        ['writeMemory(NaN)', (vm) => vm.writeMemory(Number.NaN, new Uint8Array(1)), 'ERR_ADDRESS_OUT_OF_RANGE'],
        ['run(null)', (vm) => vm.run(null as never), 'ERR_INVALID_OPTION'],
        ['run("fast")', (vm) => vm.run('fast' as never), 'ERR_INVALID_OPTION'],
        ['run timeoutMs "1"', (vm) => vm.run({ timeoutMs: '1' as never }), 'ERR_INVALID_OPTION'],
        ['addDevice(null, …)', (vm) => vm.addDevice(null as never, {}), 'ERR_INVALID_OPTION'],
        ['addDevice kind bogus', (vm) => vm.addDevice({ kind: 'bogus' as never, base: 0x900, size: 1 }, {}), 'ERR_INVALID_OPTION'],
        ['addDevice device null', (vm) => vm.addDevice({ kind: 'mmio', base: 0x900, size: 1 }, null as never), 'ERR_INVALID_OPTION'],
        ['addDevice base "0x900"', (vm) => vm.addDevice({ kind: 'mmio', base: '0x900' as never, size: 1 }, {}), 'ERR_ADDRESS_OUT_OF_RANGE'],
        ['addNativeDevice constant 1.5', (vm) => vm.addNativeDevice({ kind: 'mmio', base: 0x900, size: 1 }, { type: 'constant', value: 1.5 }), 'ERR_INVALID_OPTION'],
        ['addNativeDevice constant "1"', (vm) => vm.addNativeDevice({ kind: 'mmio', base: 0x900, size: 1 }, { type: 'constant', value: '1' as never }), 'ERR_INVALID_OPTION'],
        ['addNativeDevice spec null', (vm) => vm.addNativeDevice({ kind: 'mmio', base: 0x900, size: 1 }, null as never), 'ERR_INVALID_OPTION'],
        ['addNativeDevice type bogus', (vm) => vm.addNativeDevice({ kind: 'mmio', base: 0x900, size: 1 }, { type: 'bogus' } as never), 'ERR_INVALID_OPTION'],
      ];
      for (const [what, f, code] of cases) await typed(() => withVm(f), code, what);
    });

    test('createVm with bad options: arch "toString", unhandled "bogus", malformed regions', async () => {
      const cases: [string, unknown, string][] = [
        ['arch toString', { arch: 'toString', backend }, 'ERR_INVALID_OPTION'],
        ['arch __proto__', { arch: '__proto__', backend }, 'ERR_INVALID_OPTION'],
        ['unhandled bogus', { arch, backend, unhandled: 'bogus' }, 'ERR_INVALID_OPTION'],
        ['options null', null, 'ERR_INVALID_OPTION'],
        ['regions null', { arch, backend, regions: null }, 'ERR_INVALID_OPTION'],
        ['regions [null]', { arch, backend, regions: [null] }, 'ERR_INVALID_OPTION'],
        ['regions ["x"]', { arch, backend, regions: ['x'] }, 'ERR_INVALID_OPTION'],
        ['a region at 2^52', { arch, backend, regions: [{ guestAddr: 2 ** 52, size: 4096 }] }, 'ERR_ADDRESS_OUT_OF_RANGE'],
        ['a region of 1.5 pages', { arch, backend, regions: [{ guestAddr: 0x10000, size: 6144 }] }, 'ERR_MEM_SIZE'],
        ['mem "1M"', { arch, backend, mem: '1M' }, 'ERR_MEM_SIZE'],
      ];
      for (const [what, options, code] of cases) await typed(() => createVm(options as never).close(), code, what);
    });
  });
}

describe('the CLI', { skip: inLab ? 'the CLI is tested on the host' : undefined }, () => {
  test('--entry 1.5 and --concurrency 1.5 are refused with a message, not run', () => {
    for (const args of [['run', guest('aarch64', 'hello.bin'), '--entry', '1.5'], ['swarm', guest('aarch64', 'hello.bin'), '--count', '2', '--concurrency', '1.5']]) {
      const r = spawnSync(process.execPath, [cli, ...args, '--backend', 'wasm'], { encoding: 'utf8' });
      assert.notEqual(r.status, 0);
      assert.match(r.stderr, /whole number/);
    }
  });
});

describe('a swarm tally does not grow with its count', () => {
  test('latencies are sampled past MAX_LATENCIES; failure groups are capped, the rest counted by code', () => {
    const tally = emptyTally();
    for (let i = 0; i < MAX_LATENCIES + 5000; i++) countRun(tally, 'halted', 1, i);
    assert.equal(tally.latenciesMs.length, MAX_LATENCIES);
    assert.equal(tally.outcomes.halted, MAX_LATENCIES + 5000);
    for (let i = 0; i < 1000; i++) countFailure(tally, 'ERR_GUEST_SHUTDOWN', `triple fault (pc 0x${i.toString(16)})`, 1);
    assert.ok(tally.failures.length <= 65, `${tally.failures.length} groups`);
    assert.equal(tally.failures.reduce((n, f) => n + f.count, 0), 1000);
  });
});
