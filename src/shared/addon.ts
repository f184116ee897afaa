/**
 * Loads the native core (build/Release/femtovm.node, or build-<arch>/Release/femtovm.node for a
 * cross-built addon such as the arm64 lab's) and describes its JavaScript surface.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

import { KvmError } from './errors';
import { checkNativeConstants, type NativeConstants, type NativeExit } from './native-constants';

export interface NativeMachineOptions {
  regions: { guestAddr: number; size: number }[];
  entry: number;
  stackTop: number;
  x86LongMode: boolean;
  x86Tables: number;
  /** The in-kernel interrupt controller: 0 none (user), 1 kernel, 2 split (native/kvm_vm.h Irqchip). */
  irqchip: number;
  /** Raises go through an irqfd bound to the in-kernel irqchip (native/kvm_irqfd.h). */
  irqfd: boolean;
  /** Registers set by name after the arch's boot setup (the arm64 start state's EL1 system registers). */
  startRegisters: [name: string, value: bigint][];
  /** Read-only guest memory mapped after RAM (the arm64 translation tables); empty bytes: none. */
  rom: { guestAddr: number; bytes: Uint8Array };
}

export interface NativeRunLimits {
  maxExits: number;
  stopByte: number;
  timeoutMs: number;
  ignoreUnhandled: boolean;
  /** Console bytes kept; past it they are counted (consoleDropped()). */
  maxOutput: number;
  /** -1: none; else console bytes are also written to this fd as the guest prints them (native/console_stream.h). */
  consoleFd: number;
}

export interface NativeMachine {
  memory(region: number): ArrayBuffer;
  getRegister(name: string): bigint | undefined;
  setRegister(name: string, value: bigint): boolean;
  setExitRecord(record: ArrayBuffer): void;
  setUserRanges(flat: Float64Array): void;
  addNativeDevice(kind: number, start: number, end: number, type: number, value: bigint): void;
  /** A guest write there signals a new eventfd inside KVM (no exit); returns the fd, closed with the VM. */
  addDoorbell(kind: number, address: number, size: number, match: bigint | undefined): number;
  /** Writes to [start, end) land in KVM's coalesced ring (no exit); throws ERR_KVM_CAPABILITY where KVM cannot. */
  addCoalescedRange(kind: number, start: number, end: number): void;
  setEventRing(ring: Uint8Array): void;
  /** Process-wide id for kickVcpu(), from any thread. */
  readonly vcpuId: number;
  begin(limits: NativeRunLimits): void;
  resume(): NativeExit;
  end(): void;
  takeConsole(): Buffer;
  /** Console bytes printed past the run's maxOutput since the last takeConsole(). */
  consoleDropped(): number;
  kick(): boolean;
  /** Raises the interrupt line (thread-safe); false when the VM is closed. */
  interrupt(): boolean;
  /** Copies RAM and the whole vCPU state (one snapshot per machine). */
  snapshot(): void;
  /** Back to the snapshot; `hostWrote`: the VMM wrote RAM since, so every page is copied. Returns pages copied. */
  restore(hostWrote: boolean): number;
  close(): void;
}

/** What a one-shot VM is made of (native/one_shot.h): a machine's options, the image, the registers. */
export interface NativeOneShotSetup extends Omit<NativeMachineOptions, 'irqchip' | 'irqfd'> {
  segments: { guestAddr: number; data: Uint8Array }[];
  /** Set after boot setup, in order; the PC among them. */
  registers: [string, bigint][];
  pcRegister: string;
  ignoreUnhandled: boolean;
}

export interface NativeOneShot {
  /** Creates, loads, runs and destroys one fresh VM of the setup; exit details in the exit record. */
  run(maxExits: number, stopByte: number, timeoutMs: number): NativeExit;
}

export interface NativeKvmStatus {
  usable: boolean;
  code: string | null;
  reason: string;
}

/** Calls `handler(rings)` on this thread's loop when the eventfd rings (a duplicate of the fd is watched). */
export interface NativeDoorbellWatcher {
  close(): void;
}

/** While it lives, SIGINT stops the run on the caller's thread instead of the process (native/sigint_stop.h). */
export interface NativeSigintStop {
  /** Disarms: the SIGINT handler from before comes back. Idempotent. */
  close(): void;
}

export interface NativeAddon {
  DoorbellWatcher: new (fd: number, handler: (rings: number) => void) => NativeDoorbellWatcher;
  /** A new eventfd (non-blocking, close-on-exec). */
  eventfd(): number;
  /** `rings` rings of an eventfd at once. */
  ringEventfd(fd: number, rings: number): boolean;
  closeFd(fd: number): void;
  KvmMachine: new (options: NativeMachineOptions) => NativeMachine;
  /** `vcpuIdSlot` receives each fresh VM's vCPU id before it runs (for kickVcpu). */
  KvmOneShot: new (setup: NativeOneShotSetup, exitRecord: ArrayBuffer, vcpuIdSlot: Float64Array) => NativeOneShot;
  kvmStatus(): NativeKvmStatus;
  registerNames(): string[];
  /** A register's width in bits (native/arch.h RegisterBits); 0 for a name this arch lacks. */
  registerBits(name: string): number;
  /**
   * Arms Ctrl-C for a run on this thread: SIGINT stores `value` at `words[index]` and kicks vCPU
   * `vcpuId` (0: none). One per process at a time (a second throws ERR_VM_BUSY).
   */
  SigintStop: new (words: Int32Array, index: number, value: number, vcpuId: number) => NativeSigintStop;
  /** Some of `bytes` written to `fd` once it takes them, waiting a few ms at most: the count (0: not yet), or -1 when the reader is gone. */
  writeConsole(fd: number, bytes: Uint8Array): number;
  /** Stops the run of the vCPU with this id, whatever thread it runs on; false when none is running. */
  kickVcpu(id: number): boolean;
  /** Raises the interrupt line of the vCPU with this id, whatever thread it runs on; false when it is gone. */
  interruptVcpu(id: number): boolean;
  /** The guest arch this build's KVM runs (the host's arch). */
  arch: 'aarch64' | 'x86_64';
  /** Every constant shared with the TypeScript side (native/native_constants.cc), checked at load. */
  constants: NativeConstants;
}

/** The femtovm package root: the nearest directory above this file with femtovm's package.json. */
export function packageRoot(): string {
  for (let dir = __dirname; ; dir = dirname(dir)) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest) && (JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string }).name === 'femtovm') return dir;
    if (dirname(dir) === dir) throw new Error(`femtovm: package root not found above ${__dirname}`);
  }
}

let cached: NativeAddon | undefined;

/** The native addon, loaded once. Throws KvmError ERR_KVM_MISSING when it was not built. */
export function loadAddon(): NativeAddon {
  if (cached !== undefined) return cached;
  const root = packageRoot();
  const candidates = [join(root, `build-${process.arch}`, 'Release', 'femtovm.node'), join(root, 'build', 'Release', 'femtovm.node')];
  const path = candidates.find((p) => existsSync(p));
  if (path === undefined) {
    throw new KvmError('ERR_KVM_MISSING', `the native KVM core is not built (looked for ${candidates.join(', ')}): run npm install`);
  }
  // A computed path keeps esbuild from trying to bundle the .node file.
  const addon = require(path) as NativeAddon;
  checkNativeConstants(addon.constants, path);
  cached = addon;
  return cached;
}
