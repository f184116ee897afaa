/**
 * The shapes a VM is set up and run with, and what a run returns: the same on the caller's thread
 * (Vm) and across threads (VmPool, RemoteVm), so both rooms import them from here.
 */
import type { Arm64Start } from './arm64-start';
import type { GuestArch, X86Mode } from './platform';
import type { JitMode, JitStats } from '../workers/wasm/jit/code-cache';

export type { JitMode, JitStats };

export type BackendKind = 'kvm' | 'wasm';

/**
 * Where the guest's interrupt controller lives (docs/exits.md): `user` (default), none in KVM, the
 * VMM drives the vCPU's interrupt input; `kernel`, KVM's own (x86: PIC, IOAPIC and LAPIC; aarch64:
 * a GICv3); `split` (x86), only the LAPIC in KVM. `kernel` and `split` are KVM only.
 */
export type Irqchip = 'user' | 'kernel' | 'split';

/** How a run ended, when it ended without error. */
export type Outcome = 'halted' | 'system-off' | 'system-reset' | 'stopped' | 'aborted' | 'timeout' | 'max-exits';

export interface VmOptions {
  /** Guest architecture. Default: the host's (x86_64 on x86-64 hosts). */
  arch?: GuestArch;
  /** `auto` (default): KVM when the host's KVM runs this arch. */
  backend?: BackendKind | 'auto';
  /** Guest RAM in bytes (default: 64 KiB on aarch64, 1 MiB on x86_64). Ignored when `regions` is given. */
  mem?: number;
  /** Explicit RAM regions instead of `mem` (page-aligned, non-overlapping). */
  regions?: { guestAddr: number; size: number }[];
  /** x86_64: 16-bit real mode (default) or 64-bit long mode. */
  x86Mode?: X86Mode;
  /**
   * aarch64: `mmu-on` (default): MMU on with an identity map (RAM Normal write-back, the rest Device),
   * caches and FP/SIMD on, as compiled code needs; `mmu-off`: the vCPU's reset state (README "Platform").
   */
  arm64Start?: Arm64Start;
  /** Accesses no device claims: `error` (default) ends the run with ERR_UNHANDLED_ACCESS; `ignore` drops writes and reads 0. */
  unhandled?: 'error' | 'ignore';
  /**
   * WebAssembly backend: translate hot guest code to WebAssembly (docs/jit.md). `off` (default):
   * interpret only; `auto`: translate branch targets once they are hot; `on`: every branch target at
   * its first execution (for tests). Ignored by KVM, which runs guest code natively.
   */
  jit?: JitMode;
  /** WebAssembly backend: translated units kept (default 1024). */
  jitCacheUnits?: number;
  /**
   * The console's writes go through KVM's coalesced ring (see DeviceOptions.coalesced): no exit per
   * byte; they reach the output and the event stream in order. x86 needs KVM_CAP_COALESCED_PIO too.
   */
  coalescedConsole?: boolean;
  /**
   * The interrupt controller (default `user`). A KVM without it: KvmError ERR_KVM_CAPABILITY naming
   * the capability (aarch64 KVM has no `split`). With an in-kernel irqchip a VM cannot snapshot()
   * (KVM keeps the controller's state), and x86 `hlt` waits inside KVM, never ending the run.
   */
  irqchip?: Irqchip;
  /**
   * KVM with an in-kernel irqchip: interrupt() and the `interrupt` native device signal an eventfd
   * bound to the controller's interrupt (KVM_IRQFD), and KVM injects it with no ioctl and no part for
   * the vCPU's loop. An irqfd is an edge: each interrupt() is one interrupt (several before the guest
   * takes one are one), no line stays high, and the guest's end of interrupt is its only acknowledge
   * (a write to 0x9f8 is not needed). Without an in-kernel irqchip (so on the WebAssembly backend):
   * ConfigError ERR_INVALID_OPTION; a KVM without it: KvmError ERR_KVM_CAPABILITY naming KVM_CAP_IRQFD.
   */
  irqfd?: boolean;
}

export interface LoadOptions {
  /** Where a flat image goes (default: the arch's load address). ELF images go where they say. */
  loadAddr?: number;
  /** First instruction (default: the ELF entry, else the load address). */
  entry?: number;
}

export interface RunOptions {
  /** Wall-clock limit in ms; holds for a guest spinning with no exits. */
  timeoutMs?: number;
  /** Ends the run (outcome `max-exits`) after this many exits. */
  maxExits?: number;
  /** Ends the run (outcome `stopped`) after the console prints this byte. */
  stopOnByte?: number;
  /**
   * Console bytes kept for the result (default DEFAULT_MAX_OUTPUT, 1 MiB; 0 keeps none). Past it the
   * guest's bytes are counted (`outputDropped`), not kept: a guest cannot grow the host's memory by printing.
   */
  maxOutputBytes?: number;
  /**
   * A file descriptor the console is also written to as the guest prints it (`femtovm run` gives 1,
   * stdout), whatever `maxOutputBytes` keeps. A reader that does not drain holds the guest, within
   * the run's time limit and stop; a reader that is gone (EPIPE) ends the run: outcome `stopped`.
   */
  consoleFd?: number;
}

/** Console bytes a run keeps unless `maxOutputBytes` says otherwise. */
export const DEFAULT_MAX_OUTPUT = 1 << 20;

export interface RunResult {
  backend: BackendKind;
  arch: GuestArch;
  outcome: Outcome;
  exits: number;
  /** Console bytes the guest printed during this run, up to `maxOutputBytes`. */
  output: Buffer;
  /** The guest printed more than `maxOutputBytes`: `outputDropped` bytes were not kept. */
  outputTruncated: boolean;
  outputDropped: number;
  durationMs: number;
  /** WebAssembly backend with `jit` on or auto: the translator's counters since the VM was created. */
  jit?: JitStats;
  /** VmPool.run with `reads`: the guest memory they name, read after the run, in their order. */
  reads?: Uint8Array[];
}

/** Guest RAM the host writes before a run (VmPool.run's `writes`). */
export interface MemoryWrite {
  guestAddr: number;
  bytes: Uint8Array;
}

/** Guest RAM the host reads after a run (VmPool.run's `reads`). */
export interface MemoryRead {
  guestAddr: number;
  length: number;
}
