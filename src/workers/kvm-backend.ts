/**
 * The KVM backend: a NativeMachine (native/) runs the vCPU loop in C++; this side answers the exits
 * it hands back (JavaScript devices) and turns the native stop codes into outcomes and typed errors.
 */
import { loadAddon, type NativeMachine, type NativeMachineOptions, type NativeOneShot, type NativeOneShotSetup } from '../shared/addon';
import { ExitField, NativeDeviceType, NativeExit } from '../shared/native-constants';
import type { Backend, BackendRunEnd, BootState, NativeDeviceSpec, RunLimits } from './backend';
import { accessKindCode, RunInterrupted, type DeviceBus, type DeviceRange, type DoorbellSpec } from '../shared/devices';
import type { ConsoleOutput } from './console-output';
import { EventRingProducer } from '../shared/event-ring';
import { fromNative, GuestError, KvmError, withPc, type AccessDetails, type KvmErrorCode } from '../shared/errors';
import { kvmUnusable } from '../shared/info';
import type { ImageSegment } from '../shared/image';
import type { GuestArch } from '../shared/platform';
import type { Irqchip, RunOptions, RunResult } from '../shared/vm-types';
import { coalescedRead, mmioNoSyndrome, unhandledAccess } from './access-rules';

// KVM exit reasons (linux/kvm.h) that end a run with an error.
const KVM_EXIT_FAIL_ENTRY = 9;
const KVM_EXIT_SHUTDOWN = 8;
const KVM_EXIT_INTERNAL_ERROR = 17;
const ENOSYS = 38;

/** VmOptions.irqchip as native/kvm_vm.h's Irqchip. */
const IRQCHIP_CODE: Record<Irqchip, number> = { user: 0, kernel: 1, split: 2 };

/** Errors that mean this host's KVM cannot run VMs at all (as opposed to one VM failing). */
const UNUSABLE = new Set<KvmErrorCode>(['ERR_KVM_MISSING', 'ERR_KVM_PERMISSION', 'ERR_KVM_API_VERSION', 'ERR_KVM_CAPABILITY']);

export class KvmBackend implements Backend {
  readonly kind = 'kvm';
  private readonly machine: NativeMachine;
  private readonly options: NativeMachineOptions;
  private readonly record: Float64Array;
  private readonly data: Uint8Array;
  private readonly views: Uint8Array[];
  private ring: EventRingProducer | undefined;
  private closed = false;

  constructor(
    readonly arch: GuestArch,
    boot: BootState,
  ) {
    const addon = loadAddon();
    this.options = {
      regions: boot.layout.regions,
      entry: boot.entry,
      stackTop: boot.layout.guestTop,
      x86LongMode: boot.x86LongMode,
      x86Tables: boot.layout.x86Tables,
      irqchip: IRQCHIP_CODE[boot.irqchip],
      irqfd: boot.irqfd,
      startRegisters: boot.arm64?.registers ?? [],
      rom: boot.arm64?.rom ?? { guestAddr: 0, bytes: new Uint8Array(0) },
    };
    try {
      this.machine = new addon.KvmMachine(this.options);
    } catch (error) {
      const typed = fromNative(error);
      // A KVM that lacks what an in-kernel irqchip needs still runs other VMs: that error stands as it is.
      const irqchipLacking = boot.irqchip !== 'user' && typed instanceof KvmError && typed.code === 'ERR_KVM_CAPABILITY';
      throw typed instanceof KvmError && UNUSABLE.has(typed.code) && !irqchipLacking ? kvmUnusable(arch, typed.code, typed.message) : typed;
    }
    const { buffer, fields } = exitRecord();
    this.record = fields;
    this.data = new Uint8Array(buffer, addon.constants.ExitRecord!.dataOffset!);
    this.machine.setExitRecord(buffer);
    this.views = boot.layout.regions.map((_, i) => new Uint8Array(this.machine.memory(i)));
  }

  memory(index: number): Uint8Array {
    return this.views[index]!;
  }

  getRegister(name: string): bigint | undefined {
    return callNative(() => this.machine.getRegister(name));
  }

  setRegister(name: string, value: bigint): boolean {
    return callNative(() => this.machine.setRegister(name, value));
  }

  registerBits(name: string): number {
    return loadAddon().registerBits(name);
  }

  registerNames(): readonly string[] {
    return loadAddon().registerNames();
  }

  get vcpuId(): number {
    return this.machine.vcpuId;
  }

  addNativeDevice(range: DeviceRange, spec: NativeDeviceSpec): void {
    const type = NativeDeviceType[spec.type];
    this.machine.addNativeDevice(accessKindCode[range.kind], range.base, range.base + range.size, type, BigInt.asUintN(64, BigInt(spec.type === 'constant' ? spec.value : 0)));
  }

  addDoorbell(spec: DoorbellSpec): number {
    return callNative(() => this.machine.addDoorbell(accessKindCode[spec.kind], spec.address, spec.size, spec.match === undefined ? undefined : BigInt(spec.match)));
  }

  addCoalescedRange(range: DeviceRange): void {
    callNative(() => this.machine.addCoalescedRange(accessKindCode[range.kind], range.base, range.base + range.size));
  }

  attachEventRing(ring: SharedArrayBuffer): void {
    this.machine.setEventRing(new Uint8Array(ring));
    this.ring = new EventRingProducer(ring);
  }

  // The vCPU loop's JavaScript half: the native loop returns only for JS devices, outcomes and errors.
  run(limits: RunLimits, bus: DeviceBus): BackendRunEnd {
    const { machine, record } = this;
    machine.setUserRanges(bus.flatRanges());
    bus.attachDataBuffer(this.data);
    callNative(() =>
      machine.begin({ maxExits: limits.maxExits, stopByte: limits.stopOnByte, timeoutMs: limits.timeoutMs, ignoreUnhandled: limits.unhandled === 'ignore', maxOutput: limits.maxOutputBytes, consoleFd: limits.consoleFd }),
    );
    try {
      for (;;) {
        const exit = machine.resume();
        if (exit === NativeExit.UserAccess) {
          const interrupted = this.dispatch(bus);
          if (interrupted !== undefined) return { outcome: interrupted, exits: record[ExitField.Exits]! };
          continue;
        }
        if (exit === NativeExit.RingWake) {
          this.ring!.notify();
          continue;
        }
        if (exit === NativeExit.RingFull) {
          // Backpressure: wake the consumer and wait for a free slot; a kick still ends the wait
          // within a slice, as Resume() checks for stop requests before the pending exit.
          this.ring!.notify();
          this.ring!.waitForSpace(5);
          continue;
        }
        return runEnd(exit, record, this.arch);
      }
    } finally {
      machine.end();
      this.ring?.notify();
    }
  }

  takeOutput(): ConsoleOutput {
    const dropped = this.machine.consoleDropped();
    return { bytes: this.machine.takeConsole(), dropped };
  }

  snapshot(): void {
    callNative(() => this.machine.snapshot());
  }

  restore(hostWrote: boolean): number {
    return callNative(() => this.machine.restore(hostWrote));
  }

  stop(): boolean {
    return !this.closed && this.machine.kick();
  }

  interrupt(): void {
    this.machine.interrupt();
  }

  useInterruptLine(): void {}

  /** Fresh VMs set up as this one: its RAM layout, `segments` loaded, `registers` set (the PC among them). */
  freshVms(segments: readonly ImageSegment[], registers: [string, bigint][], pcRegister: string, ignoreUnhandled: boolean, vcpuIdSlot: Float64Array): FreshKvmVms {
    const setup = { ...this.options, segments: segments.map((s) => ({ guestAddr: s.guestAddr, data: s.data })), registers, pcRegister, ignoreUnhandled };
    return new FreshKvmVms(this.arch, setup, vcpuIdSlot);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.machine.close();
  }

  /** One access for a JavaScript device; the outcome when a wait inside it ended the run. */
  private dispatch(bus: DeviceBus): RunInterrupted['outcome'] | undefined {
    const r = this.record;
    try {
      bus.access(r[ExitField.Kind] === accessKindCode.mmio ? 'mmio' : 'pio', r[ExitField.Address]!, r[ExitField.Size]!, r[ExitField.IsWrite] === 1, r[ExitField.Count]!);
      return undefined;
    } catch (error) {
      if (error instanceof RunInterrupted) return error.outcome;
      if (error instanceof GuestError) error.exits = r[ExitField.Exits]!;
      throw error;
    }
  }
}

/**
 * Fresh VMs of one setup, each created, loaded, run and destroyed natively in one call
 * (native/one_shot.h): a swarm lane's runs with `reuse: false`, without a JavaScript object per VM.
 * Made from a VM already set up the same way, so the setup is known to be valid.
 */
export class FreshKvmVms {
  readonly backend = 'kvm';
  private readonly oneShot: NativeOneShot;
  private readonly record: Float64Array;

  constructor(
    readonly arch: GuestArch,
    setup: NativeOneShotSetup,
    vcpuIdSlot: Float64Array,
  ) {
    const { buffer, fields } = exitRecord();
    this.record = fields;
    this.oneShot = new (loadAddon().KvmOneShot)(setup, buffer, vcpuIdSlot);
  }

  /** One fresh VM's run (limits as Vm.run's; durationMs spans the VM's whole life); its console output is not kept. */
  run(options: RunOptions): RunResult {
    const started = performance.now();
    const exit = callNative(() => this.oneShot.run(options.maxExits ?? 0, options.stopOnByte ?? -1, options.timeoutMs ?? 0));
    try {
      return { backend: 'kvm', arch: this.arch, ...runEnd(exit, this.record, this.arch), output: Buffer.alloc(0), outputTruncated: false, outputDropped: 0, durationMs: performance.now() - started };
    } catch (error) {
      if (error instanceof GuestError) withPc(error, BigInt(this.record[ExitField.Pc]!));
      throw error;
    }
  }
}

/** Calls into the addon, its errors typed (fromNative). */
function callNative<T>(f: () => T): T {
  try {
    return f();
  } catch (error) {
    throw fromNative(error);
  }
}

/** A new exit record (native/vcpu_loop.h ExitField): the buffer the native loop writes, and its fields. */
function exitRecord(): { buffer: ArrayBuffer; fields: Float64Array } {
  const addon = loadAddon();
  const buffer = new ArrayBuffer(addon.constants.ExitRecord!.size!);
  return { buffer, fields: new Float64Array(buffer, 0, addon.constants.ExitRecord!.dataOffset! / 8) };
}

/** How a native run ended: an outcome, or (thrown) the GuestError the exit record describes. */
function runEnd(exit: NativeExit, record: Float64Array, arch: GuestArch): BackendRunEnd {
  const exits = record[ExitField.Exits]!;
  switch (exit) {
    case NativeExit.Halted:
      return { outcome: 'halted', exits };
    case NativeExit.SystemOff:
      return { outcome: 'system-off', exits };
    case NativeExit.SystemReset:
      return { outcome: 'system-reset', exits };
    case NativeExit.Stopped:
    case NativeExit.StopByte:
      return { outcome: 'stopped', exits };
    case NativeExit.Timeout:
      return { outcome: 'timeout', exits };
    case NativeExit.MaxExits:
      return { outcome: 'max-exits', exits };
    case NativeExit.Unhandled:
      throw unhandledAccess(accessOf(record), exits);
    case NativeExit.CoalescedRead:
      throw coalescedRead(accessOf(record), exits);
    default:
      throw guestError(record, arch, exits);
  }
}

function accessOf(r: Float64Array): AccessDetails {
  return {
    kind: r[ExitField.Kind] === 1 ? 'mmio' : 'pio',
    address: r[ExitField.Address]!,
    exactAddress: (BigInt(r[ExitField.AddressHi]!) << 32n) | BigInt(r[ExitField.AddressLo]!),
    size: r[ExitField.Size]!,
    direction: r[ExitField.IsWrite] === 1 ? 'write' : 'read',
  };
}

function guestError(r: Float64Array, arch: GuestArch, exits: number): GuestError {
  const reason = r[ExitField.ExitReason]!;
  const detail = r[ExitField.ErrorDetail]!;
  let error: GuestError;
  if (reason === -1 && r[ExitField.Errno] === ENOSYS && arch === 'aarch64') {
    error = mmioNoSyndrome();
  } else if (reason === -1) {
    error = new GuestError('ERR_KVM_RUN', `KVM_RUN failed: errno ${r[ExitField.Errno]}`);
  } else if (reason === KVM_EXIT_FAIL_ENTRY) {
    error = new GuestError('ERR_GUEST_FAIL_ENTRY', `KVM_EXIT_FAIL_ENTRY: the CPU refused to enter the guest (hardware reason 0x${detail.toString(16)})`);
  } else if (reason === KVM_EXIT_INTERNAL_ERROR) {
    error = new GuestError('ERR_GUEST_INTERNAL_ERROR', `KVM_EXIT_INTERNAL_ERROR (suberror ${detail}): KVM could not emulate what the guest did`);
  } else if (reason === KVM_EXIT_SHUTDOWN) {
    error = new GuestError('ERR_GUEST_SHUTDOWN', 'KVM_EXIT_SHUTDOWN: the guest triple-faulted');
  } else {
    error = new GuestError('ERR_GUEST_EXIT_UNKNOWN', `KVM exit reason ${reason} is not one femtovm handles`);
  }
  error.exits = exits;
  return error;
}
