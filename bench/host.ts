/** The facts about the machine a bench ran on, recorded with every result. */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { availableParallelism, loadavg, release, totalmem } from 'node:os';

import { kvmStatus, type KvmStatus } from '../src/index';

export interface HostFacts {
  cpuModel: string;
  cpus: number;
  kernel: string;
  os: string;
  memoryGiB: number;
  node: string;
  v8: string;
  /** `host`, or `lab (<arch>)` inside `npm run lab` (FEMTOVM_LAB is set there). */
  where: string;
  kvm: KvmStatus;
  /** Whether this KVM itself runs inside a VM (nested: exits cost more), and why we think so; null when
   *  unknown, or when there is no usable KVM to judge (the evidence about this kernel is kept). */
  nestedKvm: { nested: boolean | null; evidence: string[] };
  kvmModules: string[];
  backends: string[];
  loadAverage: { start: number[]; end?: number[] };
  qemuAarch64?: string;
  cc?: string;
}

const read = (path: string): string | undefined => {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
};

/** The first line `cmd args` prints (its version), or undefined when it is not installed. */
export function commandVersion(cmd: string, args: string[]): string | undefined {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.split('\n')[0]!.trim() : undefined;
}

export function hostFacts(): HostFacts {
  const cpuinfo = read('/proc/cpuinfo') ?? '';
  const field = (name: string) => new RegExp(`^${name}\\s*:\\s*(.*)$`, 'm').exec(cpuinfo)?.[1]?.trim();
  const flags = (field('flags') ?? field('Features') ?? '').split(/\s+/);
  const modules = existsSync('/sys/module') ? readdirSync('/sys/module').filter((m) => /^kvm/.test(m)).sort() : [];
  const evidence: string[] = [];
  if (flags.includes('hypervisor')) evidence.push('/proc/cpuinfo has the hypervisor flag: this kernel runs in a VM, so its KVM is nested');
  if (modules.includes('kvm_pvm')) evidence.push('kvm_pvm is loaded (/sys/module/kvm_pvm): KVM through PVM, a paravirtualized nested hypervisor');
  for (const m of ['kvm_intel', 'kvm_amd']) {
    const nested = read(`/sys/module/${m}/parameters/nested`)?.trim();
    if (nested !== undefined) evidence.push(`${m} loaded, parameters/nested=${nested} (whether it can host nested guests)`);
  }
  if (process.env.FEMTOVM_LAB) evidence.push(`inside the ${process.env.FEMTOVM_LAB} lab: KVM in an emulated machine`);
  const kvm = kvmStatus();
  // Nesting is a fact about a usable KVM: without one there is no KVM to be nested (the evidence is kept).
  const nested = !kvm.usable ? null : flags.includes('hypervisor') || modules.includes('kvm_pvm') || !!process.env.FEMTOVM_LAB ? true : modules.length > 0 ? false : null;
  const osRelease = /^PRETTY_NAME="?([^"\n]*)"?/m.exec(read('/etc/os-release') ?? '')?.[1];
  const qemu = commandVersion('qemu-aarch64', ['--version']);
  const cc = commandVersion('cc', ['--version']);
  return {
    cpuModel: field('model name') ?? field('Hardware') ?? field('CPU part') ?? 'unknown',
    cpus: availableParallelism(),
    kernel: release(),
    os: osRelease ?? 'unknown',
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    v8: process.versions.v8,
    where: process.env.FEMTOVM_LAB ? `lab (${process.env.FEMTOVM_LAB})` : 'host',
    kvm,
    nestedKvm: { nested, evidence },
    kvmModules: modules,
    backends: [...(kvm.usable ? [`kvm (${kvm.arch} guests)`] : []), 'wasm A64 CPU (cpu suite)'],
    loadAverage: { start: loadavg().map((x) => Math.round(x * 100) / 100) },
    ...(qemu && { qemuAarch64: qemu }),
    ...(cc && { cc }),
  };
}

/** One line for tables: CPU, cores, kernel, nesting, Node, where. */
export function describeHost(h: HostFacts): string {
  const nested = h.nestedKvm.nested === true ? 'nested KVM' : h.nestedKvm.nested === false ? 'KVM on bare metal' : 'KVM nesting unknown';
  const kvm = h.kvm.usable ? `${nested}${h.kvmModules.includes('kvm_pvm') ? ' (kvm_pvm)' : ''}` : `no usable KVM (${h.kvm.code})`;
  return `${h.cpuModel}, ${h.cpus} CPUs, Linux ${h.kernel}, ${kvm}, Node ${h.node}, ${h.where}`;
}
