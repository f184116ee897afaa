/**
 * The C SDK's example guests (guests/sdk, built by guests/build.sh without -mgeneral-regs-only or
 * -mstrict-align) on every backend this host has: KVM x86-64 (here or in the x86 lab), KVM arm64
 * (the arm64 lab) and the WebAssembly CPU, interpreting and with its translator on (every block
 * translated at first execution) and auto. Each example must print the same text and return the same
 * result everywhere, and the results must be right: the checksums and the FP values are recomputed here.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, test } from 'node:test';

import { createVm, GuestError, GuestProgram, ImageError, ConfigError, type BackendKind, type GuestArch, type GuestCall, type JitMode } from '../src/index';
import { guest, kvmSkipReason, root, testPool } from './support';

const sdkGuest = (arch: GuestArch, name: string): string => join(root, 'guests', 'sdk', arch, `${name}.bin`);

/** Why the host's KVM cannot run the SDK's x86-64 guests, if it cannot: some KVMs (kvm_pvm) fail every SSE instruction. */
function x86SseSkipReason(): string | undefined {
  const skip = kvmSkipReason('x86_64');
  if (skip !== undefined) return skip;
  const vm = createVm({ arch: 'x86_64', x86Mode: 'long' });
  try {
    vm.load(new Uint8Array([0x66, 0x0f, 0xef, 0xc0, 0xf4])); // pxor xmm0, xmm0; hlt
    vm.run({ timeoutMs: 5000 });
    return undefined;
  } catch (error) {
    if (error instanceof GuestError && error.code === 'ERR_GUEST_INTERNAL_ERROR') return `this host's KVM cannot run SSE instructions (${error.message}); the x86 lab runs these tests`;
    throw error;
  } finally {
    vm.close();
  }
}

interface Target {
  arch: GuestArch;
  backend: BackendKind;
  skip: string | undefined;
  /** The WebAssembly CPU's translator (off when not given). */
  jit?: JitMode;
}

const targets: Target[] = [
  { arch: 'x86_64', backend: 'kvm', skip: x86SseSkipReason() },
  { arch: 'aarch64', backend: 'kvm', skip: kvmSkipReason('aarch64') },
  { arch: 'aarch64', backend: 'wasm', skip: undefined },
  { arch: 'aarch64', backend: 'wasm', skip: undefined, jit: 'on' },
  { arch: 'aarch64', backend: 'wasm', skip: undefined, jit: 'auto' },
];

// The recomputations the examples must match.
function adler32(data: Uint8Array): number {
  let a = 1, b = 0;
  for (const byte of data) {
    a = (a + byte) % 65521;
    b = (b + a) % 65521;
  }
  return ((b << 16) | a) >>> 0;
}
function crc32(data: Uint8Array): number {
  let crc = 0xffffffff;
  for (const byte of data) {
    crc ^= byte;
    for (let k = 0; k < 8; k++) crc = crc & 1 ? 0xedb88320 ^ (crc >>> 1) : crc >>> 1;
  }
  return (crc ^ 0xffffffff) >>> 0;
}
function fnv1a64(data: Uint8Array): bigint {
  let h = 0xcbf29ce484222325n;
  for (const byte of data) h = BigInt.asUintN(64, (h ^ BigInt(byte)) * 0x100000001b3n);
  return h;
}
function fpExpected(n: number): number[] {
  let basel = 0;
  let tenths = Math.fround(0);
  for (let k = 1; k <= n; k++) {
    basel += 1.0 / (k * k);
    tenths = Math.fround(tenths + Math.fround(Math.fround(k) * Math.fround(0.1)));
  }
  let r = n > 1 ? n / 2 : 1;
  for (let i = 0; i < 60; i++) r = 0.5 * (r + n / r);
  let inside = 0;
  for (let i = 0; i < n; i++)
    for (let j = 0; j < n; j++) {
      const x = (i + 0.5) / n, y = (j + 0.5) / n;
      if (x * x + y * y < 1.0) inside++;
    }
  return [basel, Math.sqrt(6 * basel), r, tenths, inside];
}
const u32 = (n: number): Uint8Array => new Uint8Array(new Uint32Array([n]).buffer);

/** What each example printed and returned per target, compared across targets at the end. */
const seen = new Map<string, Map<string, string>>();
function remember(example: string, target: Target, value: string): void {
  if (!seen.has(example)) seen.set(example, new Map());
  seen.get(example)!.set(`${target.arch}/${target.backend}${target.jit ? ` jit ${target.jit}` : ''}`, value);
}

for (const target of targets) {
  describe(`SDK examples on ${target.backend} (${target.arch}${target.jit ? `, jit ${target.jit}` : ''})`, { skip: target.skip }, () => {
    const program = (name: string) => new GuestProgram(sdkGuest(target.arch, name), { arch: target.arch });

    test('hello prints through printf and the heap, and exits with status 0', () => {
      const hello = program('hello');
      const vm = createVm({ ...hello.vmOptions(), backend: target.backend, jit: target.jit });
      try {
        vm.load(hello.image);
        // A limit for a hung guest only: with jit on, the process's first VM translates every block,
        // which took 10.7–17 s in the emulated arm64 lab under load.
        const call = hello.callOn(vm, new Uint8Array(0), { timeoutMs: 120_000 });
        assert.equal(call.run.outcome, target.arch === 'x86_64' ? 'halted' : 'system-off');
        assert.deepEqual([call.exited, call.status], [true, 0]);
        assert.equal(call.run.output.toString(), `Hello from C on ${target.arch}!\n40 + 2 = 42, beef in hex,  3.14 (31 chars)\n`);
        if (target.jit === 'on') assert.ok((call.run.jit?.translations ?? 0) > 0, `translated code ran: ${JSON.stringify(call.run.jit)}`);
        remember('hello', target, call.run.output.toString().replace(target.arch, 'ARCH'));
      } finally {
        vm.close();
      }
    });

    test('checksum: one program called 40 times on a pool with different inputs (warm VMs reset per call)', async () => {
      const checksum = program('checksum');
      const pool = testPool({ maxThreads: 2 });
      try {
        const inputs = Array.from({ length: 40 }, (_, i) => {
          const data = new Uint8Array(i * 997 + (i % 3));
          for (let j = 0; j < data.length; j++) data[j] = (j * 31 + i * 7) & 0xff;
          return data;
        });
        const calls = await Promise.all(inputs.map((input) => checksum.call(pool, input, { backend: target.backend, jit: target.jit, timeoutMs: 20_000 })));
        const digests = calls.map((call: GuestCall, i) => {
          assert.deepEqual([call.exited, call.status, call.result.length], [true, 0, 16], `call ${i}`);
          const view = new DataView(call.result.buffer, call.result.byteOffset, 16);
          const input = inputs[i]!;
          assert.equal(view.getUint32(0, true), adler32(input), `adler32 of input ${i}`);
          assert.equal(view.getUint32(4, true), crc32(input), `crc32 of input ${i}`);
          assert.equal(view.getBigUint64(8, true), fnv1a64(input), `fnv1a64 of input ${i}`);
          return Buffer.from(call.result).toString('hex');
        });
        remember('checksum', target, digests.join(','));
        // An input larger than the region is refused before any run.
        await assert.rejects(checksum.call(pool, new Uint8Array(checksum.io.inputCap + 1), { backend: target.backend }), (e: unknown) => e instanceof ConfigError && e.code === 'ERR_INPUT_TOO_LARGE');
      } finally {
        await pool.close();
      }
    });

    test('fp: double and single precision results equal to the same computation in JavaScript', () => {
      const fp = program('fp');
      for (const n of [1, 7, 300]) {
        const vm = createVm({ ...fp.vmOptions(), backend: target.backend, jit: target.jit });
        try {
          vm.load(fp.image);
          const call = fp.callOn(vm, u32(n), { timeoutMs: 20_000 });
          assert.deepEqual([call.exited, call.status, call.result.length], [true, 0, 40]);
          const values = Array.from(new Float64Array(call.result.slice().buffer));
          assert.deepEqual(values, fpExpected(n), `n = ${n}`);
          remember(`fp ${n}`, target, call.run.output.toString());
        } finally {
          vm.close();
        }
      }
    });
  });
}

test('a process started without the V8 flags the translator needs: on arm64 a translating VM is a BackendUnavailableError (ERR_JIT_V8_FLAGS), elsewhere it runs', () => {
  const script = `const { createVm } = require(${JSON.stringify(join(root, 'dist', 'index.js'))});
    try { createVm({ arch: 'aarch64', backend: 'wasm', jit: 'auto' }).close(); console.log('made'); } catch (e) { console.log(e.name, e.code, e.message); }`;
  const child = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 120_000 });
  assert.equal(child.status, 0, child.stderr);
  if (process.arch === 'arm64') assert.match(child.stdout, /^BackendUnavailableError ERR_JIT_V8_FLAGS .*--no-sparkplug --no-wasm-code-gc/);
  else assert.equal(child.stdout, 'made\n');
});

test('every target that ran an example printed and returned the same', () => {
  for (const [example, byTarget] of seen) {
    const values = [...byTarget.values()];
    for (const [name, value] of byTarget) assert.equal(value, values[0], `${example} on ${name} differs from ${[...byTarget.keys()][0]}`);
  }
});

test('GuestProgram: an image without the SDK header, RAM too small for its regions, and a result length beyond its region are typed errors', () => {
  assert.throws(() => new GuestProgram(guest('aarch64', 'hello.bin'), { arch: 'aarch64' }), (e: unknown) => e instanceof ImageError && e.code === 'ERR_GUEST_IO_HEADER');
  assert.throws(() => new GuestProgram(sdkGuest('aarch64', 'checksum'), { arch: 'aarch64', mem: 64 * 1024 }), (e: unknown) => e instanceof ImageError && e.code === 'ERR_GUEST_IO_HEADER');
  const program = new GuestProgram(sdkGuest('x86_64', 'checksum'), { arch: 'x86_64' });
  const header = new Uint8Array(72);
  const view = new DataView(header.buffer);
  view.setBigUint64(6 * 8, BigInt(program.io.resultCap + 1), true); // result_len
  view.setBigUint64(8 * 8, 1n, true); // exited
  const run = { backend: 'kvm' as const, arch: 'x86_64' as const, outcome: 'halted' as const, exits: 1, output: Buffer.alloc(0), outputTruncated: false, outputDropped: 0, durationMs: 0 };
  assert.throws(() => program.parseResult(run, [header, new Uint8Array(program.io.resultCap)]), (e: unknown) => e instanceof GuestError && e.code === 'ERR_GUEST_RESULT_INVALID');
  view.setBigUint64(6 * 8, 3n, true);
  view.setBigUint64(7 * 8, BigInt.asUintN(64, -2n), true); // status -2
  assert.deepEqual(program.parseResult(run, [header, new Uint8Array([1, 2, 3, 4])]), { run, exited: true, status: -2, result: new Uint8Array([1, 2, 3]) });
});
