/**
 * Fuzzed guests and API misuse with a fixed seed: random and mutated images run under limits, and
 * random calls with hostile arguments. Every case must end in a result or a FemtovmError with a
 * code: a crash ends the process, a hang outlives the test's timeout, and an error without a code is
 * counted and named.
 */
import { readFileSync } from 'node:fs';

import { createVm, FemtovmError, type BackendKind, type GuestArch, type Vm } from '../../src/index';
import { guest } from '../support';
import { floodGuest, seeded } from './hostile';

export interface FuzzTally {
  cases: number;
  results: number;
  typedErrors: number;
  /** Errors without a code: each should be none. */
  untyped: string[];
  codes: Record<string, number>;
}

const junk: unknown[] = [undefined, null, 0, -1, 1.5, Number.NaN, Infinity, 2 ** 53, 2 ** 64, 'abc', '0x10', '', {}, [], () => 1, Symbol('x'), 1n, -1n, 2n ** 64n, new Uint8Array(3), true, 0x900, 0x10000, 4096];

export function fuzz(count: number, seed: number, targets: [GuestArch, BackendKind][]): FuzzTally {
  const random = seeded(seed);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)]!;
  const tally: FuzzTally = { cases: 0, results: 0, typedErrors: 0, untyped: [], codes: {} };
  const seeds = targets.map(([arch]) => [guest(arch, 'hello.bin'), guest(arch, 'mmio-echo.bin'), guest(arch, 'fault.bin')].map((p) => readFileSync(p)));
  const elf = readFileSync(guest('aarch64', 'hello.elf'));

  const image = (arch: GuestArch, t: number): Uint8Array => {
    const kind = random();
    if (kind < 0.4) return Uint8Array.from({ length: 1 + Math.floor(random() * 256) }, () => Math.floor(random() * 256));
    const base = kind < 0.6 && arch === 'aarch64' ? elf : kind < 0.9 ? pick(seeds[t]!) : floodGuest(arch);
    const mutated = Uint8Array.from(base);
    for (let i = Math.floor(random() * 8); i >= 0; i--) mutated[Math.floor(random() * mutated.length)] = Math.floor(random() * 256);
    return mutated;
  };

  const misuse = (vm: Vm, arch: GuestArch): unknown => {
    const pc = arch === 'x86_64' ? 'rip' : 'pc';
    const a = pick(junk);
    const b = pick(junk);
    switch (Math.floor(random() * 12)) {
      case 0:
        return vm.load(pick([a, guest(arch, 'hello.bin')]) as never, pick([{ entry: a }, { loadAddr: a }, {}, b]) as never);
      case 1:
        return vm.setRegister(pick([pc, 'x0', 'rax', 'pstate', 'sctlr_el1', 'cntvct_el0', 'currentel', a]) as never, pick([a, b, 0n, 0x10000n]) as never);
      case 2:
        return vm.getRegister(pick([pc, a]) as never);
      case 3:
        return vm.readMemory(a as never, b as never);
      case 4:
        return vm.writeMemory(a as never, pick([b, new Uint8Array(4)]) as never);
      case 5:
        return vm.memory(a as never);
      case 6:
        return vm.addDevice(pick([a, { kind: pick(['mmio', 'pio', a]), base: pick([0x900, a]), size: pick([1, b]) }]) as never, pick([b, {}, { read: () => { throw new Error('device broke'); } }]) as never);
      case 7:
        return vm.addNativeDevice(pick([a, { kind: 'mmio', base: 0x900, size: 8 }]) as never, pick([b, { type: pick(['constant', 'counter', a]), value: b }]) as never);
      case 8: {
        // Any run options, but a run always ends: no limit is replaced by a short one.
        const options = pick([a, { maxExits: a, stopOnByte: b }, { maxOutputBytes: a }, { timeoutMs: a }]);
        const bounded = options !== null && typeof options === 'object' && !Array.isArray(options) ? { ...(options as object), timeoutMs: 50 } : options;
        return vm.run(bounded as never);
      }
      case 9:
        return pick([() => vm.snapshot(), () => vm.restore()])();
      case 10:
        return createVm(pick([a, { arch: a }, { arch, mem: a }, { arch, regions: pick([a, [a], [{ guestAddr: a, size: b }]]) }, { arch, unhandled: a }, { arch, x86Mode: a }]) as never).close();
      default:
        vm.close();
        return vm.run({ timeoutMs: 1 });
    }
  };

  const attempt = (f: () => unknown, what: string) => {
    tally.cases++;
    try {
      f();
      tally.results++;
    } catch (error) {
      if (error instanceof FemtovmError && typeof error.code === 'string') {
        tally.typedErrors++;
        tally.codes[error.code] = (tally.codes[error.code] ?? 0) + 1;
      } else if (tally.untyped.length < 20) {
        tally.untyped.push(`${what}: ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}`);
      } else tally.untyped.push('…');
    }
  };

  for (let i = 0; i < count; i++) {
    const t = i % targets.length;
    const [arch, backend] = targets[t]!;
    const vm = createVm({ arch, backend, unhandled: random() < 0.5 ? 'error' : 'ignore' });
    try {
      if (i % 2 === 0) {
        attempt(() => {
          vm.load(image(arch, t));
          vm.run({ timeoutMs: 20, maxExits: 200, maxOutputBytes: 64 });
        }, `image #${i} on ${backend}`);
      } else {
        vm.load(guest(arch, 'hello.bin'));
        attempt(() => misuse(vm, arch), `misuse #${i} on ${backend}`);
      }
    } finally {
      vm.close();
    }
  }
  return tally;
}
