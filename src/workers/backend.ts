/**
 * What a VM needs from an execution backend (KVM, or the WebAssembly CPU): guest RAM, registers by
 * name, and a run loop that ends with an outcome or a GuestError.
 */
import type { DeviceBus, DeviceRange, DoorbellSpec } from '../shared/devices';
import type { Arm64StartState } from '../shared/arm64-start';
import type { JitOptions, JitStats } from './wasm/jit/code-cache';
import type { GuestArch, RamLayout } from '../shared/platform';
import type { BackendKind, Irqchip, Outcome } from '../shared/vm-types';
import type { ConsoleOutput } from './console-output';
import type { RunWatch, StopWord } from './run-watch';

export interface RunLimits {
  /** Wall-clock limit in ms (0: none). Holds for guests that spin without exits too. */
  timeoutMs: number;
  /** Exit budget (0: none). */
  maxExits: number;
  /** End the run after the console prints this byte (-1: none). */
  stopOnByte: number;
  /** Accesses no device claims: an ERR_UNHANDLED_ACCESS error, or ignored (reads return 0). */
  unhandled: 'error' | 'ignore';
  /** Console bytes kept; past it they are counted, not kept. */
  maxOutputBytes: number;
  /** -1: none; else the console is also written to this fd as it is printed (RunOptions.consoleFd). */
  consoleFd: number;
  /** Armed for this run: what every wait of the run looks at (time limit, stop requests). */
  watch: RunWatch;
  /**
   * A shared word another thread sets to `value` to stop the run (the pool's stop protocol). KVM is
   * kicked out of KVM_RUN instead; the WebAssembly CPU looks at the word between slices and in WFI.
   */
  stopWord?: StopWord;
}

export interface BackendRunEnd {
  outcome: Outcome;
  exits: number;
}

export interface BootState {
  layout: RamLayout;
  entry: number;
  x86LongMode: boolean;
  irqchip: Irqchip;
  /** WebAssembly backend: its translator's options. */
  jit: JitOptions;
  /** interrupt() through an irqfd (VmOptions.irqfd; an in-kernel irqchip, so KVM only). */
  irqfd: boolean;
  /** aarch64: the EL1 system registers (and the KVM ROM of translation tables) of the start state. */
  arm64?: Arm64StartState;
}

/**
 * A device answered inside the backend's own loop, without a call into JavaScript. `pm-timer`: the
 * ACPI PM timer (24 bits at 3.579545 MHz), the port QEMU's PC answers at 0xb008. `interrupt`: a
 * write raises the guest's interrupt line as vm.interrupt() does (a self-interrupt), reads return 0.
 */
export type NativeDeviceSpec = { type: 'constant'; value: bigint | number } | { type: 'counter' } | { type: 'pm-timer' } | { type: 'interrupt' };

/** The ACPI PM timer's value at `ns` nanoseconds of CLOCK_MONOTONIC (native/vcpu_loop.cc computes the same). */
export function pmTimer(ns: bigint): bigint {
  return ((ns * 3_579_545n) / 1_000_000_000n) & 0xff_ffffn;
}

export interface Backend {
  readonly kind: BackendKind;
  readonly arch: GuestArch;
  /** A view over RAM region `index` of the layout (no copy). */
  memory(index: number): Uint8Array;
  /** undefined when `name` is not a register of this arch. */
  getRegister(name: string): bigint | undefined;
  /** false when `name` is not a register of this arch. */
  setRegister(name: string, value: bigint): boolean;
  registerNames(): readonly string[];
  /** The width of register `name` in bits (64 for most; the arm64 v0–v31: 128); 0 when unknown. */
  registerBits(name: string): number;
  addNativeDevice(range: DeviceRange, spec: NativeDeviceSpec): void;
  /**
   * Guest writes to `range` reach the bus without an exit of their own (KVM's coalesced ring, drained
   * in order at the next exit, at the run's end, and every 10 ms while the guest makes no exit); their
   * events carry pc 0. Reads of it end the run: GuestError ERR_COALESCED_READ.
   */
  addCoalescedRange(range: DeviceRange): void;
  /** Registers a doorbell (checked: spec and bus); returns the eventfd it rings, owned by the backend (closed with it). */
  addDoorbell(spec: DoorbellSpec): number;
  /** Raises the interrupt line (level) until the guest acknowledges (INTERRUPT_ACK). Any time, running or not. */
  interrupt(): void;
  /**
   * The line as a shared word (1 high), for another thread to raise while the vCPU runs: the wasm
   * CPU reads it between slices and when WFI waits (a raiser notifies `stopWord` too). KVM's line
   * lives in the kernel and the vCPU, raised from any thread through the addon: it ignores this.
   */
  useInterruptLine(words: Int32Array, index: number): void;
  /** Records every access into `ring` from now on (src/shared/event-ring.ts). */
  attachEventRing(ring: SharedArrayBuffer): void;
  /** Process-wide id of the vCPU for kickVcpu() from another thread (0 when not applicable). */
  readonly vcpuId: number;
  /** The translator's counters, where there is one at work (WebAssembly backend, jit on or auto). */
  jitStats?(): JitStats | undefined;
  /** Runs until an outcome; throws GuestError (its `exits` set) when the guest cannot go on. */
  run(limits: RunLimits, bus: DeviceBus): BackendRunEnd;
  /** Console bytes kept since the last call, and how many were dropped past the bound. */
  takeOutput(): ConsoleOutput;
  /** Copies RAM and every register a guest can change (replacing an earlier snapshot). */
  snapshot(): void;
  /** Back to the snapshot, RAM and registers; `hostWrote` when the VMM itself wrote RAM since. Returns pages copied. */
  restore(hostWrote: boolean): number;
  /** Stops a run in progress from outside it (a device handler, or another thread); false if none. */
  stop(): boolean;
  /** Releases everything the backend holds. Idempotent. */
  close(): void;
}
