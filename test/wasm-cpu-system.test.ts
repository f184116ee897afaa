// The wasm CPU's system side: reset state, exits (HVC/PSCI, WFI, unsupported), exceptions taken to
// the guest's vector table with the syndrome hardware gives, ERET, and system registers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { A64_REGISTER_NAMES, CpuExit } from '../src/workers/wasm/a64-cpu';
import { HVC0, RAM, cpuWith, exec, runToExit, testCpu } from './wasm-cpu-support';

const VBAR = RAM + 0x800;
const SYNC_SPX = VBAR + 0x200; // current EL with SP_EL1, synchronous
const PSCI_SYSTEM_OFF = 0x8400_0008n;

test('reset gives the KVM_ARM_VCPU_INIT state of docs/platform.md', () => {
  const cpu = testCpu();
  assert.equal(cpu.getReg('pc'), BigInt(RAM));
  assert.equal(cpu.getReg('pstate'), 0x3c5n, 'EL1h, DAIF masked');
  assert.equal(cpu.getReg('sp'), 0x20000n, 'SP_EL1 = top of the 64 KiB of RAM');
  assert.equal(cpu.getReg('sp_el1'), 0x20000n);
  assert.equal(cpu.getReg('sp_el0'), 0n);
  assert.equal(cpu.getReg('currentel'), 4n);
  assert.equal(cpu.getReg('sctlr_el1'), 0x00c5_0078n);
  assert.equal(cpu.getReg('mpidr_el1'), 0x8000_0000n);
  assert.equal(cpu.getReg('cpacr_el1'), 0n);
  for (let i = 0; i < 31; i++) assert.equal(cpu.getReg(`x${i}`), 0n);
  assert.equal(cpu.instret, 0);
  for (const name of A64_REGISTER_NAMES) assert.equal(typeof cpu.getReg(name), 'bigint');
  assert.throws(() => cpu.getReg('x31'), RangeError);
  assert.throws(() => cpu.setReg('ttbr1_el1', 0n), RangeError);
  assert.equal(cpu.getReg('ttbr0_el1'), 0n, 'the translation regime registers start zeroed (the backend sets the start state)');
  assert.throws(() => cpu.setReg('currentel', 0n), RangeError);
  assert.throws(() => cpu.setReg('pstate', 0x3c0n), RangeError, 'EL0t is not a mode this CPU runs');
});

test('reset() reuses the instance: zeroed RAM and registers, a new RAM size and base', () => {
  const cpu = exec([0xd28000e0 /* mov x0, #7 */, 0xf81f0fe0 /* str x0, [sp, #-16]! */]);
  cpu.reset(0x4000_0000, 1 << 20, 0x4000_0100);
  assert.equal(cpu.ram.length, 1 << 20);
  assert.ok(cpu.ram.every((b) => b === 0));
  assert.equal(cpu.getReg('x0'), 0n);
  assert.equal(cpu.getReg('pc'), 0x4000_0100n);
  assert.equal(cpu.getReg('sp'), 0x4010_0000n);
  assert.equal(cpu.instret, 0);
  assert.throws(() => cpu.reset(0x1234, 4096), RangeError);
});

test('PSCI through HVC: the host reads x0, answers in x0, and the guest continues', () => {
  const cpu = cpuWith([
    0xd2b08000, // movz x0, #0x8400, lsl #16
    0xd4000002, // hvc #0
    0xaa0003e1, // mov x1, x0
    0xd2b08000, // movz x0, #0x8400, lsl #16
    0xf2800100, // movk x0, #0x8
    0xd4000002, // hvc #0
  ]);
  assert.equal(runToExit(cpu), CpuExit.Hvc);
  assert.equal(cpu.getReg('x0'), 0x8400_0000n, 'PSCI_VERSION');
  assert.equal(cpu.getReg('pc'), BigInt(RAM + 8), 'PC is past the HVC');
  assert.equal(cpu.faultInsn, HVC0);
  cpu.setReg('x0', 0x1_0000n); // PSCI 1.0
  assert.equal(runToExit(cpu), CpuExit.Hvc);
  assert.equal(cpu.getReg('x1'), 0x1_0000n);
  assert.equal(cpu.getReg('x0'), PSCI_SYSTEM_OFF);
  assert.equal(cpu.instret, 6);
});

test('WFI exits with the PC past it', () => {
  const cpu = cpuWith([0xd503207f /* wfi */, HVC0]);
  assert.equal(cpu.run(100), CpuExit.Wfi);
  assert.equal(cpu.getReg('pc'), BigInt(RAM + 4));
  assert.equal(cpu.run(100), CpuExit.Hvc);
});

test('a slice ends after exactly the budget; instret counts retired instructions', () => {
  const cpu = cpuWith([0x91000400 /* 1: add x0, x0, #1 */, 0x17ffffff /* b 1b */]);
  assert.equal(cpu.run(1001), CpuExit.SliceEnd);
  assert.equal(cpu.instret, 1001);
  assert.equal(cpu.getReg('x0'), 501n);
  assert.equal(cpu.run(1), CpuExit.SliceEnd);
  assert.equal(cpu.instret, 1002);
});

test('one instruction per run() or all at once: the same state, each instruction counted once', () => {
  // Hot classes (run()'s fast loop) and the others (executed completely) interleaved
  const code = [
    0xd28000a0, // mov x0, #5
    0x9bc17c03, // 1: umulh x3, x0, x1
    0xa94014e4, // ldp x4, x5, [x7]
    0xd53b4206, // mrs x6, nzcv
    0x8b000442, // add x2, x2, x0, lsl #1
    0x927c0c48, // and x8, x2, #0xf0
    0xd341fc49, // lsr x9, x2, #1
    0xf1000400, // subs x0, x0, #1
    0x54ffff21, // b.ne 1b
    HVC0,
  ];
  const regs = { x1: 0x1234_5678_9abc_def0n, x7: BigInt(RAM) };
  const whole = cpuWith(code, regs);
  assert.equal(whole.run(1000), CpuExit.Hvc);
  const stepped = cpuWith(code, regs);
  let exit: CpuExit;
  for (let i = 1; (exit = stepped.run(1)) === CpuExit.SliceEnd; i++) assert.equal(stepped.instret, i);
  assert.equal(exit, CpuExit.Hvc);
  assert.equal(stepped.instret, whole.instret);
  assert.equal(stepped.instret, 1 + 8 * 5 + 1);
  for (const name of ['x0', 'x2', 'x3', 'x4', 'x5', 'x6', 'x8', 'x9', 'nzcv', 'pc']) assert.equal(stepped.getReg(name), whole.getReg(name), name);
});

test('hot classes in their rare forms: UNDEFINED encodings, a misaligned BLR', () => {
  for (const insn of [0x54000010 /* bc.eq (Armv8.8) */, 0x8bc20420 /* add x0, x1, x2 with shift type 11 */]) {
    const cpu = cpuWith({ 0: [insn], 0xa00: [HVC0] }, { vbar_el1: BigInt(VBAR) });
    assert.equal(runToExit(cpu), CpuExit.Hvc, `0x${insn.toString(16)}`);
    assert.equal(cpu.getReg('esr_el1'), 0x200_0000n, 'EC 0, IL');
    assert.equal(cpu.getReg('elr_el1'), BigInt(RAM));
  }
  const cpu = cpuWith({ 0: [0xd63f03c0 /* blr x30 */], 0xa00: [HVC0] }, { x30: BigInt(RAM + 2), vbar_el1: BigInt(VBAR) });
  assert.equal(runToExit(cpu), CpuExit.Hvc);
  assert.equal(cpu.getReg('esr_el1'), 0x8a00_0000n, 'EC 0x22 (PC alignment), IL');
  assert.equal(cpu.getReg('elr_el1'), BigInt(RAM + 2));
  assert.equal(cpu.getReg('x30'), BigInt(RAM + 4), 'BLR linked before the fault');
  assert.equal(cpu.instret, 2, 'BLR and HVC');
});

test('instructions this CPU does not implement exit as unsupported, PC unchanged', () => {
  for (const insn of [0x99400040 /* ldapur w0, [x2] (Armv8.4) */, 0xd9008040 /* stlur x0, [x2, #8] */]) {
    const cpu = cpuWith([insn], { x2: BigInt(RAM + 0x8000) });
    assert.equal(cpu.run(100), CpuExit.Unsupported);
    assert.equal(cpu.faultPc, RAM);
    assert.equal(cpu.faultInsn, insn);
    assert.equal(cpu.getReg('pc'), BigInt(RAM));
    assert.equal(cpu.instret, 0);
  }
});

test('SVC: exception entry to VBAR_EL1 + 0x200 with ESR/ELR/SPSR as hardware sets them, then ERET', () => {
  const cpu = cpuWith({
    0: [
      0xd5034fff, // msr daifclr, #0xf
      0xd4000841, // svc #0x42
      0xd4000002, // hvc #0
    ],
    0xa00: [
      0xd53b4221, // mrs x1, daif
      0x910003e2, // mov x2, sp
      0xd69f03e0, // eret
    ],
  }, { vbar_el1: BigInt(VBAR), nzcv: 0x6000_0000n });
  assert.equal(runToExit(cpu), CpuExit.Hvc);
  assert.equal(cpu.getReg('esr_el1'), 0x5600_0042n, 'EC 0x15, IL, imm16');
  assert.equal(cpu.getReg('elr_el1'), BigInt(RAM + 8), 'SVC returns past itself');
  assert.equal(cpu.getReg('spsr_el1'), 0x6000_0005n, 'NZCV, DAIF clear, EL1h');
  assert.equal(cpu.getReg('x1'), 0x3c0n, 'the handler runs with DAIF masked');
  assert.equal(cpu.getReg('x2'), 0x20000n, 'on SP_EL1');
  assert.equal(cpu.getReg('pstate'), 0x6000_0005n, 'ERET restored PSTATE from SPSR_EL1');
});

test('BRK and UDF: ELR at the instruction; an exception from EL1t uses VBAR + 0x000 and SP_EL1', () => {
  let cpu = cpuWith({ 0: [0xd42000e0 /* brk #0x7 */], 0xa00: [HVC0] }, { vbar_el1: BigInt(VBAR) });
  assert.equal(runToExit(cpu), CpuExit.Hvc);
  assert.equal(cpu.getReg('esr_el1'), 0xf200_0007n, 'EC 0x3c, IL, imm16');
  assert.equal(cpu.getReg('elr_el1'), BigInt(RAM));
  cpu = cpuWith({ 0: [0xd50040bf /* msr spsel, #0 */, 0x00000001 /* udf #1 */], 0x800: [0x910003e3 /* mov x3, sp */, HVC0] }, {
    vbar_el1: BigInt(VBAR), sp_el0: 0x1_8000n,
  });
  assert.equal(runToExit(cpu), CpuExit.Hvc);
  assert.equal(cpu.faultPc, VBAR + 4, 'current EL with SP_EL0: offset 0x000');
  assert.equal(cpu.getReg('esr_el1'), 0x0200_0000n, 'EC 0 (unknown), IL');
  assert.equal(cpu.getReg('elr_el1'), BigInt(RAM + 4));
  assert.equal(cpu.getReg('spsr_el1'), 0x3c4n, 'taken from EL1t');
  assert.equal(cpu.getReg('x3'), 0x20000n, 'the handler runs on SP_EL1');
  assert.equal(cpu.getReg('sp_el0'), 0x1_8000n);
});

test('FP/SIMD instructions trap to EL1 while CPACR_EL1.FPEN traps them, and run once enabled', () => {
  const fmov = 0x9e670020 /* fmov d0, x1 */;
  const frint32z = 0x1e284020 /* frint32z s0, s1 (Armv8.5): not in the model */;
  let cpu = cpuWith({ 0: [fmov], 0xa00: [HVC0] }, { vbar_el1: BigInt(VBAR) });
  assert.equal(runToExit(cpu), CpuExit.Hvc);
  assert.equal(cpu.getReg('esr_el1'), 0x1fe0_0000n, 'EC 0x07, IL, CV, COND 0xe');
  assert.equal(cpu.getReg('elr_el1'), BigInt(RAM));
  cpu = cpuWith([
    0xd2a00600, // mov x0, #(3 << 20)
    0xd5181040, // msr cpacr_el1, x0
    0xd5033fdf, // isb
    fmov,
    frint32z,
  ], { x1: 0x4009_21fb_5444_2d18n });
  assert.equal(runToExit(cpu), CpuExit.Unsupported);
  assert.equal(cpu.getReg('v0'), 0x4009_21fb_5444_2d18n, 'fmov d0, x1 ran');
  assert.equal(cpu.faultInsn, frint32z, 'an instruction outside the model still exits');
  cpu = cpuWith({ 0: [0x3dc00020 /* ldr q0, [x1] */], 0xa00: [HVC0] }, { vbar_el1: BigInt(VBAR) });
  assert.equal(runToExit(cpu), CpuExit.Hvc, 'SIMD&FP loads trap too');
  assert.equal(cpu.getReg('esr_el1'), 0x1fe0_0000n);
});

test('MRS/MSR: PSTATE fields, SPSel, thread IDs, the counter, and UNDEFINED for EL2 registers', () => {
  const cpu = cpuWith({
    0: [
      0xd5384240, // mrs x0, currentel
      0xd50342ff, // msr daifclr, #0x2
      0xd53b4221, // mrs x1, daif
      0xd50342df, // msr daifset, #0x2
      0xd51bd049, // msr tpidr_el0, x9
      0xd53bd042, // mrs x2, tpidr_el0
      0xd518d089, // msr tpidr_el1, x9
      0xd53be003, // mrs x3, cntfrq_el0
      0xd53be044, // mrs x4, cntvct_el0
      0xd53be045, // mrs x5, cntvct_el0
      0xd50040bf, // msr spsel, #0
      0x910003e6, // mov x6, sp
      0xd50041bf, // msr spsel, #1
      0xd5384207, // mrs x7, spsel
      0xd5380008, // mrs x8, midr_el1
      0xd53c410a, // mrs x10, sp_el1
      0xd4000002, // hvc #0
    ],
    0xa00: [0xd4000022 /* hvc #1 */],
  }, { x9: 0xabcdn, sp_el0: 0x1_2340n, vbar_el1: BigInt(VBAR) });
  assert.equal(runToExit(cpu), CpuExit.Hvc);
  assert.equal(cpu.getReg('x0'), 4n);
  assert.equal(cpu.getReg('x1'), 0x340n);
  assert.equal(cpu.getReg('daif'), 0x3c0n);
  assert.equal(cpu.getReg('x2'), 0xabcdn);
  assert.equal(cpu.getReg('tpidr_el1'), 0xabcdn);
  assert.equal(cpu.getReg('x3'), 1_000_000_000n);
  assert.ok(cpu.getReg('x5') >= cpu.getReg('x4'));
  assert.equal(cpu.getReg('x6'), 0x1_2340n, 'SPSel = 0 selects SP_EL0');
  assert.equal(cpu.getReg('x7'), 1n);
  assert.equal(cpu.getReg('x8'), cpu.getReg('midr_el1'));
  assert.equal(cpu.faultPc, SYNC_SPX, 'MRS SP_EL1 at EL1 is UNDEFINED');
  assert.equal(cpu.getReg('esr_el1'), 0x0200_0000n);
});

test('the console idiom: one MMIO exit per byte stored at 0x996', () => {
  const cpu = cpuWith([
    0xd28132c1, // mov x1, #0x996
    0x52800d02, // mov w2, #0x68
    0x39000022, // strb w2, [x1]
    0x52800d22, // mov w2, #0x69
    0x39000022, // strb w2, [x1]
    0xd2b08000, // mov x0, #0x84000000
    0xf2800100, // movk x0, #0x8
    0xd4000002, // hvc #0
  ]);
  let out = '';
  for (;;) {
    const exit = runToExit(cpu);
    if (exit !== CpuExit.Mmio) {
      assert.equal(exit, CpuExit.Hvc);
      break;
    }
    assert.equal(cpu.mmioAddr, 0x996);
    out += String.fromCharCode(cpu.mmioDataLo);
  }
  assert.equal(out, 'hi');
  assert.equal(cpu.getReg('x0'), PSCI_SYSTEM_OFF);
});
