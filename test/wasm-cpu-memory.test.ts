// The wasm CPU's loads and stores: RAM accesses of every size and form, and the MMIO exits KVM
// would give for accesses outside RAM (with the no-syndrome cases it cannot describe).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CpuExit } from '../src/workers/wasm/a64-cpu';
import { HVC0, RAM, cpuWith, exec, runToExit, u64 } from './wasm-cpu-support';

const DATA = RAM + 0x8000; // a data area in RAM

test('sign- and zero-extending loads of every size, all addressing forms', () => {
  const cpu = cpuWith([
    0x39800020, // ldrsb x0, [x1]
    0x39c00022, // ldrsb w2, [x1]
    0x39400023, // ldrb w3, [x1]
    0x79800424, // ldrsh x4, [x1, #2]
    0x79400425, // ldrh w5, [x1, #2]
    0xb9800426, // ldrsw x6, [x1, #4]
    0xb9400427, // ldr w7, [x1, #4]
    0xf8697828, // ldr x8, [x1, x9, lsl #3]
    0xf840802a, // ldur x10, [x1, #8]
    0xf840842b, // ldr x11, [x1], #8
    0x78dfac2c, // ldrsh w12, [x1, #-6]!
    0x9800004d, // ldrsw x13, 1f
    0xd4000002, // hvc #0
    0x80000000, // 1: .word 0x80000000
  ], { x1: BigInt(DATA), x9: 1n });
  new DataView(cpu.ram.buffer, cpu.ram.byteOffset).setBigUint64(0x8000, 0x8000_0001_8001_0080n, true);
  new DataView(cpu.ram.buffer, cpu.ram.byteOffset).setBigUint64(0x8008, 0x1122_3344_5566_7788n, true);
  assert.equal(runToExit(cpu), CpuExit.Hvc);
  assert.equal(cpu.getReg('x0'), u64(-128n));
  assert.equal(cpu.getReg('x2'), 0xffff_ff80n, 'LDRSB to W: sign-extended to 32 bits, then zero');
  assert.equal(cpu.getReg('x3'), 0x80n);
  assert.equal(cpu.getReg('x4'), u64(-0x7fffn));
  assert.equal(cpu.getReg('x5'), 0x8001n);
  assert.equal(cpu.getReg('x6'), 0xffff_ffff_8000_0001n);
  assert.equal(cpu.getReg('x7'), 0x8000_0001n);
  assert.equal(cpu.getReg('x8'), 0x1122_3344_5566_7788n);
  assert.equal(cpu.getReg('x10'), 0x1122_3344_5566_7788n);
  assert.equal(cpu.getReg('x11'), 0x8000_0001_8001_0080n);
  assert.equal(cpu.getReg('x12'), 0xffff_8001n, 'pre-index: from x1 + 8 - 6');
  assert.equal(cpu.getReg('x1'), BigInt(DATA + 2));
  assert.equal(cpu.getReg('x13'), 0xffff_ffff_8000_0000n);
});

test('register-offset loads and stores: every size, each extend, scaled or not', () => {
  const base = DATA + 0x100, stores = DATA + 0x400;
  const cpu = cpuWith([
    0x38626820, // ldrb w0, [x1, x2]
    0x38a4c823, // ldrsb x3, [x1, w4, sxtw]
    0x78e27825, // ldrsh w5, [x1, x2, lsl #1]
    0x786c5826, // ldrh w6, [x1, w12, uxtw #1]
    0xb8a27827, // ldrsw x7, [x1, x2, lsl #2]
    0xb864d828, // ldr w8, [x1, w4, sxtw #2]
    0xf8627829, // ldr x9, [x1, x2, lsl #3]
    0xf862682a, // ldr x10, [x1, x2]
    0xf8626bee, // ldr x14, [sp, x2]
    0xf8a26820, // prfm pldl1keep, [x1, x2]: a NOP
    HVC0,
  ], { x1: BigInt(base), x2: 8n, x4: 0xdead_0000_ffff_fff8n /* w4 = -8 */, x12: 1n, sp: BigInt(base) });
  const dv = new DataView(cpu.ram.buffer, cpu.ram.byteOffset);
  for (let i = 0; i < 0x200; i++) dv.setUint8(0x8000 + i, (i * 37 + 0x85) & 0xff); // every byte differs, many have bit 7 set
  const at = (addr: number): number => addr - RAM;
  assert.equal(runToExit(cpu), CpuExit.Hvc);
  assert.equal(cpu.getReg('x0'), BigInt(dv.getUint8(at(base + 8))));
  assert.equal(cpu.getReg('x3'), u64(BigInt(dv.getInt8(at(base - 8)))), 'SXTW of w4 = -8');
  assert.equal(cpu.getReg('x5'), u64(BigInt(dv.getInt16(at(base + 16), true))) & 0xffff_ffffn);
  assert.equal(cpu.getReg('x6'), BigInt(dv.getUint16(at(base + 2), true)));
  assert.equal(cpu.getReg('x7'), u64(BigInt(dv.getInt32(at(base + 32), true))));
  assert.equal(cpu.getReg('x8'), BigInt(dv.getUint32(at(base - 32), true)));
  assert.equal(cpu.getReg('x9'), dv.getBigUint64(at(base + 64), true));
  assert.equal(cpu.getReg('x10'), dv.getBigUint64(at(base + 8), true), 'unscaled');
  assert.equal(cpu.getReg('x14'), dv.getBigUint64(at(base + 8), true), 'SP as the base');
  assert.equal(cpu.instret, 11);

  const st = exec([
    0x382c682b, // strb w11, [x1, x12]
    0x782c782b, // strh w11, [x1, x12, lsl #1]
    0xb82dd82b, // str w11, [x1, w13, sxtw #2]
    0xf82c782b, // str x11, [x1, x12, lsl #3]
  ], { x1: BigInt(stores), x11: 0x8899_aabb_ccdd_eeffn, x12: 1n, x13: 0xffff_ffffn /* w13 = -1 */ });
  const sdv = new DataView(st.ram.buffer, st.ram.byteOffset);
  assert.equal(sdv.getUint8(at(stores + 1)), 0xff);
  assert.equal(sdv.getUint16(at(stores + 2), true), 0xeeff);
  assert.equal(sdv.getUint32(at(stores - 4), true), 0xccdd_eeff);
  assert.equal(sdv.getBigUint64(at(stores + 8), true), 0x8899_aabb_ccdd_eeffn);
});

test('encodings that share the register-offset top bits: LSE atomics, LDRAA and a bad option UNDEFINED, MMIO exits', () => {
  const VBAR = RAM + 0x800;
  for (const insn of [0xf8200420 /* ldraa x0, [x1] */, 0xf8621829 /* ldr x9, [x1, x2, <option 000>] */]) {
    const cpu = cpuWith({ 0: [insn], 0xa00: [HVC0] }, { x1: BigInt(DATA), vbar_el1: BigInt(VBAR) });
    assert.equal(runToExit(cpu), CpuExit.Hvc, `0x${insn.toString(16)} is UNDEFINED`);
    assert.equal(cpu.getReg('esr_el1'), 0x200_0000n, 'EC 0, IL');
    assert.equal(cpu.getReg('elr_el1'), BigInt(RAM));
  }
  const atomic = cpuWith([0xb8e00041 /* ldaddal w0, w1, [x2] */, HVC0], { x0: 0x1_0000_0003n, x2: BigInt(DATA) });
  const word = new DataView(atomic.ram.buffer, atomic.ram.byteOffset + DATA - RAM);
  word.setUint32(0, 0xffff_fffe, true);
  assert.equal(atomic.run(100), CpuExit.Hvc);
  assert.equal(atomic.getReg('x1'), 0xffff_fffen, 'the old word');
  assert.equal(word.getUint32(0, true), 1, 'plus w0, wrapped at 32 bits');
  const mmio = cpuWith([0xf8626820 /* ldr x0, [x1, x2] */, HVC0], { x1: 0x900n, x2: 8n });
  assert.equal(mmio.run(100), CpuExit.Mmio);
  assert.equal(mmio.mmioAddr, 0x908);
  assert.equal(mmio.mmioSize, 8);
  mmio.completeMmioRead(0x1234);
  assert.equal(mmio.run(100), CpuExit.Hvc);
  assert.equal(mmio.getReg('x0'), 0x1234n);
});

test('stores of every size, pairs with writeback, LDPSW', () => {
  const cpu = exec([
    0x39000022, // strb w2, [x1]
    0x79000422, // strh w2, [x1, #2]
    0xb9000422, // str w2, [x1, #4]
    0xa9810c22, // stp x2, x3, [x1, #16]!
    0xa8ff1424, // ldp x4, x5, [x1], #-16
    0x69409c26, // ldpsw x6, x7, [x1, #4]
    0xf802803f, // stur xzr, [x1, #40]
  ], { x1: BigInt(DATA), x2: 0x8899_aabb_ccdd_eeffn, x3: 0x1234n });
  const dv = new DataView(cpu.ram.buffer, cpu.ram.byteOffset);
  assert.equal(dv.getUint8(0x8000), 0xff);
  assert.equal(dv.getUint16(0x8002, true), 0xeeff);
  assert.equal(dv.getUint32(0x8004, true), 0xccdd_eeff);
  assert.equal(dv.getBigUint64(0x8010, true), 0x8899_aabb_ccdd_eeffn);
  assert.equal(cpu.getReg('x4'), 0x8899_aabb_ccdd_eeffn);
  assert.equal(cpu.getReg('x5'), 0x1234n);
  assert.equal(cpu.getReg('x1'), BigInt(DATA));
  assert.equal(cpu.getReg('x6'), u64(-0x3322_1101n), 'LDPSW sign-extends 0xccddeeff');
  assert.equal(cpu.getReg('x7'), 0n);
});

test('frames on SP: pre/post-index pairs and single registers, STUR/LDUR, XZR pairs, W pairs', () => {
  const sp = BigInt(DATA + 0x100);
  const cpu = exec([
    0xa9be7bfd, // stp x29, x30, [sp, #-32]!
    0xa9017fff, // stp xzr, xzr, [sp, #16]
    0xf81f03e3, // stur x3, [sp, #-16]
    0xb85f43e4, // ldur w4, [sp, #-12]
    0xf85f8fe0, // ldr x0, [sp, #-8]!  (x0 = 0: sp + 24 was zeroed, below it nothing)
    0xa8c2fbfd, // ldp x29, x30, [sp], #40
    0x29bf0c22, // stp w2, w3, [x1, #-8]!
    0x29401424, // ldp w4, w5, [x1]
    0xa8401c26, // ldnp x6, x7, [x1]
    0x781fe022, // sturh w2, [x1, #-2]
    0xb89fc022, // ldursw x2, [x1, #-4]
  ], { sp, x0: 7n, x1: BigInt(DATA + 0x200), x2: 0xffff_ffff_8000_0001n, x3: 0x1122_3344_5566_7788n, x29: 0xf29n, x30: 0xf30n });
  const dv = new DataView(cpu.ram.buffer, cpu.ram.byteOffset);
  assert.equal(dv.getBigUint64(0x8100 - 32, true), 0xf29n);
  assert.equal(dv.getBigUint64(0x8100 - 24, true), 0xf30n);
  assert.equal(dv.getBigUint64(0x8100 - 48, true), 0x1122_3344_5566_7788n, 'stur below SP');
  assert.equal(cpu.getReg('x29'), 0n, 'ldp from sp - 40: x29 = the word at sp - 40 (zero)');
  assert.equal(cpu.getReg('sp'), sp, 'pre-index -32 - 8, post-index +40');
  assert.equal(cpu.getReg('x0'), 0n);
  assert.equal(cpu.getReg('x1'), BigInt(DATA + 0x200 - 8), 'W pair pre-index');
  assert.equal(cpu.getReg('x4'), 0x8000_0001n, 'W pair zero-extends');
  assert.equal(cpu.getReg('x5'), 0x5566_7788n);
  assert.equal(cpu.getReg('x6'), 0x5566_7788_8000_0001n, 'LDNP reads both words as one X');
  assert.equal(dv.getUint16(0x8200 - 10, true), 0x0001, 'sturh at x1 - 2');
  assert.equal(cpu.getReg('x2'), 0x1_0000n, 'ldursw from x1 - 4: the halfword stored at x1 - 2 on top');
});

test('writeback with the base as a transfer register: loads take the written-back base, stores the old one', () => {
  const cpu = exec([
    0xf8408421, // ldr x1, [x1], #8
    0xf8008c21, // str x1, [x1, #8]!
    0xa9c10821, // ldp x1, x2, [x1, #16]!
  ], { x1: BigInt(DATA) });
  const dv = new DataView(cpu.ram.buffer, cpu.ram.byteOffset);
  assert.equal(dv.getBigUint64(0x8010, true), BigInt(DATA + 8), 'str stored x1 before its writeback');
  assert.equal(cpu.getReg('x1'), BigInt(DATA + 0x20), 'base written back after the loads');
  assert.equal(cpu.getReg('x2'), 0n);
});

test('NOP hints run on; WFI still stops; LDTR and PRFUM in the imm9 space', () => {
  const cpu = exec([
    0xd503201f, // nop
    0xd503203f, // yield
    0xd5032fff, // hint #0x7f
    0xf8408822, // ldtr x2, [x1, #8]
    0xf8801020, // prfum pldl1keep, [x1, #1]
  ], { x1: BigInt(DATA) });
  assert.equal(cpu.getReg('x2'), 0n);
  assert.equal(cpu.instret, 6);
  const wfi = cpuWith([0xd503201f, 0xd503207f /* wfi */, HVC0]);
  assert.equal(wfi.run(100), CpuExit.Wfi);
  assert.equal(wfi.getReg('pc'), BigInt(RAM + 8));
});

test('MMIO reads of every size exit, and complete with the extension the load asks for', () => {
  const cases: [number, number, bigint, bigint][] = [
    // [insn, size, value the host supplies, register afterwards]
    [0x39800020 /* ldrsb x0, [x1] */, 1, 0x80n, u64(-128n)],
    [0x39400020 /* ldrb w0, [x1] */, 1, 0x1ffn, 0xffn],
    [0x79c00020 /* ldrsh w0, [x1] */, 2, 0x8001n, 0xffff_8001n],
    [0x79400020 /* ldrh w0, [x1] */, 2, 0x8001n, 0x8001n],
    [0xb9800020 /* ldrsw x0, [x1] */, 4, 0x8000_0000n, 0xffff_ffff_8000_0000n],
    [0xb9400020 /* ldr w0, [x1] */, 4, 0xdead_beefn, 0xdead_beefn],
    [0xf9400020 /* ldr x0, [x1] */, 8, 0x0123_4567_89ab_cdefn, 0x0123_4567_89ab_cdefn],
    [0x88dffc20 /* ldar w0, [x1] */, 4, 0x7n, 0x7n],
  ];
  for (const [insn, size, supplied, expected] of cases) {
    const cpu = cpuWith([insn, HVC0], { x1: 0x900n, x0: u64(-1n) });
    assert.equal(cpu.run(100), CpuExit.Mmio);
    assert.equal(cpu.mmioAddr, 0x900);
    assert.equal(cpu.mmioSize, size);
    assert.equal(cpu.mmioIsWrite, false);
    assert.equal(cpu.mmioReg, 0);
    assert.equal(cpu.getReg('pc'), BigInt(RAM), 'PC stays at the load until the host resumes');
    assert.equal(cpu.instret, 0);
    cpu.completeMmioRead(Number(supplied & 0xffff_ffffn), Number(supplied >> 32n));
    assert.equal(cpu.run(100), CpuExit.Hvc);
    assert.equal(cpu.getReg('x0'), expected, `0x${insn.toString(16)}`);
    assert.equal(cpu.instret, 2);
  }
});

test('MMIO writes of every size carry the data, masked to the size', () => {
  const cases: [number, number, number, number][] = [
    [0x39000022 /* strb w2, [x1] */, 1, 0x88, 0],
    [0x79000022 /* strh w2, [x1] */, 2, 0x7788, 0],
    [0xb9000022 /* str w2, [x1] */, 4, 0x5566_7788, 0],
    [0xf9000022 /* str x2, [x1] */, 8, 0x5566_7788, 0x1122_3344],
    [0xc89ffc22 /* stlr x2, [x1] */, 8, 0x5566_7788, 0x1122_3344],
  ];
  for (const [insn, size, lo, hi] of cases) {
    const cpu = cpuWith([insn, HVC0], { x1: 0x996n, x2: 0x1122_3344_5566_7788n });
    if (size > 1) cpu.setReg('x1', 0x908n);
    assert.equal(cpu.run(100), CpuExit.Mmio);
    assert.equal(cpu.mmioIsWrite, true);
    assert.equal(cpu.mmioSize, size);
    assert.equal(cpu.mmioAddr, size > 1 ? 0x908 : 0x996);
    assert.equal(cpu.mmioDataLo, lo);
    assert.equal(cpu.mmioDataHi, hi);
    assert.equal(cpu.mmioData, (BigInt(hi) << 32n) | BigInt(lo));
    assert.equal(cpu.run(100), CpuExit.Hvc);
  }
});

test('writeback, pair and exclusive accesses to MMIO have no syndrome: their own exit, nothing done', () => {
  const cases: [number, number][] = [
    // [insn, the address reported]
    [0xf8008c22 /* str x2, [x1, #8]! */, 0x908],
    [0xf8408422 /* ldr x2, [x1], #8 */, 0x900],
    [0xa9000c22 /* stp x2, x3, [x1] */, 0x900],
    [0xa9400c22 /* ldp x2, x3, [x1] */, 0x900],
    [0xa9bf0c22 /* stp x2, x3, [x1, #-16]! */, 0x8f0],
    [0xa8c10c22 /* ldp x2, x3, [x1], #16 */, 0x900],
    [0x38001422 /* strb w2, [x1], #1 */, 0x900],
    [0xc85f7c22 /* ldxr x2, [x1] */, 0x900],
  ];
  for (const [insn, addr] of cases) {
    const cpu = cpuWith([insn, HVC0], { x1: 0x900n, x2: 5n });
    assert.equal(cpu.run(100), CpuExit.MmioNoSyndrome);
    assert.equal(cpu.faultPc, RAM);
    assert.equal(cpu.faultInsn, insn);
    assert.equal(cpu.mmioAddr, addr);
    assert.equal(cpu.getReg('x1'), 0x900n, 'no writeback');
    assert.equal(cpu.getReg('x2'), 5n);
    assert.equal(cpu.instret, 0);
  }
});

test('an unscaled load outside RAM has a syndrome; a pair that leaves RAM halfway does nothing', () => {
  const cpu = cpuWith([0xf85f8022 /* ldur x2, [x1, #-8] */, HVC0], { x1: 0x908n });
  assert.equal(cpu.run(100), CpuExit.Mmio);
  assert.equal(cpu.mmioAddr, 0x900);
  cpu.completeMmioRead(0x77);
  assert.equal(cpu.run(100), CpuExit.Hvc);
  assert.equal(cpu.getReg('x2'), 0x77n);
  const end = BigInt(RAM + 0x10000 - 8); // the last doubleword of RAM
  const pair = cpuWith([0xa9bf0c22 /* stp x2, x3, [x1, #-16]! */, HVC0], { x1: end + 16n, x2: 5n, x3: 6n });
  assert.equal(pair.run(100), CpuExit.MmioNoSyndrome);
  assert.equal(pair.mmioAddr, RAM + 0x10000, 'the half outside RAM');
  assert.equal(new DataView(pair.ram.buffer, pair.ram.byteOffset).getBigUint64(0xfff8, true), 0n, 'the half in RAM not written');
  assert.equal(pair.getReg('x1'), end + 16n, 'no writeback');
});

test('a misaligned pre-index pair faults before its writeback', () => {
  const cpu = cpuWith({ 0: [0xa9c08c22 /* ldp x2, x3, [x1, #8]! */], 0xa00: [HVC0] }, { x1: BigInt(DATA + 4), x2: 5n, vbar_el1: BigInt(RAM + 0x800) });
  assert.equal(runToExit(cpu), CpuExit.Hvc);
  assert.equal(cpu.getReg('esr_el1'), 0x9600_0021n);
  assert.equal(cpu.getReg('far_el1'), BigInt(DATA + 12));
  assert.equal(cpu.getReg('x1'), BigInt(DATA + 4));
  assert.equal(cpu.getReg('x2'), 5n);
});

test('an instruction fetch outside RAM is a fetch abort naming the PC', () => {
  const cpu = cpuWith([0xd61f0020 /* br x1 */], { x1: 0x4_0000n });
  assert.equal(cpu.run(100), CpuExit.FetchAbort);
  assert.equal(cpu.faultPc, 0x4_0000);
  assert.equal(cpu.instret, 1);
});

test('exclusives: STXR succeeds only after LDXR armed the monitor; CLREX disarms it', () => {
  const cpu = exec([
    0xc8027c23, // stxr w2, x3, [x1]
    0xc85ffc24, // ldaxr x4, [x1]
    0xc805fc23, // stlxr w5, x3, [x1]
    0xc8067c23, // stxr w6, x3, [x1]
    0x887f2027, // ldxp w7, w8, [x1]
    0xd5033f5f, // clrex
    0x88290c23, // stxp w9, w3, w3, [x1]
  ], { x1: BigInt(DATA), x3: 0x55n, x2: 9n });
  assert.equal(cpu.getReg('x2'), 1n);
  assert.equal(cpu.getReg('x5'), 0n);
  assert.equal(cpu.getReg('x6'), 1n, 'the successful STXR cleared the monitor');
  assert.equal(cpu.getReg('x7'), 0x55n);
  assert.equal(cpu.getReg('x9'), 1n);
});

test('unaligned data accesses fault (MMU off: Device memory), with ESR and FAR', () => {
  const cpu = cpuWith({ 0: [0xb9400020 /* ldr w0, [x1] */], 0xa00: [HVC0] }, { x1: BigInt(DATA + 2), vbar_el1: BigInt(RAM + 0x800) });
  assert.equal(runToExit(cpu), CpuExit.Hvc);
  assert.equal(cpu.faultPc, RAM + 0xa00, 'vector: current EL with SP_EL1, synchronous');
  assert.equal(cpu.getReg('esr_el1'), 0x9600_0021n, 'EC 0x25 data abort, IL, DFSC alignment');
  assert.equal(cpu.getReg('far_el1'), BigInt(DATA + 2));
  assert.equal(cpu.getReg('elr_el1'), BigInt(RAM));
  const st = cpuWith({ 0: [0xa9000420 /* stp x0, x1, [x1] */], 0xa00: [HVC0] }, { x1: BigInt(DATA + 4), vbar_el1: BigInt(RAM + 0x800) });
  assert.equal(runToExit(st), CpuExit.Hvc);
  assert.equal(st.getReg('esr_el1'), 0x9600_0061n, 'WnR set for a store');
});
