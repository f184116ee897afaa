/** Bad input that needs no KVM: images, sizes, layouts, devices, and /dev/kvm missing or unusable. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';

import { createVm, GuestError, ImageError, parseImage, parseSize } from '../src/index';
import { DeviceBus } from '../src/shared/devices';
import { customLayout, ramLayout } from '../src/shared/platform';
import { cli, guest, root } from './support';

/** A minimal ELF64 header + one PT_LOAD, for the malformed variants below. */
function elf(overrides: { cls?: number; data?: number; machine?: number; phnum?: number } = {}): Uint8Array {
  const bytes = new Uint8Array(64 + 56 + 4);
  const v = new DataView(bytes.buffer);
  bytes.set([0x7f, 0x45, 0x4c, 0x46, overrides.cls ?? 2, overrides.data ?? 1, 1]);
  v.setUint16(16, 2, true); // ET_EXEC
  v.setUint16(18, overrides.machine ?? 183, true);
  v.setBigUint64(24, 0x10000n, true); // e_entry
  v.setBigUint64(32, 64n, true); // e_phoff
  v.setUint16(54, 56, true);
  v.setUint16(56, overrides.phnum ?? 1, true);
  v.setUint32(64, 1, true); // PT_LOAD
  v.setBigUint64(64 + 8, 120n, true); // p_offset
  v.setBigUint64(64 + 24, 0x10000n, true); // p_paddr
  v.setBigUint64(64 + 32, 4n, true); // p_filesz
  v.setBigUint64(64 + 40, 8n, true); // p_memsz
  return bytes;
}

test('a well-formed ELF parses into its segment and entry', () => {
  const image = parseImage(elf(), 'aarch64', 0);
  assert.equal(image.format, 'elf');
  assert.equal(image.entry, 0x10000);
  assert.deepEqual(image.segments.map((s) => [s.guestAddr, s.data.length, s.memSize]), [[0x10000, 4, 8]]);
});

test('malformed images get ImageErrors with stable codes', () => {
  const cases: [Uint8Array, string][] = [
    [new Uint8Array(0), 'ERR_IMAGE_EMPTY'],
    [elf({ cls: 1 }), 'ERR_ELF_CLASS'],
    [elf({ data: 2 }), 'ERR_ELF_ENDIAN'],
    [elf({ machine: 62 }), 'ERR_ELF_MACHINE'],
    [elf().subarray(0, 40), 'ERR_ELF_TRUNCATED'],
    [elf().subarray(0, 100), 'ERR_ELF_TRUNCATED'],
    [elf().subarray(0, 121), 'ERR_ELF_TRUNCATED'],
    [elf({ phnum: 0 }), 'ERR_ELF_INVALID'],
  ];
  for (const [bytes, code] of cases) {
    assert.throws(() => parseImage(bytes, 'aarch64', 0x10000), (e: unknown) => e instanceof ImageError && e.code === code, code);
  }
});

test('sizes parse, and bad RAM layouts are ConfigErrors', () => {
  assert.equal(parseSize('64K'), 65536);
  assert.equal(parseSize('1M'), 1 << 20);
  assert.equal(parseSize('0x2000'), 0x2000);
  assert.throws(() => parseSize('lots'), { code: 'ERR_MEM_SIZE' });
  assert.throws(() => ramLayout('aarch64', 0, 'real'), { code: 'ERR_MEM_SIZE' });
  assert.throws(() => ramLayout('aarch64', 4097, 'real'), { code: 'ERR_MEM_SIZE' });
  assert.throws(() => ramLayout('aarch64', 2 ** 31, 'real'), { code: 'ERR_MEM_SIZE' });
  assert.throws(() => ramLayout('x86_64', 8192, 'long'), { code: 'ERR_MEM_SIZE' });
  const overlapping = [{ guestAddr: 0x10000, size: 0x2000 }, { guestAddr: 0x11000, size: 0x1000 }];
  assert.throws(() => customLayout('aarch64', overlapping, 'real'), { code: 'ERR_REGION_OVERLAP' });
  assert.throws(() => customLayout('aarch64', [{ guestAddr: 0, size: 0x1000 }], 'real'), { code: 'ERR_REGION_OVERLAP' });
  assert.throws(() => customLayout('aarch64', [{ guestAddr: 0x10800, size: 0x1000 }], 'real'), { code: 'ERR_MEM_SIZE' });
  const ok = customLayout('x86_64', [{ guestAddr: 0x100000, size: 0x10000 }, { guestAddr: 0x1000, size: 0x1000 }], 'long');
  assert.equal(ok.guestTop, 0x110000 - 7 * 4096);
  assert.equal(ok.x86Tables, ok.guestTop);
});

test('device ranges may not overlap each other or the console', () => {
  const bus = new DeviceBus();
  bus.add({ kind: 'mmio', base: 0x900, size: 8 }, {});
  assert.throws(() => bus.add({ kind: 'mmio', base: 0x904, size: 8 }, {}), { code: 'ERR_DEVICE_OVERLAP' });
  assert.throws(() => bus.add({ kind: 'mmio', base: 0x990, size: 8 }, {}), { code: 'ERR_DEVICE_OVERLAP' });
  assert.throws(() => bus.add({ kind: 'pio', base: 0x3f8, size: 1 }, {}), { code: 'ERR_DEVICE_OVERLAP' });
  assert.throws(() => bus.add({ kind: 'pio', base: 0xffff, size: 2 }, {}), { code: 'ERR_ADDRESS_OUT_OF_RANGE' });
  assert.throws(() => bus.add({ kind: 'mmio', base: -1, size: 2 }, {}), { code: 'ERR_ADDRESS_OUT_OF_RANGE' });
  bus.add({ kind: 'pio', base: 0x900, size: 8 }, {}); // another address space: no overlap
  const withRam = new DeviceBus([{ guestAddr: 0x8000, size: 0x1000 }]);
  assert.throws(() => withRam.add({ kind: 'mmio', base: 0x8ffc, size: 8 }, {}), { code: 'ERR_DEVICE_OVERLAP' });
  withRam.add({ kind: 'mmio', base: 0x9000, size: 8 }, {}); // a rejected device is not kept: its neighbour fits
  withRam.add({ kind: 'pio', base: 0x8800, size: 8 }, {}); // ports are not RAM
});

test('bad VM options are ConfigErrors before anything is created', () => {
  assert.throws(() => createVm({ arch: 'riscv' as never }), { code: 'ERR_INVALID_OPTION' });
  assert.throws(() => createVm({ x86Mode: 'protected' as never }), { code: 'ERR_INVALID_OPTION' });
  assert.throws(() => createVm({ mem: 1000 }), { code: 'ERR_MEM_SIZE' });
});

test('the WebAssembly backend runs aarch64 only: ERR_BACKEND_UNAVAILABLE otherwise', () => {
  assert.throws(() => createVm({ arch: 'x86_64', backend: 'wasm' }), { code: 'ERR_BACKEND_UNAVAILABLE' });
});

test('an instruction the WebAssembly CPU lacks is ERR_GUEST_UNSUPPORTED_INSN naming it and its PC', () => {
  const vm = createVm({ arch: 'aarch64', backend: 'wasm' });
  try {
    vm.load(new Uint8Array(new Uint32Array([0x99400040]).buffer)); // ldapur w0, [x2] (RCpc, Armv8.4)
    vm.setRegister('x2', 0x10100);
    assert.throws(() => vm.run({ timeoutMs: 5000 }), (e: unknown) => e instanceof GuestError && e.code === 'ERR_GUEST_UNSUPPORTED_INSN' && /0x99400040 at 0x10000/.test(e.message));
  } finally {
    vm.close();
  }
});

test('a guest arch the host KVM cannot run is ERR_ARCH_UNSUPPORTED', () => {
  const foreign = process.arch === 'arm64' ? 'x86_64' : 'aarch64';
  assert.throws(() => createVm({ arch: foreign, backend: 'kvm' }), { code: 'ERR_ARCH_UNSUPPORTED' });
});

/** Runs the CLI on the host arch's hello guest with another KVM device node. */
function runWithDevice(device: string) {
  const arch = process.arch === 'arm64' ? 'aarch64' : 'x86_64';
  return spawnSync(process.execPath, [cli, 'run', guest(arch, 'hello.bin'), '--backend', 'kvm', '--json'], {
    encoding: 'utf8',
    cwd: root,
    env: { ...process.env, FEMTOVM_KVM_DEVICE: device },
  });
}

test('a missing KVM device is ERR_KVM_MISSING with a clear message', () => {
  const r = runWithDevice('/nonexistent/kvm');
  assert.equal(r.status, 1);
  const json = JSON.parse(r.stdout);
  assert.equal(json.outcome, 'error');
  assert.equal(json.error.code, 'ERR_KVM_MISSING');
  assert.match(json.error.message, /missing.*npm run lab/);
});

test('a device that is not KVM is ERR_KVM_API_VERSION', () => {
  const r = runWithDevice('/dev/null');
  assert.equal(JSON.parse(r.stdout).error.code, 'ERR_KVM_API_VERSION');
});

test('a KVM device without permission is ERR_KVM_PERMISSION', () => {
  // A read-only sysctl file: opening it read-write is EACCES even for root, so no user switch is needed
  // (running the CLI as another user needs a checkout that user can read).
  const r = runWithDevice('/proc/sys/kernel/version');
  assert.equal(JSON.parse(r.stdout).error.code, 'ERR_KVM_PERMISSION');
});

test('VMs whose creation fails inside the native core are released cleanly (no crash at GC)', () => {
  // The native constructor fails after it has wrapped its JS object: 300 of those, then full GCs
  // that finalize every wrapper (a C++ throw out of the constructor corrupted the heap here).
  const arch = process.arch === 'arm64' ? 'aarch64' : 'x86_64';
  const script = `
    const { createVm } = require(${JSON.stringify(`${root}/dist/index.js`)});
    const codes = new Set();
    for (let i = 0; i < 300; i++) {
      try { createVm({ arch: '${arch}', backend: 'kvm' }); } catch (e) { codes.add(e.code); }
      if (i % 50 === 0) global.gc();
    }
    global.gc();
    process.stdout.write([...codes].join());`;
  const r = spawnSync(process.execPath, ['--expose-gc', '-e', script], { encoding: 'utf8', env: { ...process.env, FEMTOVM_KVM_DEVICE: '/dev/null' } });
  assert.equal(r.signal, null, r.stderr);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, 'ERR_KVM_API_VERSION');
});
