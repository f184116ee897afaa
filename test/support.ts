/** Shared by the test files: the repo root, guest paths, and the KVM gate. */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

import { packageRoot } from '../src/shared/addon';
import { createVm, kvmStatus, type BackendKind, type GuestArch, type Vm, type VmOptions } from '../src/index';

export const root = packageRoot();

export const guest = (arch: GuestArch, name: string): string => join(root, 'guests', arch, name);
export const cli = join(root, 'dist', 'cli.js');

/** A VM with `image` loaded; closed after `body`. */
export function withVm<T>(arch: GuestArch, backend: BackendKind, image: string, options: VmOptions, body: (vm: Vm) => T): T {
  const vm = createVm({ arch, backend, ...options });
  try {
    vm.load(guest(arch, image));
    return body(vm);
  } finally {
    vm.close();
  }
}

/**
 * Why KVM tests for `arch` cannot run here, or undefined when they can. The lab sets
 * FEMTOVM_REQUIRE_KVM=1: there an unusable /dev/kvm is a failure, not a skip.
 */
export function kvmSkipReason(arch: GuestArch): string | undefined {
  const status = kvmStatus();
  if (!status.usable) {
    const reason = `no usable KVM here (${status.code}: ${status.reason}); \`npm run test:lab\` runs these tests on real KVM`;
    if (process.env.FEMTOVM_REQUIRE_KVM === '1') throw new Error(`FEMTOVM_REQUIRE_KVM=1 but ${reason}`);
    return reason;
  }
  if (status.arch !== arch) return `this host's KVM runs ${status.arch} guests, not ${arch}; \`npm run test:lab\` runs ${arch} on real KVM`;
  return undefined;
}

/** Open file descriptors and memory mappings of this process, to prove nothing leaks. */
export function processResources(): { fds: number; maps: number } {
  return { fds: readdirSync('/proc/self/fd').length, maps: readFileSync('/proc/self/maps', 'utf8').split('\n').length };
}
