// The wasm CPU's coalesced writes: stores to a coalesced range go to its ring in wasm memory and the
// CPU runs on; only a store that finds the ring full, or one KVM would not coalesce, stops it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CpuExit, type A64Cpu, type CoalescedWrite } from '../src/workers/wasm/a64-cpu';
import { HVC0, RAM, cpuWith } from './wasm-cpu-support';

const STR_W0 = 0xb9000020; // str w0, [x1]
const SUBS_X0 = 0xf1000400; // subs x0, x0, #1
const BNE_BACK_2 = 0x54ffffc1; // b.ne to two instructions back

/** Every write the ring holds, oldest first (taken: the ring is empty after). */
function taken(cpu: A64Cpu): CoalescedWrite[] {
  const all: CoalescedWrite[] = [];
  for (;;) {
    const w: CoalescedWrite = { addressLo: 0, addressHi: 0, size: 0, dataLo: 0, dataHi: 0 };
    if (!cpu.takeCoalesced(w)) return all;
    all.push(w);
  }
}

test('stores wholly inside a coalesced range go to the ring in order, masked to their size, and retire', () => {
  const code = [
    0x39000022, // strb w2, [x1]
    0x79000022, // strh w2, [x1]
    0xb9000022, // str w2, [x1]
    0xf9000022, // str x2, [x1]
    0xc89ffc22, // stlr x2, [x1]
    HVC0,
  ];
  const cpu = cpuWith(code, { x1: 0x900n, x2: 0x1122_3344_5566_7788n });
  assert.equal(cpu.coalesce(0x900, 8), true);
  assert.equal(cpu.run(100), CpuExit.Hvc);
  assert.equal(cpu.instret, code.length);
  assert.equal(cpu.coalescedPending, 5);
  const at = (size: number, dataLo: number, dataHi = 0) => ({ addressLo: 0x900, addressHi: 0, size, dataLo, dataHi });
  assert.deepEqual(taken(cpu), [at(1, 0x88), at(2, 0x7788), at(4, 0x5566_7788), at(8, 0x5566_7788, 0x1122_3344), at(8, 0x5566_7788, 0x1122_3344)]);
  assert.equal(cpu.coalescedPending, 0);
});

test('a store that finds the ring full is an MMIO exit; the ring keeps the writes before it, and starts over once taken', () => {
  const cpu = cpuWith([STR_W0, SUBS_X0, BNE_BACK_2, HVC0], { x0: 200n, x1: 0x900n });
  cpu.coalesce(0x900, 4);
  const capacity = cpu.coalescedCapacity;
  assert.equal(capacity, 169); // as KVM's ring: a 4 KiB page of 170 entries, one kept free
  assert.equal(cpu.run(100_000), CpuExit.Mmio);
  assert.deepEqual([cpu.mmioIsWrite, cpu.mmioAddr, cpu.mmioDataLo, cpu.pcNumber], [true, 0x900, 200 - capacity, RAM]);
  assert.deepEqual(taken(cpu).map((w) => w.dataLo), Array.from({ length: capacity }, (_, i) => 200 - i));
  assert.equal(cpu.run(100_000), CpuExit.Hvc); // completes the exit's store, then the rest go to the ring
  assert.deepEqual(taken(cpu).map((w) => w.dataLo), Array.from({ length: 200 - capacity - 1 }, (_, i) => 200 - capacity - 1 - i));
});

test('what KVM would not coalesce stops the CPU as before: a store not wholly inside the range, a load, a writeback store', () => {
  const cases: [number, CpuExit][] = [
    [0xb9000422 /* str w2, [x1, #4]: 0x904..0x908, the range ends at 0x906 */, CpuExit.Mmio],
    [0xb9400022 /* ldr w2, [x1] */, CpuExit.Mmio],
    [0xf8008c22 /* str x2, [x1, #8]! */, CpuExit.MmioNoSyndrome],
    [0xb9000062 /* str w2, [x3]: outside every range */, CpuExit.Mmio],
  ];
  for (const [insn, exit] of cases) {
    const cpu = cpuWith([insn, HVC0], { x1: 0x900n, x2: 5n, x3: 0xa00n });
    cpu.coalesce(0x900, 6);
    assert.equal(cpu.run(100), exit, `0x${insn.toString(16)}`);
    assert.equal(cpu.coalescedPending, 0);
  }
});

test('several ranges; a restore empties the ring and keeps them, a reset forgets them; there is a limit', () => {
  const cpu = cpuWith([STR_W0, 0xb9000060 /* str w0, [x3] */, HVC0], { x0: 9n, x1: 0x900n, x3: 0xa00n });
  cpu.coalesce(0x900, 4);
  cpu.coalesce(0xa00, 4);
  assert.equal(cpu.run(100), CpuExit.Hvc);
  assert.deepEqual(taken(cpu).map((w) => w.addressLo), [0x900, 0xa00]);
  cpu.run(0); // nothing: an empty slice
  assert.equal(cpu.coalesce(0xb00, 4), true);
  cpu.setReg('pc', BigInt(RAM));
  assert.equal(cpu.run(100), CpuExit.Hvc);
  assert.equal(cpu.coalescedPending, 2);
  // A restore (a snapshot's) empties the ring but keeps the ranges: they are the VM's devices.
  const state = cpu.saveState();
  cpu.restoreState(state, cpu.ram.slice());
  assert.equal(cpu.coalescedPending, 0);
  cpu.setReg('pc', BigInt(RAM));
  assert.equal(cpu.run(100), CpuExit.Hvc);
  assert.equal(cpu.coalescedPending, 2);
  // A reset (a new VM's) forgets them too.
  const code = cpu.ram.slice(0, 12);
  cpu.reset(RAM, 0x10000);
  assert.equal(cpu.coalescedPending, 0);
  cpu.ram.set(code);
  cpu.setReg('x1', 0x900n);
  assert.equal(cpu.run(100), CpuExit.Mmio);
  const fresh = cpuWith([STR_W0, HVC0], { x1: 0x900n });
  for (let i = 0; i < fresh.maxCoalescedRanges; i++) assert.equal(fresh.coalesce(0x1000 + 16 * i, 16), true);
  assert.equal(fresh.coalesce(0x900, 4), false);
  assert.equal(fresh.run(100), CpuExit.Mmio); // 0x900 was not taken
});

test('skipCoalescedIn takes the oldest writes while each starts in one of its ranges, and stops at the first that does not', () => {
  const cpu = cpuWith([STR_W0, 0xb9000060 /* str w0, [x3] */, 0xb9000080 /* str w0, [x4] */, SUBS_X0, 0x54ffff81 /* b.ne to four back */, HVC0], { x0: 3n, x1: 0x900n, x3: 0xa00n, x4: 0xb00n });
  for (const base of [0x900, 0xa00, 0xb00]) cpu.coalesce(base, 4);
  assert.equal(cpu.run(1000), CpuExit.Hvc);
  assert.equal(cpu.coalescedPending, 9); // 0x900, 0xa00, 0xb00, three times over
  const range = (start: number) => ({ start: BigInt(start), end: BigInt(start + 4) });
  assert.equal(cpu.skipCoalescedIn([range(0xb00)]), 0); // the oldest is 0x900's: nothing taken
  assert.equal(cpu.skipCoalescedIn([range(0xa00), range(0x900)]), 2); // 0x900, then 0xa00, in either order of ranges
  assert.deepEqual(taken(cpu).map((w) => [w.addressLo, w.dataLo]), [[0xb00, 3], [0x900, 2], [0xa00, 2], [0xb00, 2], [0x900, 1], [0xa00, 1], [0xb00, 1]]);
  cpu.setReg('x0', 2n);
  cpu.setReg('pc', BigInt(RAM));
  assert.equal(cpu.run(1000), CpuExit.Hvc);
  assert.equal(cpu.skipCoalescedIn([range(0x900), range(0xa00), range(0xb00)]), 6); // all: the ring starts over
  assert.equal(cpu.coalescedPending, 0);
});
