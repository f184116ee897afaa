/**
 * The exit matrix: every way a guest talks to its VMM, as ns per guest operation, each against the C
 * baseline (bench/baseline/exit_loop.c) using the same mechanism on the same guest in the same run.
 * Rows are named after kvm-unit-tests' benchmarks where one measures the same thing (x86 `vmexit`:
 * cpuid, vmcall, mmio-no-eventfd, mmio-wildcard-eventfd, portio-no-eventfd, portio-wildcard-eventfd,
 * inl_pmtimer, mov_to_cr8; arm64 `micro-bench`: hvc, mmio_read_user, eoi): an exit to user space, a write coalesced in KVM's ring,
 * a doorbell (ioeventfd), exits KVM answers in the kernel, and interrupts (raised by the VMM, or
 * through an irqfd KVM injects from). Rounds alternate C and femtovm.
 */
import { join } from 'node:path';

import type { BackendKind, GuestArch, RemoteVm, VmOptions, VmPool } from '../src/index';
import { pairRatios, summarize, type Summary } from '../src/shared/stats';
import { runBaseline } from './baseline';
import { clamp, judge, type Row, type SuiteContext } from './types';

interface Mechanism {
  id: string;
  name: string;
  arch?: GuestArch;
  guest: string;
  /** The femtovm VM's device or doorbell for the guest's accesses (none: the guest exits only at its end). */
  setup?: (vm: RemoteVm) => Promise<void>;
  /** exit_loop flags giving C the same mechanism. */
  flags?: string[];
  /** VM options the mechanism needs (an in-kernel irqchip). */
  options?: VmOptions;
  /**
   * x86: the guest's report ends the run, as exit number reportExit(count), for `hlt` stays in KVM
   * with an in-kernel LAPIC.
   */
  reportExit?: (count: number) => number;
  /** Runs on the WebAssembly CPU too (aarch64, no trapped system registers). */
  wasm?: boolean;
}

const mmio = { kind: 'mmio', base: 0x900, size: 8 } as const;
const port = { kind: 'pio', base: 0x80, size: 1 } as const;
const constant = { type: 'constant', value: 1 } as const;
/** The interrupt guests' report (0x900) and their request: a write to 0x908 raises the interrupt. */
const interruptDevices = async (vm: RemoteVm): Promise<void> => {
  await vm.addNativeDevice(mmio, constant);
  await vm.addNativeDevice({ kind: 'mmio', base: 0x908, size: 4 }, { type: 'interrupt' });
};

const mechanisms: Mechanism[] = [
  { id: 'mmio-no-eventfd', name: 'MMIO write, exit to user space', guest: 'mmio-loop', setup: (vm) => vm.addNativeDevice(mmio, constant), wasm: true },
  { id: 'mmio_read_user', name: 'MMIO read, exit to user space', guest: 'mmio-read-loop', setup: (vm) => vm.addNativeDevice(mmio, constant), wasm: true },
  { id: 'portio-no-eventfd', name: 'port write, exit to user space', arch: 'x86_64', guest: 'pio-loop', setup: (vm) => vm.addNativeDevice(port, constant) },
  { id: 'coalesced-mmio', name: 'MMIO write, coalesced', guest: 'mmio-loop', setup: (vm) => vm.addNativeDevice(mmio, constant, { coalesced: true }), flags: ['--coalesced', 'mmio:0x900:8'], wasm: true },
  { id: 'coalesced-pio', name: 'port write, coalesced', arch: 'x86_64', guest: 'pio-loop', setup: (vm) => vm.addNativeDevice(port, constant, { coalesced: true }), flags: ['--coalesced', 'pio:0x80:1'] },
  { id: 'mmio-wildcard-eventfd', name: 'MMIO write, doorbell (ioeventfd)', guest: 'mmio-loop', setup: (vm) => vm.addDoorbell({ kind: 'mmio', address: 0x900, size: 4 }, () => {}), flags: ['--doorbell', 'mmio:0x900:4'], wasm: true },
  { id: 'portio-wildcard-eventfd', name: 'port write, doorbell (ioeventfd)', arch: 'x86_64', guest: 'pio-loop', setup: (vm) => vm.addDoorbell({ kind: 'pio', address: 0x80, size: 1 }, () => {}), flags: ['--doorbell', 'pio:0x80:1'] },
  { id: 'inl_pmtimer', name: 'port read of the ACPI PM timer (0xb008), exit to user space', arch: 'x86_64', guest: 'pmtimer-loop', setup: (vm) => vm.addNativeDevice({ kind: 'pio', base: 0xb008, size: 4 }, { type: 'pm-timer' }), flags: ['--pm-timer'] },
  { id: 'mov_to_cr8', name: 'MOV to CR8, answered by the in-kernel LAPIC', arch: 'x86_64', guest: 'cr8-loop', options: { irqchip: 'kernel', x86Mode: 'long' }, reportExit: () => 1, setup: (vm) => vm.addNativeDevice(mmio, constant), flags: ['--irqchip'] },
  { id: 'interrupt-roundtrip', name: 'interrupt round trip: a request write raises the line, the guest takes it and acknowledges', guest: 'irq-pingpong', options: { x86Mode: 'long' }, setup: interruptDevices, flags: ['--irq-device', '0x908'], wasm: true },
  { id: 'irqfd', name: 'interrupt through an irqfd: a request write signals the eventfd, KVM injects, the guest takes it and EOIs', guest: 'irqfd-pingpong', options: { irqchip: 'kernel', irqfd: true, x86Mode: 'long' }, reportExit: (count) => count + 1, setup: interruptDevices, flags: ['--irqfd', '0x908'] },
  { id: 'cpuid', name: 'CPUID, answered in the kernel', arch: 'x86_64', guest: 'cpuid-loop' },
  { id: 'vmcall', name: 'VMCALL, answered in the kernel', arch: 'x86_64', guest: 'vmcall-loop' },
  { id: 'hvc', name: 'HVC (SMCCC_VERSION), answered in the kernel', arch: 'aarch64', guest: 'hvc-loop', wasm: true },
  { id: 'sysreg_read', name: 'MRS ID_AA64PFR0_EL1, trapped and answered in the kernel', arch: 'aarch64', guest: 'sysreg-loop' },
  { id: 'eoi', name: 'MSR ICC_EOIR1_EL1 (spurious INTID), the in-kernel GICv3', arch: 'aarch64', guest: 'eoi-loop', options: { irqchip: 'kernel' }, flags: ['--vgic'] },
];


/**
 * The matrix's rows: on KVM for the host's arch, each against C; on the WebAssembly CPU (aarch64),
 * femtovm alone (C has no such backend). Then the two goals between mechanisms, per backend (their
 * targets, like every row's, are in docs/goals.json).
 */
export async function exitMatrixRows(ctx: SuiteContext, pool: VmPool, seconds: number): Promise<Row[]> {
  return [...(await backendRows(ctx, pool, 'kvm', ctx.kvmArch!, 0.75 * seconds)), ...(await backendRows(ctx, pool, 'wasm', 'aarch64', 0.25 * seconds))];
}

async function backendRows(ctx: SuiteContext, pool: VmPool, backend: BackendKind, arch: GuestArch, seconds: number): Promise<Row[]> {
  const register = arch === 'x86_64' ? 'rcx' : 'x0';
  const kvm = backend === 'kvm';
  const mine = mechanisms.filter((m) => (m.arch === undefined || m.arch === arch) && (kvm || m.wasm));
  const prefix = kvm ? 'exits/matrix' : 'exits/matrix-wasm';
  const runSeconds = clamp(seconds / (mine.length * 12), 0.01, 0.1);
  const rounds = Math.round(clamp(seconds / (mine.length * 2 * runSeconds * 1.5), 3, 15));
  const rows: Row[] = [];
  const perOp: Record<string, Summary> = {};
  const cPerOp: Record<string, Summary> = {};
  for (const [i, m] of mine.entries()) {
    const image = join(ctx.root, 'guests', arch, `${m.guest}.bin`);
    const vm = await pool.createVm({ arch, backend, ...m.options });
    // C starts the guest as femtovm does: in long mode where the VM is (x86Mode means nothing on aarch64).
    const flags = [...(arch === 'x86_64' && m.options?.x86Mode === 'long' ? ['--long'] : []), ...(m.flags ?? [])];
    try {
      await m.setup?.(vm);
      await vm.load(image);
      /** One femtovm run of `count` operations: ns per operation (the run's time on the vCPU's thread). */
      const femtovm = async (count: number, timeoutMs = 60_000): Promise<number> => {
        await vm.setRegister(register, count);
        const reportExit = arch === 'x86_64' ? m.reportExit?.(count) : undefined;
        const r = await vm.run({ timeoutMs, ...(reportExit !== undefined && { maxExits: reportExit }) });
        const ends = reportExit !== undefined ? ['max-exits'] : ['halted', 'system-off'];
        if (!ends.includes(r.outcome)) throw new Error(`${m.guest} ended ${r.outcome} after ${r.exits} exits`);
        await vm.load(image);
        return (r.durationMs * 1e6) / count;
      };
      const c = (count: number): number => (runBaseline(image, count, false, flags).seconds * 1e9) / count;
      let count: number;
      try {
        await femtovm(200, 5000); // first: a guest this KVM never finishes times out here, not in C
        if (kvm) runBaseline(image, 200, false, flags);
        count = Math.round(clamp((runSeconds * 1e9) / (await femtovm(500)), 100, 1_000_000));
      } catch (error) {
        rows.push({ id: `${prefix}/${m.id}`, name: `${m.name} · ${backend}`, unit: 'ns/op', skipped: `does not run on this host's KVM: ${(error as Error).message}` });
        ctx.log(`exits matrix ${backend} [${i + 1}/${mine.length}] ${m.id}: skipped (${(error as Error).message})`);
        continue;
      }
      const measured: number[] = [];
      const baseline: number[] = [];
      for (let round = 0; round < rounds; round++) {
        if (kvm && round % 2 === 0) baseline.push(c(count));
        measured.push(await femtovm(count));
        if (kvm && round % 2 === 1) baseline.push(c(count));
      }
      const f = summarize(measured);
      perOp[m.id] = f;
      const stat = `median of ${rounds} rounds × ${count} ops`;
      if (!kvm) {
        ctx.log(`exits matrix ${backend} [${i + 1}/${mine.length}] ${m.id}: ${rounds} rounds of ${count} ops, ${f.p50.toFixed(0)} ns/op`);
        rows.push({ id: `${prefix}/${m.id}`, name: `${m.name} · wasm`, unit: 'ns/op', value: f.p50, stat, rounds: { femtovm: f }, extra: { p99: f.p99, opsPerRound: count } });
        continue;
      }
      const b = summarize(baseline);
      const r = summarize(pairRatios(measured, baseline));
      cPerOp[m.id] = b;
      ctx.log(`exits matrix ${backend} [${i + 1}/${mine.length}] ${m.id}: ${rounds} rounds of ${count} ops, C ${b.p50.toFixed(0)} ns/op, femtovm ${f.p50.toFixed(0)} ns/op, ratio ${r.p50.toFixed(3)}`);
      rows.push(
        judge({
          id: `${prefix}/${m.id}`,
          name: `${m.name} · kvm`,
          unit: 'ns/op',
          value: f.p50,
          stat,
          baselineName: `C exit_loop${flags.length > 0 ? ' ' + flags.join(' ') : ''}`,
          baselineValue: b.p50,
          ratio: r.p50,
          rounds: { femtovm: f, baseline: b, ratio: r },
          extra: { p99: f.p99, baselineP99: b.p99, opsPerRound: count },
        }),
      );
    } finally {
      await vm.close();
    }
  }
  const versus = (id: string, of: string, name: string) => {
    const a = perOp[of];
    const exit = perOp['mmio-no-eventfd'];
    if (a === undefined || exit === undefined) return;
    rows.push(
      judge({
        id: `${prefix}/${id}`,
        name: `${name} · ${backend}`,
        unit: '× an exit',
        value: a.p50 / exit.p50,
        stat: 'ratio of the two rows’ medians (femtovm)',
        ...(kvm && { baselineName: 'the same in C', baselineValue: cPerOp[of]!.p50 / cPerOp['mmio-no-eventfd']!.p50 }),
      }),
    );
  };
  versus('coalesced-per-exit', 'coalesced-mmio', 'coalesced MMIO write / MMIO exit to user space');
  versus('doorbell-per-exit', 'mmio-wildcard-eventfd', 'doorbell write / MMIO exit to user space');
  return rows;
}
