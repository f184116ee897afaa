/** What this host can run: its arch, whether /dev/kvm is usable (and why not), which backend runs which guest arch. */
import { loadAddon } from './addon';
import type { BackendKind } from './vm-types';
import { BackendUnavailableError, KvmError, type KvmErrorCode } from './errors';
import type { GuestArch } from './platform';

export interface KvmStatus {
  usable: boolean;
  /** Why not, when not: ERR_KVM_MISSING, ERR_KVM_PERMISSION, ERR_KVM_API_VERSION, ERR_KVM_CAPABILITY. */
  code?: KvmErrorCode;
  reason?: string;
  /** The guest arch the host's KVM runs (the host's own). */
  arch?: GuestArch;
}

export interface HostInfo {
  hostArch: string;
  kvm: KvmStatus;
  /** For each guest arch, the backends that can run it here, best first. */
  backends: Record<GuestArch, BackendKind[]>;
}

/** The guest arch KVM on this host would run, from Node's view of the host. */
export function hostGuestArch(): GuestArch | undefined {
  return process.arch === 'x64' ? 'x86_64' : process.arch === 'arm64' ? 'aarch64' : undefined;
}

export function kvmStatus(): KvmStatus {
  let addon;
  try {
    addon = loadAddon();
  } catch (error) {
    return { usable: false, code: 'ERR_KVM_MISSING', reason: (error as Error).message };
  }
  const s = addon.kvmStatus();
  return s.usable ? { usable: true, arch: addon.arch } : { usable: false, code: s.code as KvmErrorCode, reason: s.reason, arch: addon.arch };
}

export function hostInfo(): HostInfo {
  const kvm = kvmStatus();
  const backends: Record<GuestArch, BackendKind[]> = { aarch64: [], x86_64: [] };
  if (kvm.usable && kvm.arch !== undefined) backends[kvm.arch].push('kvm');
  backends.aarch64.push('wasm');
  return { hostArch: process.arch, kvm, backends };
}

/** The error for a KVM that cannot run a VM here, saying where real KVM can: the lab. */
export function kvmUnusable(arch: GuestArch, code: KvmErrorCode, reason: string): KvmError {
  return new KvmError(code, `${reason}; \`npm run lab -- --arch ${arch} femtovm run ...\` runs it on real KVM in an emulated machine`);
}

/**
 * Picks the backend for `arch`: `auto` means KVM when the host's KVM runs that arch, else the
 * WebAssembly CPU for aarch64 guests.
 */
export function chooseBackend(arch: GuestArch, requested: BackendKind | 'auto'): BackendKind {
  if (requested === 'wasm') {
    if (arch !== 'aarch64') throw new BackendUnavailableError('ERR_BACKEND_UNAVAILABLE', `the WebAssembly backend runs aarch64 guests only, not ${arch}`);
    return 'wasm';
  }
  const host = hostGuestArch();
  if (host !== arch) {
    if (requested === 'auto' && arch === 'aarch64') return 'wasm';
    throw new BackendUnavailableError('ERR_ARCH_UNSUPPORTED', `KVM on this ${process.arch} host cannot run ${arch} guests${arch === 'aarch64' ? ' (the wasm backend can: --backend wasm)' : ''}`);
  }
  // Asked for KVM by name, the VM's own creation says whether it is usable (kvmUnusable): probing
  // first would open /dev/kvm twice per VM when no other VM holds it open.
  if (requested === 'auto' && arch === 'aarch64' && !kvmStatus().usable) return 'wasm';
  return 'kvm';
}
