// Hand-written edge cases for the wasm CPU's integer instructions (the random differential test
// in cpu-diff.test.ts covers the rest). Instruction words were made with aarch64-linux-gnu-as.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CpuExit } from '../src/workers/wasm/a64-cpu';
import { HVC0, cpuWith, exec, flags, runToExit, u64 } from './wasm-cpu-support';

const N = 8, Z = 4, C = 2, V = 1;
const INT64_MIN = 1n << 63n;

test('ADDS/SUBS set NZCV at the signed and unsigned boundaries (64 and 32 bits)', () => {
  const adds = [
    0xab020020, // adds x0, x1, x2
  ];
  let cpu = exec(adds, { x1: INT64_MIN - 1n, x2: 1n }); // INT64_MAX + 1
  assert.equal(cpu.getReg('x0'), INT64_MIN);
  assert.equal(flags(cpu), N | V);
  cpu = exec(adds, { x1: u64(-1n), x2: 1n });
  assert.equal(cpu.getReg('x0'), 0n);
  assert.equal(flags(cpu), Z | C);
  cpu = exec([0xeb020020 /* subs x0, x1, x2 */], { x1: 5n, x2: 5n });
  assert.equal(flags(cpu), Z | C); // no borrow: C = 1
  cpu = exec([0xeb020020 /* subs x0, x1, x2 */], { x1: 4n, x2: 5n });
  assert.equal(cpu.getReg('x0'), u64(-1n));
  assert.equal(flags(cpu), N); // borrow: C = 0
  // 32-bit: flags from bit 31, the result zero-extended whatever the upper input bits
  cpu = exec([0x6b020020 /* subs w0, w1, w2 */], { x1: 0xdead_beef_8000_0000n, x2: 1n });
  assert.equal(cpu.getReg('x0'), 0x7fff_ffffn);
  assert.equal(flags(cpu), C | V);
  cpu = exec([0x2b020020 /* adds w0, w1, w2 */], { x1: 0xffff_ffffn, x2: 1n });
  assert.equal(cpu.getReg('x0'), 0n);
  assert.equal(flags(cpu), Z | C);
  cpu = exec([0x3100043f /* cmn w1, #1 */], { x1: 0x7fff_ffffn });
  assert.equal(flags(cpu), N | V);
});

test('add/subtract immediates shifted by 12, register 31 as SP or XZR', () => {
  const cpu = exec([
    0x91400420, // add x0, x1, #1, lsl #12
    0x717ffc62, // subs w2, w3, #0xfff, lsl #12
    0x91400bff, // add sp, sp, #2, lsl #12
    0xf140049f, // cmp x4, #1, lsl #12
    0x910003e5, // mov x5, sp
  ], { x1: 5n, x3: 0xdead_beef_00ff_f000n, x4: 0xfffn });
  assert.equal(cpu.getReg('x0'), 0x1005n);
  assert.equal(cpu.getReg('x2'), 0n);
  assert.equal(cpu.getReg('x5'), 0x2_2000n, 'SP: top of RAM + 0x2000');
  assert.equal(flags(cpu), N, '0xfff - 0x1000 borrows');
});

test('ADCS/SBCS use and produce the carry', () => {
  let cpu = exec([0xba020020 /* adcs x0, x1, x2 */], { x1: u64(-1n), x2: 0n, nzcv: BigInt(C << 28) });
  assert.equal(cpu.getReg('x0'), 0n);
  assert.equal(flags(cpu), Z | C); // -1 + 0 + 1 carries out
  cpu = exec([0xba020020 /* adcs x0, x1, x2 */], { x1: u64(-1n), x2: u64(-1n), nzcv: BigInt(C << 28) });
  assert.equal(cpu.getReg('x0'), u64(-1n));
  assert.equal(flags(cpu), N | C);
  cpu = exec([0xfa020020 /* sbcs x0, x1, x2 */], { x1: 0n, x2: 0n, nzcv: 0n }); // 0 - 0 - 1
  assert.equal(cpu.getReg('x0'), u64(-1n));
  assert.equal(flags(cpu), N);
  cpu = exec([0x7a020020 /* sbcs w0, w1, w2 */], { x1: 0x8000_0000n, x2: 0n, nzcv: 0n }); // INT32_MIN - 1
  assert.equal(cpu.getReg('x0'), 0x7fff_ffffn);
  assert.equal(flags(cpu), C | V);
  cpu = exec([0x1a020020 /* adc w0, w1, w2 */], { x1: 0xffff_ffffn, x2: 0xffff_ffffn, nzcv: BigInt(C << 28) });
  assert.equal(cpu.getReg('x0'), 0xffff_ffffn);
  assert.equal(flags(cpu), C, 'ADC leaves the flags alone');
});

test('shifts by 0 and by the largest amount; register shifts take the amount modulo the size', () => {
  const x1 = 0x8000_0000_0000_0001n;
  const cpu = exec([
    0xd3410020, // lsl x0, x1, #63
    0xd37ffc22, // lsr x2, x1, #63
    0x937ffc23, // asr x3, x1, #63
    0x93c10024, // ror x4, x1, #0
    0xd340fc25, // lsr x5, x1, #0
    0x9aca2026, // lslv x6, x1, x10
    0x1acb2427, // lsrv w7, w1, w11
    0x9acc2828, // asrv x8, x1, x12
    0x9acd2c29, // rorv x9, x1, x13
    0x8b01fc2e, // add x14, x1, x1, lsl #63
  ], { x1, x10: 64n, x11: 33n, x12: 127n, x13: 1n });
  assert.equal(cpu.getReg('x0'), INT64_MIN);
  assert.equal(cpu.getReg('x2'), 1n);
  assert.equal(cpu.getReg('x3'), u64(-1n));
  assert.equal(cpu.getReg('x4'), x1);
  assert.equal(cpu.getReg('x5'), x1);
  assert.equal(cpu.getReg('x6'), x1, 'LSLV by 64 shifts by 0');
  assert.equal(cpu.getReg('x7'), 0n, 'LSRV w by 33 shifts by 1: 0x00000001 >> 1');
  assert.equal(cpu.getReg('x8'), u64(-1n), 'ASRV by 127 shifts by 63');
  assert.equal(cpu.getReg('x9'), 0xc000_0000_0000_0000n);
  assert.equal(cpu.getReg('x14'), 1n);
});

test('UDIV/SDIV: division by zero gives 0, INT_MIN / -1 gives INT_MIN', () => {
  const cpu = exec([
    0x9adf0820, // udiv x0, x1, xzr
    0x9adf0c22, // sdiv x2, x1, xzr
    0x9ac50c83, // sdiv x3, x4, x5
    0x1ac50ce6, // sdiv w6, w7, w5
    0x9aca0d28, // sdiv x8, x9, x10
    0x1aca08ab, // udiv w11, w5, w10
  ], { x1: 1234n, x4: INT64_MIN, x5: u64(-1n), x7: 0x8000_0000n, x9: u64(-7n), x10: 2n });
  assert.equal(cpu.getReg('x0'), 0n);
  assert.equal(cpu.getReg('x2'), 0n);
  assert.equal(cpu.getReg('x3'), INT64_MIN);
  assert.equal(cpu.getReg('x6'), 0x8000_0000n);
  assert.equal(cpu.getReg('x8'), u64(-3n), 'rounds toward zero');
  assert.equal(cpu.getReg('x11'), 0x7fff_ffffn);
});

test('W-register results zero-extend; register 31 is XZR or SP by encoding', () => {
  const cpu = exec([
    0x0b020020, // add w0, w1, w2
    0x910003e3, // mov x3, sp
    0x8b1f0024, // add x4, x1, xzr
    0x910043ff, // add sp, sp, #16
    0xeb2563ff, // cmp sp, x5
    0xb2401fe6, // orr x6, xzr, #0xff
    0x910000ff, // mov sp, x7
    0x8b294be8, // add x8, sp, w9, uxtw #2
    0xb100043f, // adds xzr, x1, #1
    0x2a1f002a, // orr w10, w1, wzr
  ], { x1: u64(-1n), x2: 1n, x5: 0x20010n, x7: 0x1_0000n, x9: 0xffff_ffffn });
  assert.equal(cpu.getReg('x0'), 0n);
  assert.equal(cpu.getReg('x3'), 0x20000n, 'mov x3, sp reads SP (top of RAM at reset)');
  assert.equal(cpu.getReg('x4'), u64(-1n));
  assert.equal(cpu.getReg('x6'), 0xffn);
  assert.equal(cpu.getReg('sp'), 0x1_0000n);
  assert.equal(cpu.getReg('x8'), 0x1_0000n + 0x3_ffff_fffcn);
  assert.equal(flags(cpu), Z | C, 'adds xzr, x1, #1 sets flags and discards the result');
  assert.equal(cpu.getReg('x10'), 0xffff_ffffn);
});

test('logical immediates decode every element size and rotation', () => {
  const cpu = exec([
    0xb200f3e0, // orr x0, xzr, #0x5555555555555555
    0x121c1521, // and w1, w9, #0x3f0
    0xd2103d22, // eor x2, x9, #0xffff0000ffff0000
    0xb24107e3, // mov x3, #0x8000000000000001
    0xf2410124, // ands x4, x9, #0x8000000000000000
    0x7201013f, // tst w9, #0x80000000
  ], { x9: u64(-1n) });
  assert.equal(cpu.getReg('x0'), 0x5555_5555_5555_5555n);
  assert.equal(cpu.getReg('x1'), 0x3f0n);
  assert.equal(cpu.getReg('x2'), 0x0000_ffff_0000_ffffn);
  assert.equal(cpu.getReg('x3'), 0x8000_0000_0000_0001n);
  assert.equal(cpu.getReg('x4'), INT64_MIN);
  assert.equal(flags(cpu), N);
});

test('immediates whose decoded masks share a cache entry alternate correctly in a loop', () => {
  // The cache is keyed by immediate:N:immr:imms and indexed by imms ^ immr: each pair collides.
  const cpu = exec([
    0xd2800063, // mov x3, #3
    0x9240f820, // 1: and x0, x1, #0x7fffffffffffffff (immr 0, imms 62)
    0xd341fc22, // lsr x2, x1, #1 (UBFM, immr 1, imms 63)
    0x13017c25, // asr w5, w1, #1 (SBFM, immr 1, imms 31)
    0x12007826, // and w6, w1, #0x7fffffff (immr 0, imms 30)
    0xf1000463, // subs x3, x3, #1
    0x54ffff61, // b.ne 1b
  ], { x1: 0xf000_0000_8000_0003n });
  assert.equal(cpu.getReg('x0'), 0x7000_0000_8000_0003n);
  assert.equal(cpu.getReg('x2'), 0x7800_0000_4000_0001n);
  assert.equal(cpu.getReg('x5'), 0xc000_0001n);
  assert.equal(cpu.getReg('x6'), 3n);
});

test('bitfield moves and their aliases', () => {
  const x1 = 0xfedc_ba98_7654_3210n;
  const cpu = exec([
    0xd3442c20, // ubfx x0, x1, #4, #8
    0x937cfc22, // sbfx x2, x1, #60, #4
    0xaa0503e3, // mov x3, x5
    0xb3780c23, // bfi x3, x1, #8, #4
    0x93407c24, // sxtw x4, w1
    0x53001c26, // uxtb w6, w1
    0x13003c27, // sxth w7, w1
    0x331c7c28, // bfxil w8, w1, #28, #4
    0x93c5f029, // extr x9, x1, x5, #60
    0x5301002a, // lsl w10, w1, #31
  ], { x1, x5: u64(-1n), x8: 0n });
  assert.equal(cpu.getReg('x0'), 0x21n);
  assert.equal(cpu.getReg('x2'), u64(-1n)); // 0xf sign-extended
  assert.equal(cpu.getReg('x3'), 0xffff_ffff_ffff_f0ffn);
  assert.equal(cpu.getReg('x4'), 0x7654_3210n);
  assert.equal(cpu.getReg('x6'), 0x10n);
  assert.equal(cpu.getReg('x7'), 0x3210n);
  assert.equal(cpu.getReg('x8'), 0x7n);
  assert.equal(cpu.getReg('x9'), 0xedcb_a987_6543_210fn);
  assert.equal(cpu.getReg('x10'), 0n);
});

test('multiplies: high halves, long forms, MSUB', () => {
  const cpu = exec([
    0x9bc17c20, // umulh x0, x1, x1
    0x9b417c22, // smulh x2, x1, x1
    0x9b447c23, // smulh x3, x1, x4
    0x9b241825, // smaddl x5, w1, w4, x6
    0x9ba47c27, // umaddl x7, w1, w4, xzr
    0x9b049888, // msub x8, x4, x4, x6
    0x1b017c29, // mul w9, w1, w1
  ], { x1: u64(-1n), x4: 3n, x6: 100n });
  assert.equal(cpu.getReg('x0'), u64(-2n));
  assert.equal(cpu.getReg('x2'), 0n);
  assert.equal(cpu.getReg('x3'), u64(-1n));
  assert.equal(cpu.getReg('x5'), 97n);
  assert.equal(cpu.getReg('x7'), 0xffff_ffffn * 3n);
  assert.equal(cpu.getReg('x8'), 91n);
  assert.equal(cpu.getReg('x9'), 1n);
});

test('CLZ, CLS, RBIT, REV*', () => {
  const cpu = exec([
    0xdac013e0, // clz x0, xzr
    0xdac01422, // cls x2, x1
    0x5ac017e3, // cls w3, wzr
    0x5ac000a4, // rbit w4, w5
    0xdac00ce6, // rev x6, x7
    0x5ac004e8, // rev16 w8, w7
    0xdac008e9, // rev32 x9, x7
    0x5ac010aa, // clz w10, w5
  ], { x1: u64(-2n), x5: 1n, x7: 0x0102_0304_0506_0708n });
  assert.equal(cpu.getReg('x0'), 64n);
  assert.equal(cpu.getReg('x2'), 62n);
  assert.equal(cpu.getReg('x3'), 31n);
  assert.equal(cpu.getReg('x4'), 0x8000_0000n);
  assert.equal(cpu.getReg('x6'), 0x0807_0605_0403_0201n);
  assert.equal(cpu.getReg('x8'), 0x0605_0807n);
  assert.equal(cpu.getReg('x9'), 0x0403_0201_0807_0605n);
  assert.equal(cpu.getReg('x10'), 31n);
});

test('conditional select and compare', () => {
  let cpu = exec([
    0xeb02003f, // cmp x1, x2
    0x9a82b023, // csel x3, x1, x2, lt
    0x9a82a424, // csinc x4, x1, x2, ge
    0xda81a425, // cneg x5, x1, lt
    0x5a9f03e6, // csetm w6, ne
    0xfa45a82a, // ccmp x1, #5, #0b1010, ge
  ], { x1: 3n, x2: 7n });
  assert.equal(cpu.getReg('x3'), 3n);
  assert.equal(cpu.getReg('x4'), 8n);
  assert.equal(cpu.getReg('x5'), u64(-3n));
  assert.equal(cpu.getReg('x6'), 0xffff_ffffn);
  assert.equal(flags(cpu), 0b1010, 'condition failed: NZCV = #nzcv');
  cpu = exec([0xeb01003f /* cmp x1, x1 */, 0xba420020 /* ccmn x1, x2, #0, eq */], { x1: u64(-7n), x2: 7n });
  assert.equal(flags(cpu), Z | C);
});

/** ConditionHolds(cond) for a packed NZCV, as the Arm ARM defines it. */
function conditionHolds(cond: number, nzcv: number): boolean {
  const n = (nzcv & N) !== 0, z = (nzcv & Z) !== 0, c = (nzcv & C) !== 0, v = (nzcv & V) !== 0;
  const result = [z, c, n, v, c && !z, n === v, n === v && !z, true][cond >> 1]!;
  return (cond & 1) !== 0 && cond !== 15 ? !result : result;
}

test('every NZCV value, N and Z together too, reads back and decides all 16 conditions', () => {
  // csinc x<cond>, xzr, xzr, <cond>: 0 if the condition holds, else 1
  const conditions = Array.from({ length: 16 }, (_, cond) => 0x9a9f07e0 | (cond << 12) | cond);
  for (let nzcv = 0; nzcv < 16; nzcv++) {
    const cpu = exec([0xd51b4211 /* msr nzcv, x17 */, ...conditions, 0xd53b4210 /* mrs x16, nzcv */], { x17: BigInt(nzcv) << 28n });
    for (let cond = 0; cond < 16; cond++) {
      assert.equal(cpu.getReg(`x${cond}`), conditionHolds(cond, nzcv) ? 0n : 1n, `condition ${cond} with NZCV ${nzcv}`);
    }
    assert.equal(cpu.getReg('x16'), BigInt(nzcv) << 28n, 'MRS NZCV');
    assert.equal(cpu.getReg('pstate') >> 28n, BigInt(nzcv), 'the host\'s PSTATE');
    const saved = cpu.saveState();
    cpu.setReg('nzcv', BigInt(15 - nzcv) << 28n);
    assert.equal(flags(cpu), 15 - nzcv, 'the host\'s NZCV');
    cpu.restoreState(saved, cpu.ram.slice());
    assert.equal(flags(cpu), nzcv, 'a snapshot keeps the flags');
  }
});

test('flags an instruction sets, as SPSR on exception entry, ERET, ADC and W results see them', () => {
  const cpu = cpuWith({
    0: [
      0xeb020020, // subs x0, x1, x2: -1 - 1 = -2, N, and C (no borrow)
      0xd4000001, // svc #0: the handler saves them in SPSR_EL1, clears them, and returns
      0x9a9f57e6, // cset x6, mi: ERET restored N
      0x9a1f03e5, // adc x5, xzr, xzr: and C
      0x6a090104, // ands w4, w8, w9: 0x8000_0000, N from bit 31
      0xd53b4210, // mrs x16, nzcv
      0x6a0c018a, // ands w10, w12, w12: 0 in 32 bits, Z
      0x9a9f17ed, // cset x13, eq
      HVC0,
    ],
    0xa00: [
      0xd5384003, // mrs x3, spsr_el1
      0xd51b421f, // msr nzcv, xzr
      0xd69f03e0, // eret
    ],
  }, { x1: u64(-1n), x2: 1n, x8: 0xffff_ffff_8000_0000n, x9: 0x1_8000_0000n, x12: 0x1_0000_0000n, vbar_el1: 0x10800n });
  assert.equal(runToExit(cpu), CpuExit.Hvc);
  assert.equal(cpu.getReg('x3'), 0xa000_03c5n, 'SPSR_EL1: N and C, DAIF masked, EL1h');
  assert.equal(cpu.getReg('x6'), 1n);
  assert.equal(cpu.getReg('x5'), 1n);
  assert.equal(cpu.getReg('x16'), BigInt(N) << 28n, 'ANDS clears C and V');
  assert.equal(cpu.getReg('x13'), 1n);
  assert.equal(flags(cpu), Z);
});

test('branches: B.cond, CBZ/CBNZ on W, TBZ/TBNZ, BL/RET', () => {
  const cpu = exec([
    0xd2800060, // mov x0, #3
    0xf1000400, // 1: subs x0, x0, #1
    0x54ffffe1, // b.ne 1b
    0x34000041, // cbz w1, 2f
    0xd2800022, // mov x2, #1
    0xb7f80043, // 2: tbnz x3, #63, 3f
    0xd2800024, // mov x4, #1
    0x94000002, // 3: bl 4f
    0x14000003, // b 5f
    0xaa1e03e5, // 4: mov x5, x30
    0xd65f03c0, // ret
    0xd503201f, // 5: nop
  ], { x1: 0x1_0000_0000n, x3: INT64_MIN });
  assert.equal(cpu.getReg('x0'), 0n);
  assert.equal(cpu.getReg('x2'), 0n, 'CBZ w1 tests only the low 32 bits');
  assert.equal(cpu.getReg('x4'), 0n);
  assert.equal(cpu.getReg('x5'), 0x10020n);
  // mov, 3 x (subs, b.ne), cbz, tbnz, bl, mov, ret, b, nop, hvc
  assert.equal(cpu.instret, 1 + 6 + 1 + 1 + 1 + 1 + 1 + 1 + 1 + 1);
});
