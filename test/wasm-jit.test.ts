/**
 * The translator of hot A64 code to WebAssembly (src/workers/wasm/jit/): translated code in
 * lockstep with the interpreter (the same state after every run() slice, the same exits: MMIO,
 * exceptions), self-modifying code, the code cache's bound and counters, and the wasm CPU tests run
 * again with every branch target translated at its first execution (FEMTOVM_TEST_JIT=on).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';

import { A64Cpu, CpuExit } from '../src/workers/wasm/a64-cpu';
import type { JitOptions } from '../src/workers/wasm/jit/code-cache';
import { HVC0, RAM, runToExit } from './wasm-cpu-support';
import { createVm } from '../src/workers/vm';
import { ConfigError } from '../src/shared/errors';
import { missingTranslatorV8Flags, TRANSLATOR_V8_FLAGS } from '../src/shared/v8-flags';
import type { VmOptions } from '../src/shared/vm-types';
import { arm64StartState } from '../src/shared/arm64-start';
import { ramLayout } from '../src/shared/platform';

const VBAR = RAM + 0x800;

function cpuWith(jit: JitOptions, code: Record<number, readonly number[]>, regs: Record<string, bigint> = {}, ramSize = 0x10000): A64Cpu {
  const cpu = new A64Cpu({ ramSize, jit });
  const ram = new DataView(cpu.ram.buffer, cpu.ram.byteOffset, cpu.ram.byteLength);
  for (const [offset, words] of Object.entries(code)) words.forEach((w, i) => ram.setUint32(Number(offset) + i * 4, w, true));
  for (const [name, value] of Object.entries(regs)) cpu.setReg(name, value);
  return cpu;
}

/**
 * Runs the same program on the interpreter and with the translator, `budget` instructions per
 * run(), and checks that every run() returns the same exit with the same state (all registers,
 * system registers, exit record, instret) and RAM, until `end`. MMIO loads read `mmioValue`.
 */
function lockstep(jit: JitOptions, code: Record<number, readonly number[]>, regs: Record<string, bigint>, budget: number,
                  end: CpuExit = CpuExit.Hvc, ramSize = 0x10000): A64Cpu {
  const interpreter = cpuWith({ mode: 'off' }, code, regs, ramSize);
  const translated = cpuWith(jit, code, regs, ramSize);
  for (let round = 0; ; round++) {
    const want = interpreter.run(budget);
    const got = translated.run(budget);
    assert.equal(got, want, `run ${round}: exit`);
    assert.deepEqual(translated.saveState(), interpreter.saveState(), `run ${round}: state (pc ${translated.pcNumber.toString(16)} vs ${interpreter.pcNumber.toString(16)})`);
    assert.deepEqual(translated.ram, interpreter.ram, `run ${round}: RAM`);
    if (want === CpuExit.Mmio && !interpreter.mmioIsWrite) {
      interpreter.completeMmioRead(0x1234_5678, 0x9abc_def0);
      translated.completeMmioRead(0x1234_5678, 0x9abc_def0);
    }
    if (want === end) return translated;
    assert.ok(want === CpuExit.SliceEnd || want === CpuExit.Mmio, `unexpected exit ${want}`);
  }
}

const guest = (name: string): Uint8Array => new Uint8Array(readFileSync(join(__dirname, '../../guests/aarch64', `${name}.bin`)));
const words = (bytes: Uint8Array): number[] => Array.from({ length: bytes.length >> 2 }, (_, i) => new DataView(bytes.buffer, bytes.byteOffset).getUint32(i * 4, true));

test('the cpu suite guests: the same state as the interpreter after every slice, whatever the slice', () => {
  const kernels: [string, bigint][] = [['cpu-countdown', 3000n], ['cpu-loadstore', 2000n], ['cpu-sort', 20n], ['cpu-calls', 200n]];
  for (const [name, n] of kernels) {
    for (const budget of [100_000, 997, 7, 1]) {
      const cpu = lockstep({ mode: 'on' }, { 0: words(guest(name)) }, { x0: n }, budget, CpuExit.Hvc, 1 << 20);
      const stats = cpu.jitStats;
      assert.ok(stats.translations > 0 && stats.hits > 0, `${name}: translated and run (${JSON.stringify(stats)})`);
    }
  }
});

test('a NOP hint is translated: a loop padded by one stays in its unit (the calls guest leaves its units rarely)', () => {
  const cpu = cpuWith({ mode: 'auto' }, { 0: words(guest('cpu-calls')) }, { x0: 3000n }, 1 << 20);
  assert.equal(runToExit(cpu), CpuExit.Hvc);
  const { hits, translations } = cpu.jitStats;
  // A NOP that ended its block made the leaf loop after it a unit of its own, entered and left on
  // every call of the leaf: ~25 instructions per unit run. Translated, a round's calls stay inside.
  assert.ok(translations <= 4 && cpu.instret / hits > 100, `${cpu.instret} instructions in ${hits} unit runs, ${translations} translations`);
});

test('MMIO inside a translated loop: the same exits with the same syndrome, loads completed the same', () => {
  const code = [
    0xb9000041, // 0: str w1, [x2]       (an MMIO exit once x2 is past RAM)
    0xb8404443, // 4: ldr w3, [x2], #4   (writeback: past RAM, an exit KVM has no syndrome for)
    0x11000421, // 8: add w1, w1, #1
    0xf1000484, // c: subs x4, x4, #1
    0x54ffff81, // 10: b.ne 0
    HVC0,
  ];
  // two iterations in RAM, then a store exit and the no-syndrome load
  lockstep({ mode: 'on' }, { 0: code }, { x2: BigInt(RAM + 0x10000 - 8), x4: 10n }, 1000, CpuExit.MmioNoSyndrome);
  // add w5, w5, #1; ldr w1, [x2]; add w1, w1, #1; subs x4, x4, #1; b.ne: the unit runs up to the load each time
  const load = [0x110004a5, 0xb9400041, 0x11000421, 0xf1000484, 0x54ffff81, HVC0];
  // Small budgets too: the access a run() completes first is not counted in its budget, with the
  // translator as without (it once ended such a slice a step early, the exit in the next one).
  for (const budget of [1000, 7, 5, 3, 1]) {
    const cpu = lockstep({ mode: 'on' }, { 0: load }, { x2: 0x1000n, x4: 50n }, budget);
    assert.ok(cpu.jitStats.hits > 0 || budget < load.length - 1, `budget ${budget}: units ran`);
  }
});

test('coalesced stores inside a translated loop: the same writes in the ring as the interpreter, the same exits; the unit runs on', () => {
  const loop = [
    0xb9000041, // 0: str w1, [x2]         (unsigned offset)
    0x39001441, // 4: strb w1, [x2, #5]
    0xf8236841, // 8: str x1, [x2, x3]     (register offset)
    0x11000421, // c: add w1, w1, #1
    0xf1000484, // 10: subs x4, x4, #1
    0x54ffff61, // 14: b.ne 0
  ];
  const STUR_OUTSIDE = 0xb81fc041; // stur w1, [x2, #-4]: 0x8fc, outside the range (an MMIO exit)
  const STR_POST = 0xb8004441; // str w1, [x2], #4: writeback, no syndrome: never coalesced
  const taken = (cpu: A64Cpu): number[][] => {
    const all: number[][] = [];
    for (const w = { addressLo: 0, addressHi: 0, size: 0, dataLo: 0, dataHi: 0 }; cpu.takeCoalesced(w); ) all.push([w.addressLo, w.size, w.dataLo, w.dataHi]);
    return all;
  };
  const cases: [string, number[], number, CpuExit][] = [
    ['three coalesced stores a round', [...loop, HVC0], 1000, CpuExit.Hvc],
    ['and one outside the range', [...loop.slice(0, 3), STUR_OUTSIDE, 0x11000421, 0xf1000484, 0x54ffff41 /* b.ne 0 */, HVC0], 60, CpuExit.Hvc],
    ['then a writeback store to the range', [...loop, STR_POST], 100, CpuExit.MmioNoSyndrome],
  ];
  for (const [name, code, rounds, end] of cases) {
    for (const budget of [100_000, 997, 7, 1]) {
      const regs = { x1: 0xa0b0_c0d0_0000_0001n, x2: 0x900n, x3: 8n, x4: BigInt(rounds) };
      const interpreter = cpuWith({ mode: 'off' }, { 0: code }, regs), translated = cpuWith({ mode: 'on' }, { 0: code }, regs);
      for (const cpu of [interpreter, translated]) cpu.coalesce(0x900, 16);
      let writes = 0;
      for (let run = 0; ; run++) {
        const want = interpreter.run(budget);
        assert.equal(translated.run(budget), want, `${name}, budget ${budget}, run ${run}: exit`);
        assert.deepEqual(translated.saveState(), interpreter.saveState(), `${name}, budget ${budget}, run ${run}: state`);
        const ring = taken(interpreter);
        assert.deepEqual(taken(translated), ring, `${name}, budget ${budget}, run ${run}: coalesced writes`);
        writes += ring.length;
        if (want === end) break;
        assert.ok(want === CpuExit.SliceEnd || want === CpuExit.Mmio, `${name}: unexpected exit ${want}`);
      }
      assert.ok(writes >= 2 * rounds, `${name}: ${writes} writes coalesced`);
      if (budget === 100_000 && name === cases[0]![0]) {
        // Before, every coalesced store left the unit: a unit run per round. Now only a full ring does.
        const { hits } = translated.jitStats;
        assert.ok(hits > 0 && hits < rounds / 10, `${hits} unit runs for ${rounds} rounds`);
      }
    }
  }
});

test('an alignment fault and an SVC inside a translated loop: the exception is taken as the interpreter takes it', () => {
  const main = [
    0xf9400020, // 0: ldr x0, [x1]     (x1 misaligned every other iteration: a data abort)
    0x91001021, // 4: add x1, x1, #4
    0xd4000001, // 8: svc #0
    0xf1000442, // c: subs x2, x2, #1
    0x54ffff81, // 10: b.ne 0
    HVC0,
  ];
  const handler = [
    0xd538520b, // mrs x11, esr_el1
    0x9100058c, // add x12, x12, #1
    0xd538402d, // mrs x13, elr_el1
    0xd538600e, // mrs x14, far_el1
    0x531a7d6f, // lsr w15, w11, #26   (EC)
    0x710095ff, // cmp w15, #0x25      (a data abort)
    0x54000061, // b.ne eret           (an SVC returns to ELR as it is)
    0x910011ad, // add x13, x13, #4    (past the faulting load)
    0xd518402d, // msr elr_el1, x13
    0xd69f03e0, // eret
  ];
  lockstep({ mode: 'on' }, { 0: main, 0xa00: handler }, { x1: BigInt(RAM + 0x400), x2: 6n, vbar_el1: BigInt(VBAR) }, 1000);
  lockstep({ mode: 'on' }, { 0: main, 0xa00: handler }, { x1: BigInt(RAM + 0x400), x2: 6n, vbar_el1: BigInt(VBAR) }, 3);
});

test('SIMD&FP loads and stores, unaligned ones in Normal RAM (MMU on): as the interpreter does them, faults and traps too', () => {
  const loop = [
    0x3ce26820, // 0: ldr q0, [x1, x2]
    0x3ca26860, // 4: str q0, [x3, x2]
    0xf8626824, // 8: ldr x4, [x1, x2]
    0x8b0400a5, // c: add x5, x5, x4
    0xacc10821, // 10: ldp q1, q2, [x1], #32
    0xad020861, // 14: stp q1, q2, [x3, #64]
    0xfc5fb023, // 18: ldur d3, [x1, #-5]
    0xbc1fdc63, // 1c: str s3, [x3, #-3]!
    0x91004042, // 20: add x2, x2, #16
    0xf104005f, // 24: cmp x2, #256
    0x54fffec1, // 28: b.ne 0
    HVC0,
  ];
  const code = { 0: loop, 0xa00: [HVC0] }; // the handler of a synchronous exception ends the run
  const data: Record<string, bigint> = { x1: BigInt(RAM + 0x8003), x3: BigInt(RAM + 0x9005), vbar_el1: BigInt(VBAR) };
  const mmuOn = Object.fromEntries(arm64StartState(ramLayout('aarch64', 0x10000, 'real'), 'mmu-on').registers);
  for (const budget of [1000, 7]) {
    const cpu = lockstep({ mode: 'on' }, code, { ...mmuOn, ...data }, budget);
    assert.ok(cpu.jitStats.hits > 0 && cpu.getReg('x2') === 256n, 'the loop ran to its end, translated');
    // MMU off: RAM is Device memory, the first unaligned access is an alignment fault
    lockstep({ mode: 'on' }, code, { ...data, cpacr_el1: 3n << 20n }, budget);
    // FP/SIMD trapped (CPACR_EL1.FPEN = 0): the first ldr q is an exception
    lockstep({ mode: 'on' }, code, { ...mmuOn, ...data, cpacr_el1: 0n }, budget);
  }
});

/**
 * A loop the guest patches: `add x1, x1, #1` (not the unit's first instruction) becomes
 * `add x1, x1, #3` after the first iteration. x1 = 1 + 9 * 3 with the units of the old code dropped,
 * 10 if a stale unit kept running.
 */
function patchInsideTheLoop(jit: JitOptions): A64Cpu {
  const cpu = cpuWith(jit, {
    0: [
      0x91000400, // 0: add x0, x0, #1
      0x91000421, // 4: add x1, x1, #1    (patched)
      0xb9000083, // 8: str w3, [x4]      (the store to code: in the unit, left to the interpreter)
      0xf1000442, // c: subs x2, x2, #1
      0x54ffff81, // 10: b.ne 0
      HVC0,
    ],
  }, { x2: 10n, x3: 0x91000c21n /* add x1, x1, #3 */, x4: BigInt(RAM + 4) });
  assert.equal(runToExit(cpu), CpuExit.Hvc);
  assert.equal(cpu.getReg('x0'), 10n);
  assert.equal(cpu.getReg('x1'), 28n, 'the patched instruction ran from the second iteration on');
  return cpu;
}

test('self-modifying code: a store to a translated loop drops its unit before it runs again', () => {
  const cpu = patchInsideTheLoop({ mode: 'on' });
  assert.ok(cpu.jitStats.invalidations >= 1, JSON.stringify(cpu.jitStats));
  patchInsideTheLoop({ mode: 'auto', hotThreshold: 2 });
  // Through one instruction at a time, every store is the interpreter's: the same result.
  const stepped = cpuWith({ mode: 'on' }, { 0: [0x91000400, 0x91000421, 0xb9000083, 0xf1000442, 0x54ffff81, HVC0] },
    { x2: 10n, x3: 0x91000c21n, x4: BigInt(RAM + 4) });
  assert.equal(runToExit(stepped, 1), CpuExit.Hvc);
  assert.equal(stepped.getReg('x1'), 28n);
});

test('self-modifying code: a store from outside the unit, between two calls of a translated function', () => {
  const run = (jit: JitOptions): A64Cpu => {
    const cpu = cpuWith(jit, {
      0: [
        0xd2800142, // 0: movz x2, #10
        0x94000007, // 4: bl body (0x20)
        0xb9000083, // 8: str w3, [x4]     patches body + 4
        0xd2800142, // c: movz x2, #10
        0x94000004, // 10: bl body
        HVC0, // 14
      ],
      0x20: [
        0x91000400, // 20: add x0, x0, #1
        0x91000421, // 24: add x1, x1, #1  (patched to #3)
        0xf1000442, // 28: subs x2, x2, #1
        0x54ffffa1, // 2c: b.ne 0x20
        0xd65f03c0, // 30: ret
      ],
    }, { x3: 0x91000c21n, x4: BigInt(RAM + 0x24) });
    assert.equal(runToExit(cpu), CpuExit.Hvc);
    assert.equal(cpu.getReg('x0'), 20n);
    assert.equal(cpu.getReg('x1'), 40n, '10 before the patch, 30 after');
    return cpu;
  };
  assert.ok(run({ mode: 'on' }).jitStats.invalidations >= 1);
  run({ mode: 'auto', hotThreshold: 3 });
});

test('the host writing code through a view of RAM kept across runs: codeWritten drops its units', () => {
  const cpu = cpuWith({ mode: 'on' }, { 0: [0x91000400, 0xf1000442, 0x54ffffc1, HVC0] }, { x2: 5n }); // add x0, #1; subs x2; b.ne
  const view = new DataView(cpu.ram.buffer, cpu.ram.byteOffset);
  assert.equal(runToExit(cpu), CpuExit.Hvc);
  assert.equal(cpu.getReg('x0'), 5n);
  view.setUint32(0, 0x91000800, true); // add x0, x0, #2
  cpu.codeWritten(RAM, 4);
  cpu.setReg('pc', BigInt(RAM));
  cpu.setReg('x2', 5n);
  assert.equal(runToExit(cpu), CpuExit.Hvc);
  assert.equal(cpu.getReg('x0'), 15n);
});

test("the code cache: bounded, counted, dropped at reset; 'auto' translates only what got hot; 'off' nothing", () => {
  const sort = { 0: words(guest('cpu-sort')) };
  const small = cpuWith({ mode: 'on', cacheUnits: 2 }, sort, { x0: 50n }, 1 << 20);
  assert.equal(runToExit(small, 997), CpuExit.Hvc); // each slice starts a unit where the last one ended
  const s = small.jitStats;
  assert.equal(s.units, 2);
  assert.ok(s.evictions > 0 && s.translations === s.units + s.evictions, JSON.stringify(s));
  small.reset(RAM, 1 << 20);
  assert.equal(small.jitStats.units, 0, 'a reset drops every unit');

  const countdown = { 0: words(guest('cpu-countdown')) };
  const auto = cpuWith({ mode: 'auto', hotThreshold: 100 }, countdown, { x0: 50n }, 1 << 20);
  assert.equal(runToExit(auto), CpuExit.Hvc);
  assert.equal(auto.jitStats.translations, 0, 'a loop of 50 iterations never got hot');
  const hot = cpuWith({ mode: 'auto', hotThreshold: 100 }, countdown, { x0: 100_000n }, 1 << 20);
  assert.equal(runToExit(hot), CpuExit.Hvc);
  assert.equal(hot.jitStats.translations, 1);
  assert.ok(hot.jitStats.hits >= 1);
  // after a reset the same code gets hot again after as many branches (its counts start afresh;
  // kept, they would pass the threshold and wrap around only after 65536 more)
  hot.reset(RAM, 1 << 20);
  hot.ram.set(guest('cpu-countdown'));
  hot.setReg('x0', 50_000n);
  assert.equal(runToExit(hot), CpuExit.Hvc);
  assert.equal(hot.jitStats.translations, 2, 'translated again after the reset');
  assert.equal(hot.getReg('x9'), 50_000n);
  const off = cpuWith({}, countdown, { x0: 100_000n }, 1 << 20);
  assert.equal(runToExit(off), CpuExit.Hvc);
  assert.deepEqual({ ...off.jitStats, compileMs: 0 }, {
    mode: 'off', units: 0, hits: 0, misses: 0, translations: 0, untranslatable: 0, invalidations: 0, evictions: 0, translatedInstructions: 0, compileMs: 0,
  });
  assert.equal(off.getReg('x9'), 100_000n);
});

test('two builds: jit off runs the interpreter alone (no hooks), which cannot turn the translator on; VMs reuse idle CPUs of their own build', () => {
  const countdown = { 0: words(guest('cpu-countdown')) };
  const off = cpuWith({}, countdown, { x0: 1000n });
  assert.equal(off.translates, false);
  assert.throws(() => off.configureJit({ mode: 'auto' }), RangeError);
  off.configureJit({ mode: 'off' });
  assert.equal(runToExit(off), CpuExit.Hvc);
  assert.equal(cpuWith({ mode: 'auto' }, countdown).translates, true);
  // A closed VM's CPU waits idle for the thread's next VM of its size: an 'auto' VM handed the
  // interpreter-only one would throw.
  const translations: number[] = []; // per 'auto' VM: counted from zero on a reused CPU too
  for (const jit of ['off', 'auto', 'off', 'auto'] as const) {
    const vm = createVm({ arch: 'aarch64', backend: 'wasm', mem: 1 << 20, jit });
    try {
      vm.load(join(__dirname, '../../guests/aarch64/cpu-countdown.bin'));
      vm.setRegister('x0', 100_000);
      const result = vm.run();
      assert.equal(result.outcome, 'system-off');
      if (jit === 'off') assert.equal(result.jit, undefined);
      else {
        assert.ok(result.jit !== undefined && result.jit.translations >= 1, JSON.stringify(result.jit));
        translations.push(result.jit.translations);
      }
    } finally {
      vm.close();
    }
  }
  assert.equal(translations[1], translations[0], 'the second auto VM translated afresh and counted from zero');
});

test('the wasm CPU tests again, every branch target translated at its first execution (FEMTOVM_TEST_JIT=on)', () => {
  const files = readdirSync(__dirname).filter((f) => /^wasm-cpu-.*\.test\.js$/.test(f)).map((f) => join(__dirname, f));
  assert.ok(files.length >= 4, 'the wasm CPU test files');
  // Without NODE_TEST_CONTEXT: under `node --test` it is set, and a child `node --test` that
  // inherits it runs nothing and exits 0.
  const { NODE_TEST_CONTEXT: _, ...env } = process.env;
  const child = spawnSync(process.execPath, ['--test', '--test-reporter=dot', ...files], {
    env: { ...env, FEMTOVM_TEST_JIT: 'on' }, encoding: 'utf8', timeout: 300_000,
  });
  assert.match(child.stdout, /\./, 'the child ran tests');
  assert.equal(child.status, 0, `${child.stdout}\n${child.stderr}`);
});

test("the VM API: jit in VmOptions, its counters in RunResult.jit; a bad jit option is a ConfigError", () => {
  const vm = createVm({ arch: 'aarch64', backend: 'wasm', mem: 1 << 20, jit: 'auto' });
  try {
    vm.load(join(__dirname, '../../guests/aarch64/cpu-countdown.bin'));
    vm.setRegister('x0', 100_000);
    const result = vm.run();
    assert.equal(result.outcome, 'system-off');
    assert.equal(result.jit?.mode, 'auto');
    assert.ok(result.jit.translations >= 1 && result.jit.hits >= 1, JSON.stringify(result.jit));
  } finally {
    vm.close();
  }
  const off = createVm({ arch: 'aarch64', backend: 'wasm' });
  try {
    off.load(join(__dirname, '../../guests/aarch64/hello.bin'));
    assert.equal(off.run().jit, undefined, 'no counters without the translator');
  } finally {
    off.close();
  }
  for (const bad of [{ jit: 'fast' }, { jit: 'on', jitCacheUnits: 0 }, { jit: 'on', jitCacheUnits: 1.5 }]) {
    assert.throws(() => createVm({ arch: 'aarch64', backend: 'wasm', ...(bad as VmOptions) }), (e: unknown) => e instanceof ConfigError && e.code === 'ERR_INVALID_OPTION');
  }
});

test('the V8 flags a translating process needs from its start: only on arm64, the last of --x/--no-x wins; the femtovm executable starts node with them', () => {
  const both = [...TRANSLATOR_V8_FLAGS];
  assert.deepEqual(both, ['--no-sparkplug', '--no-wasm-code-gc']);
  assert.deepEqual(missingTranslatorV8Flags('arm64', []), both);
  assert.deepEqual(missingTranslatorV8Flags('arm64', ['--no-sparkplug', '--no_wasm_code_gc', '--test']), []);
  assert.deepEqual(missingTranslatorV8Flags('arm64', ['--no-sparkplug', '--no-wasm-code-gc', '--sparkplug']), ['--no-sparkplug']);
  assert.deepEqual(missingTranslatorV8Flags('arm64', ['--wasm-code-gc', '--no-wasm-code-gc', '--no-sparkplug']), []);
  assert.deepEqual(missingTranslatorV8Flags('x64', []), [], 'x86-64 never crashed: no flags needed');
  const cli = readFileSync(join(__dirname, '..', 'cli.js'), 'utf8');
  assert.equal(cli.slice(0, cli.indexOf('\n')), `#!/usr/bin/env -S node ${both.join(' ')}`);
});
