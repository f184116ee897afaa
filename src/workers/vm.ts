/**
 * The VM: guest RAM laid out per the platform contract, an image loaded into it, registers by name,
 * JavaScript devices, and runs that end in an outcome or a typed error. Backend-neutral: KVM today,
 * the WebAssembly CPU behind the same interface.
 */
import type { Backend, NativeDeviceSpec, RunLimits } from './backend';
import type { StopWord } from './run-watch';
import { DEFAULT_MAX_OUTPUT, type BackendKind, type Irqchip, type LoadOptions, type RunOptions, type RunResult, type VmOptions } from '../shared/vm-types';
import { checkDoorbell, checkRange, DeviceBus, type Device, type DeviceOptions, type DeviceRange, type DoorbellHandler, type DoorbellSpec } from '../shared/devices';
import { loadAddon, type NativeDoorbellWatcher } from '../shared/addon';
import { JIT_MODES, type JitOptions } from './wasm/jit/code-cache';
import { ConfigError, GuestError, ImageError, VmStateError, withPc } from '../shared/errors';
import { parseImage, readImageFile, type LoadedImage } from '../shared/image';
import { checkObject, describe, describeAddress, optionalAddress } from '../shared/options';
import { RunWatch } from './run-watch';
import { chooseBackend } from '../shared/info';
import { KvmBackend, type FreshKvmVms } from './kvm-backend';
import { WasmBackend } from './wasm-backend';
import { arm64StartState, isArm64Start } from '../shared/arm64-start';
import { ARM64_GIC, CONSOLE_MMIO, CONSOLE_PORT, customLayout, platforms, ramLayout, type GuestArch, type RamLayout, type X86Mode } from '../shared/platform';

export class Vm {
  readonly arch: GuestArch;
  readonly backend: BackendKind;
  readonly layout: RamLayout;
  readonly x86Mode: X86Mode;
  private readonly impl: Backend;
  private readonly bus: DeviceBus;
  private readonly unhandled: 'error' | 'ignore';
  private readonly coalescedConsole: boolean;
  readonly irqchip: Irqchip;
  private readonly doorbells: NativeDoorbellWatcher[] = [];
  private running = false;
  private closed = false;
  /** close() came during a run (from a device handler): the run stops, then the VM is released. */
  private closeAfterRun = false;
  /** @internal What every wait of a run looks at: its time limit and stop requests. */
  readonly watch = new RunWatch();
  private snapshotTaken = false;
  /** The VMM itself wrote RAM since the snapshot (KVM's dirty log sees only the guest's writes). */
  private hostWrote = false;

  constructor(options: VmOptions = {}) {
    checkObject('VM options', options);
    const arch = options.arch ?? (process.arch === 'arm64' ? 'aarch64' : 'x86_64');
    if (typeof arch !== 'string' || !Object.hasOwn(platforms, arch)) throw new ConfigError('ERR_INVALID_OPTION', `unknown arch ${describe(arch)} (aarch64 or x86_64)`);
    const x86Mode = options.x86Mode ?? 'real';
    if (x86Mode !== 'real' && x86Mode !== 'long') throw new ConfigError('ERR_INVALID_OPTION', `unknown x86 mode ${describe(x86Mode)} (real or long)`);
    const arm64Start = options.arm64Start ?? 'mmu-on';
    if (!isArm64Start(arm64Start)) throw new ConfigError('ERR_INVALID_OPTION', `unknown arm64 start ${describe(arm64Start)} (mmu-on or mmu-off)`);
    const layout = options.regions !== undefined ? customLayout(arch, options.regions, x86Mode) : ramLayout(arch, options.mem ?? platforms[arch].defaultMem, x86Mode);
    this.arch = arch;
    this.x86Mode = x86Mode;
    this.layout = layout;
    this.bus = new DeviceBus(layout.regions);
    const unhandled = options.unhandled ?? 'error';
    if (unhandled !== 'error' && unhandled !== 'ignore') throw new ConfigError('ERR_INVALID_OPTION', `unhandled must be 'error' or 'ignore', not ${describe(unhandled)}`);
    this.unhandled = unhandled;
    this.backend = chooseBackend(arch, options.backend ?? 'auto');
    this.irqchip = checkIrqchip(options.irqchip ?? 'user', arch, this.backend, layout);
    const irqfd = checkIrqfd(options.irqfd ?? false, this.irqchip, this.backend);
    const boot = {
      layout,
      entry: platforms[arch].loadAddr,
      x86LongMode: arch === 'x86_64' && x86Mode === 'long',
      irqchip: this.irqchip,
      jit: jitOptions(options),
      irqfd,
      ...(arch === 'aarch64' && { arm64: arm64StartState(layout, arm64Start) }),
    };
    this.impl = this.backend === 'kvm' ? new KvmBackend(arch, boot) : new WasmBackend(boot);
    this.coalescedConsole = options.coalescedConsole ?? false;
    try {
      if (this.coalescedConsole) this.impl.addCoalescedRange({ kind: 'mmio', base: CONSOLE_MMIO, size: 1 });
      if (this.coalescedConsole && arch === 'x86_64') this.impl.addCoalescedRange({ kind: 'pio', base: CONSOLE_PORT, size: 1 });
    } catch (error) {
      this.impl.close();
      throw error;
    }
  }

  /**
   * Loads a guest image (flat binary or ELF64, told apart by the ELF magic) from bytes or a file
   * path, and points the PC at its entry. Every byte must land in guest RAM the guest owns.
   */
  load(image: Uint8Array | string, options: LoadOptions = {}): LoadedImage {
    this.checkIdle();
    checkObject('load options', options);
    if (typeof image !== 'string' && !(image instanceof Uint8Array)) throw new ConfigError('ERR_INVALID_OPTION', `an image is a path or a Uint8Array, not ${describe(image)}`);
    const loadAddr = optionalAddress('loadAddr', options.loadAddr) ?? platforms[this.arch].loadAddr;
    const requestedEntry = optionalAddress('entry', options.entry);
    const bytes = typeof image === 'string' ? readImageFile(image, this.ramSize()) : image;
    const loaded = parseImage(bytes, this.arch, loadAddr);
    for (const s of loaded.segments) {
      const target = this.ram(s.guestAddr, s.memSize);
      if (target === undefined || s.guestAddr + s.memSize > this.layout.guestTop) {
        throw new ImageError(
          'ERR_IMAGE_OUT_OF_RANGE',
          `image ${loaded.format === 'elf' ? 'segment ' : ''}0x${s.guestAddr.toString(16)}..0x${(s.guestAddr + s.memSize).toString(16)} is outside guest RAM (${this.describeRam()})`,
        );
      }
      target.set(s.data);
      target.fill(0, s.data.length);
      this.hostWrote = true;
    }
    const entry = requestedEntry ?? loaded.entry ?? loaded.segments[0]!.guestAddr;
    this.setRegister(platforms[this.arch].pcRegister, entry);
    return loaded;
  }

  /** A copy of `length` bytes of guest RAM at `guestAddr`. */
  readMemory(guestAddr: number, length: number): Uint8Array {
    return this.ramOrThrow(guestAddr, length).slice();
  }

  writeMemory(guestAddr: number, bytes: Uint8Array): void {
    if (!(bytes instanceof Uint8Array)) throw new ConfigError('ERR_INVALID_OPTION', `writeMemory takes a Uint8Array, not ${describe(bytes)}`);
    this.ramOrThrow(guestAddr, bytes.length).set(bytes);
    this.hostWrote = true;
  }

  /** A live view of guest RAM region `index` (no copy); detached when the VM closes (KVM). */
  memory(index = 0): Uint8Array {
    this.checkUsable();
    if (!Number.isInteger(index) || index < 0 || index >= this.layout.regions.length) {
      throw new ConfigError('ERR_INVALID_OPTION', `no RAM region ${String(index)} (the VM has ${this.layout.regions.length})`);
    }
    this.hostWrote = true; // what is written through the view is out of sight: the next restore copies all
    return this.impl.memory(index);
  }

  /**
   * Snapshots the VM: RAM and every register a guest can change (x86: general, segment and control
   * registers, x87/SSE/AVX state, XCR0, debug registers, pending events, MSRs; aarch64: every register
   * KVM lists, FP/SIMD and EL1 system registers included). One snapshot per VM; a new one replaces it.
   */
  snapshot(): void {
    this.checkIdle();
    if (this.irqchip !== 'user') throw new ConfigError('ERR_INVALID_OPTION', `snapshot() of a VM with irqchip '${this.irqchip}': KVM keeps the interrupt controller's state, which a snapshot does not save`);
    this.impl.snapshot();
    this.snapshotTaken = true;
    this.hostWrote = false;
  }

  /**
   * Resets the VM to its snapshot, so the next run cannot tell it from a fresh VM: registers, and the
   * RAM pages the guest dirtied (KVM's dirty log; the wasm backend copies its RAM whole).
   * Console output not yet taken is dropped. Returns how many pages were copied.
   */
  restore(): number {
    this.checkIdle();
    if (!this.snapshotTaken) throw new VmStateError('ERR_NO_SNAPSHOT', 'restore() needs a snapshot() first');
    const pages = this.impl.restore(this.hostWrote);
    this.impl.takeOutput(); // dropped: output of a run before the snapshot's state
    this.hostWrote = false;
    return pages;
  }

  getRegister(name: string): bigint {
    this.checkUsable();
    if (typeof name !== 'string') throw this.unknownRegister(name);
    const value = this.impl.getRegister(name);
    if (value === undefined) throw this.unknownRegister(name);
    return value;
  }

  setRegister(name: string, value: bigint | number): void {
    this.checkIdle();
    if (typeof name !== 'string') throw this.unknownRegister(name);
    if (typeof value !== 'bigint' && !Number.isSafeInteger(value)) throw new ConfigError('ERR_INVALID_OPTION', `register ${name}: a value is a bigint or a whole number, not ${describe(value)}`);
    const v = BigInt(value);
    const bits = this.impl.registerBits(name);
    if (bits === 0) throw this.unknownRegister(name);
    if (v < 0n || v >= 1n << BigInt(bits)) throw new ConfigError('ERR_INVALID_OPTION', `register value ${v} does not fit in ${bits} bits`);
    let known: boolean;
    try {
      known = this.impl.setRegister(name, v);
    } catch (error) {
      if (error instanceof RangeError) throw new ConfigError('ERR_INVALID_OPTION', `register ${name} cannot take 0x${v.toString(16)}: ${error.message}`, { cause: error });
      throw error;
    }
    if (!known) throw this.unknownRegister(name);
  }

  /** Every register of this arch by name. */
  registers(): Record<string, bigint> {
    this.checkUsable();
    const all: Record<string, bigint> = {};
    for (const name of this.impl.registerNames()) all[name] = this.impl.getRegister(name)!;
    return all;
  }

  /** Maps a JavaScript device at an MMIO address range or a PIO port range (x86); `coalesced`: see DeviceOptions. */
  addDevice(range: DeviceRange, device: Device, options: DeviceOptions = {}): void {
    if (options.coalesced && device.read !== undefined) throw new ConfigError('ERR_INVALID_OPTION', `a coalesced device is write-only: the device at ${range.kind} 0x${range.base.toString(16)} has read()`);
    this.mapDevice(range, device, false);
    if (options.coalesced) this.coalesce(range);
  }

  /**
   * Maps a device answered inside the backend's loop, with no call into JavaScript: `constant` (reads
   * return `value`), `counter` (reads return a free-running nanosecond counter) or `pm-timer` (the ACPI
   * PM timer: 24 bits at 3.579545 MHz, as QEMU answers port 0xb008) — their writes are dropped — or
   * `interrupt` (a write raises the interrupt line as interrupt() does; reads return 0).
   */
  addNativeDevice(range: DeviceRange, spec: NativeDeviceSpec, options: DeviceOptions = {}): void {
    checkObject('a native device', spec);
    if (spec.type !== 'constant' && spec.type !== 'counter' && spec.type !== 'pm-timer' && spec.type !== 'interrupt') throw new ConfigError('ERR_INVALID_OPTION', `unknown native device type ${describe((spec as { type: unknown }).type)}`);
    if (spec.type === 'constant' && typeof spec.value !== 'bigint' && !Number.isSafeInteger(spec.value)) {
      throw new ConfigError('ERR_INVALID_OPTION', `a constant device's value is a bigint or a whole number, not ${describe(spec.value)}`);
    }
    this.mapDevice(range, {}, true);
    if (options.coalesced) this.coalesce(range);
    this.impl.addNativeDevice(range, spec);
  }

  /** Makes a range just mapped coalesced; on failure (ERR_KVM_CAPABILITY) it is unmapped again. */
  private coalesce(range: DeviceRange): void {
    try {
      this.impl.addCoalescedRange(range);
    } catch (error) {
      this.bus.remove(range);
      throw error;
    }
  }

  /**
   * @internal Records every access into an event ring (src/shared/event-ring.ts). For VMs on worker
   * threads: a full ring blocks the vCPU until a consumer on another thread drains it.
   */
  attachEventRing(ring: SharedArrayBuffer): void {
    this.checkUsable();
    this.impl.attachEventRing(ring);
  }

  /**
   * A doorbell: a guest write of `spec.size` bytes to `spec.address` (equal to `spec.match` when
   * given) rings it with no exit (KVM_IOEVENTFD; the wasm backend rings it from its loop). `handler`
   * runs on this thread's event loop with the rings since its last call: for a VM on this thread,
   * once run() has returned; RemoteVm.addDoorbell calls it on the main thread while the guest runs.
   */
  addDoorbell(spec: DoorbellSpec, handler: DoorbellHandler): void {
    this.doorbells.push(new (loadAddon().DoorbellWatcher)(this.doorbellFd(spec), handler));
  }

  /** @internal Registers a doorbell; returns the eventfd it rings (the VM's: closed with it) for a watcher elsewhere. */
  doorbellFd(spec: DoorbellSpec): number {
    checkDoorbell(spec);
    const range = { kind: spec.kind, base: spec.address, size: spec.size };
    this.mapDevice(range, {}, true);
    try {
      return this.impl.addDoorbell(spec);
    } catch (error) {
      this.bus.remove(range);
      throw error;
    }
  }

  /**
   * Raises the guest's interrupt line (level): it stays high until the guest writes the interrupt
   * acknowledge (INTERRUPT_ACK, 0x9f8). aarch64: the vCPU's IRQ input (taken at VBAR_EL1 + 0x280 when
   * PSTATE.I is clear; WFI wakes); x86: vector 0x20, delivered once the guest has IF set (HLT with IF
   * set waits for it). Raising a high line does nothing. From a device handler during a run, or
   * between runs; RemoteVm.interrupt() raises it from another thread while the vCPU runs. With
   * VmOptions.irqfd an edge instead: one interrupt per call, no line held, the guest's EOI its acknowledge.
   */
  interrupt(): void {
    this.checkUsable();
    this.impl.interrupt();
  }

  /** @internal The interrupt line as a shared word another thread raises (see Backend.useInterruptLine). */
  useInterruptLine(words: Int32Array, index: number): void {
    this.impl.useInterruptLine(words, index);
  }

  /** @internal The vCPU's process-wide id, to stop it from another thread. */
  get vcpuId(): number {
    return this.impl.vcpuId;
  }

  /** Runs the guest until it ends, a limit, stop(), or an error (a GuestError with registers and output). */
  run(options: RunOptions = {}, /** @internal */ stopWord?: StopWord): RunResult {
    this.checkIdle();
    checkObject('run options', options);
    const limits: RunLimits = {
      timeoutMs: nonNegative('timeoutMs', options.timeoutMs ?? 0),
      maxExits: nonNegative('maxExits', options.maxExits ?? 0),
      stopOnByte: options.stopOnByte ?? -1,
      unhandled: this.unhandled,
      maxOutputBytes: nonNegative('maxOutputBytes', options.maxOutputBytes ?? DEFAULT_MAX_OUTPUT),
      consoleFd: options.consoleFd === undefined ? -1 : nonNegative('consoleFd', options.consoleFd),
      watch: this.watch,
      ...(stopWord && { stopWord }),
    };
    if (!Number.isSafeInteger(limits.maxOutputBytes)) throw new ConfigError('ERR_INVALID_OPTION', `maxOutputBytes must be a whole number, got ${describe(options.maxOutputBytes)}`);
    if (!Number.isInteger(limits.consoleFd) || limits.consoleFd > 0x7fffffff) throw new ConfigError('ERR_INVALID_OPTION', `consoleFd must be a file descriptor (a whole number ≥ 0), got ${describe(options.consoleFd)}`);
    if (!Number.isInteger(limits.stopOnByte) || limits.stopOnByte < -1 || limits.stopOnByte > 255) {
      throw new ConfigError('ERR_INVALID_OPTION', `stopOnByte must be a byte (0..255), got ${describe(options.stopOnByte)}`);
    }
    const started = performance.now();
    this.watch.begin(limits.timeoutMs, stopWord);
    this.running = true;
    try {
      const end = this.impl.run(limits, this.bus);
      const output = this.impl.takeOutput();
      const jit = this.impl.jitStats?.();
      return { backend: this.backend, arch: this.arch, ...end, output: output.bytes, outputTruncated: output.dropped > 0, outputDropped: output.dropped, durationMs: performance.now() - started, ...(jit && { jit }) };
    } catch (error) {
      if (error instanceof GuestError) this.describeFailure(error);
      throw error;
    } finally {
      this.running = false;
      if (this.closeAfterRun) this.release();
    }
  }

  /**
   * @internal Fresh KVM VMs set up as this one is now (`loaded`, then `registers`), each created,
   * loaded, run and destroyed natively in one call: a swarm lane's `reuse: false` path. Undefined on
   * the wasm backend and for a VM with devices (fresh VMs have only the console).
   */
  freshVms(loaded: LoadedImage, registers: Record<string, bigint>, vcpuIdSlot: Float64Array): FreshKvmVms | undefined {
    if (!(this.impl instanceof KvmBackend) || !this.bus.empty || this.coalescedConsole || this.irqchip !== 'user') return undefined;
    const pc = platforms[this.arch].pcRegister;
    return this.impl.freshVms(loaded.segments, [...Object.entries(registers), [pc, this.getRegister(pc)]], pc, this.unhandled === 'ignore', vcpuIdSlot);
  }

  /** Stops a run in progress (from a device handler); false when none is. */
  stop(): boolean {
    if (this.closed) return false;
    this.watch.requestStop();
    return this.impl.stop();
  }

  /**
   * Releases the VM: fds, mappings, views. Idempotent; the VM is unusable afterwards. During a run
   * (from a device handler) the run is stopped first and the VM released as it returns: its CPU
   * never serves another VM while this run is on it.
   */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.running) {
      this.closeAfterRun = true;
      this.watch.requestStop();
      this.impl.stop();
      return;
    }
    this.release();
  }

  /** What close() frees: the doorbells' watchers, then the backend. */
  private release(): void {
    for (const watcher of this.doorbells) watcher.close();
    this.impl.close();
  }

  private mapDevice(range: DeviceRange, device: Device, native: boolean): void {
    this.checkIdle();
    checkRange(range);
    checkObject('a device', device);
    if (range.kind === 'pio' && this.arch !== 'x86_64') throw new ConfigError('ERR_INVALID_OPTION', 'port I/O exists on x86_64 only');
    this.bus.add(range, device, native);
  }

  private describeFailure(error: GuestError): void {
    error.output = this.impl.takeOutput().bytes;
    error.registers = {};
    for (const name of this.impl.registerNames()) error.registers[name] = this.impl.getRegister(name)!;
    const pc = error.registers[platforms[this.arch].pcRegister];
    if (pc !== undefined) withPc(error, pc);
  }

  private ram(guestAddr: number, length: number): Uint8Array | undefined {
    if (!Number.isSafeInteger(guestAddr) || !Number.isSafeInteger(length) || length < 0) return undefined;
    for (const [i, r] of this.layout.regions.entries()) {
      if (guestAddr >= r.guestAddr && guestAddr + length <= r.guestAddr + r.size) {
        const offset = guestAddr - r.guestAddr;
        return this.impl.memory(i).subarray(offset, offset + length);
      }
    }
    return undefined;
  }

  private ramOrThrow(guestAddr: number, length: number): Uint8Array {
    this.checkUsable();
    const view = this.ram(guestAddr, length);
    if (view === undefined) {
      throw new ConfigError('ERR_ADDRESS_OUT_OF_RANGE', `${describeAddress(guestAddr)}+${describe(length)} is not inside guest RAM (${this.describeRam()})`);
    }
    return view;
  }

  private describeRam(): string {
    return this.layout.regions.map((r) => `0x${r.guestAddr.toString(16)}..0x${(r.guestAddr + r.size).toString(16)}`).join(', ');
  }

  /** Bytes of guest RAM: the most an image can fill, so the most read from an image file. */
  private ramSize(): number {
    return this.layout.regions.reduce((sum, r) => sum + r.size, 0);
  }

  private unknownRegister(name: unknown): ConfigError {
    return new ConfigError('ERR_UNKNOWN_REGISTER', `${this.arch} has no register ${describe(name)} (known: ${this.impl.registerNames().join(', ')})`);
  }

  private checkUsable(): void {
    if (this.closed) throw new VmStateError('ERR_VM_CLOSED', 'the VM is closed');
  }

  private checkIdle(): void {
    this.checkUsable();
    if (this.running) throw new VmStateError('ERR_VM_BUSY', 'the VM is running');
  }
}

function nonNegative(name: string, value: number): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) throw new ConfigError('ERR_INVALID_OPTION', `${name} must be a non-negative number, got ${describe(value)}`);
  return value;
}

/** Creates a VM (see VmOptions). Close it when done: `vm.close()`. */
export function createVm(options: VmOptions = {}): Vm {
  return new Vm(options);
}

/** The irqfd option: a boolean, and an in-kernel irqchip to bind the eventfd to (KVM's, so never on wasm). */
function checkIrqfd(irqfd: unknown, irqchip: Irqchip, backend: BackendKind): boolean {
  if (typeof irqfd !== 'boolean') throw new ConfigError('ERR_INVALID_OPTION', `irqfd is a boolean, not ${describe(irqfd)}`);
  if (irqfd && irqchip === 'user') throw new ConfigError('ERR_INVALID_OPTION', `irqfd needs an in-kernel irqchip ('kernel' or 'split'), and the ${backend} backend's VM has irqchip 'user'`);
  return irqfd;
}

/** The irqchip option: one of the three, KVM only for an in-kernel one, and RAM clear of the GICv3. */
function checkIrqchip(irqchip: unknown, arch: GuestArch, backend: BackendKind, layout: RamLayout): Irqchip {
  if (irqchip !== 'user' && irqchip !== 'kernel' && irqchip !== 'split') throw new ConfigError('ERR_INVALID_OPTION', `unknown irqchip ${describe(irqchip)} (user, kernel or split)`);
  if (irqchip === 'user') return irqchip;
  if (backend !== 'kvm') throw new ConfigError('ERR_INVALID_OPTION', `irqchip '${irqchip}' is KVM's: the ${backend} backend has only 'user'`);
  const gic = layout.regions.find((r) => r.guestAddr < ARM64_GIC.end && r.guestAddr + r.size > ARM64_GIC.distributor);
  if (arch === 'aarch64' && gic !== undefined) throw new ConfigError('ERR_REGION_OVERLAP', `RAM at ${describeAddress(gic.guestAddr)} overlaps the in-kernel GICv3 at ${describeAddress(ARM64_GIC.distributor)}..${describeAddress(ARM64_GIC.end)}`);
  return irqchip;
}

/** The translator's options from the VM's, checked. */
function jitOptions(options: VmOptions): JitOptions {
  const mode = options.jit ?? 'off';
  if (!JIT_MODES.includes(mode)) throw new ConfigError('ERR_INVALID_OPTION', `jit must be on, off or auto, got ${JSON.stringify(options.jit)}`);
  const units = options.jitCacheUnits;
  if (units !== undefined && (!Number.isInteger(units) || units < 1 || units > 65_000)) {
    throw new ConfigError('ERR_INVALID_OPTION', `jitCacheUnits must be an integer from 1 to 65000, got ${units}`);
  }
  return { mode, ...(units !== undefined && { cacheUnits: units }) };
}
