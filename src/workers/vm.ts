/**
 * The VM: guest RAM laid out per the platform contract, an image loaded into it, registers by name,
 * JavaScript devices, and runs that end in an outcome or a typed error. Backend-neutral: KVM today,
 * the WebAssembly CPU behind the same interface.
 */
import type { Backend, NativeDeviceSpec, RunLimits, StopWord } from './backend';
import type { BackendKind, LoadOptions, RunOptions, RunResult, VmOptions } from '../shared/vm-types';
import { DeviceBus, type Device, type DeviceRange } from '../shared/devices';
import { ConfigError, GuestError, ImageError, VmStateError, withPc } from '../shared/errors';
import { parseImage, readImageFile, type LoadedImage } from '../shared/image';
import { chooseBackend } from '../shared/info';
import { KvmBackend, type FreshKvmVms } from './kvm-backend';
import { WasmBackend } from './wasm-backend';
import { arm64StartState, isArm64Start } from '../shared/arm64-start';
import { customLayout, platforms, ramLayout, type GuestArch, type RamLayout, type X86Mode } from '../shared/platform';

export class Vm {
  readonly arch: GuestArch;
  readonly backend: BackendKind;
  readonly layout: RamLayout;
  readonly x86Mode: X86Mode;
  private readonly impl: Backend;
  private readonly bus: DeviceBus;
  private readonly unhandled: 'error' | 'ignore';
  private running = false;
  private closed = false;
  private snapshotTaken = false;
  /** The VMM itself wrote RAM since the snapshot (KVM's dirty log sees only the guest's writes). */
  private hostWrote = false;

  constructor(options: VmOptions = {}) {
    const arch = options.arch ?? (process.arch === 'arm64' ? 'aarch64' : 'x86_64');
    if (!(arch in platforms)) throw new ConfigError('ERR_INVALID_OPTION', `unknown arch ${JSON.stringify(arch)} (aarch64 or x86_64)`);
    const x86Mode = options.x86Mode ?? 'real';
    if (x86Mode !== 'real' && x86Mode !== 'long') throw new ConfigError('ERR_INVALID_OPTION', `unknown x86 mode ${JSON.stringify(x86Mode)} (real or long)`);
    const arm64Start = options.arm64Start ?? 'mmu-on';
    if (!isArm64Start(arm64Start)) throw new ConfigError('ERR_INVALID_OPTION', `unknown arm64 start ${JSON.stringify(arm64Start)} (mmu-on or mmu-off)`);
    const layout = options.regions ? customLayout(arch, options.regions, x86Mode) : ramLayout(arch, options.mem ?? platforms[arch].defaultMem, x86Mode);
    this.arch = arch;
    this.x86Mode = x86Mode;
    this.layout = layout;
    this.bus = new DeviceBus(layout.regions);
    this.unhandled = options.unhandled ?? 'error';
    this.backend = chooseBackend(arch, options.backend ?? 'auto');
    const boot = {
      layout,
      entry: platforms[arch].loadAddr,
      x86LongMode: arch === 'x86_64' && x86Mode === 'long',
      ...(arch === 'aarch64' && { arm64: arm64StartState(layout, arm64Start) }),
    };
    this.impl = this.backend === 'kvm' ? new KvmBackend(arch, boot) : new WasmBackend(boot);
  }

  /**
   * Loads a guest image (flat binary or ELF64, told apart by the ELF magic) from bytes or a file
   * path, and points the PC at its entry. Every byte must land in guest RAM the guest owns.
   */
  load(image: Uint8Array | string, options: LoadOptions = {}): LoadedImage {
    this.checkUsable();
    const bytes = typeof image === 'string' ? readImageFile(image) : image;
    const loaded = parseImage(bytes, this.arch, options.loadAddr ?? platforms[this.arch].loadAddr);
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
    const entry = options.entry ?? loaded.entry ?? loaded.segments[0]!.guestAddr;
    this.setRegister(platforms[this.arch].pcRegister, entry);
    return loaded;
  }

  /** A copy of `length` bytes of guest RAM at `guestAddr`. */
  readMemory(guestAddr: number, length: number): Uint8Array {
    return this.ramOrThrow(guestAddr, length).slice();
  }

  writeMemory(guestAddr: number, bytes: Uint8Array): void {
    this.ramOrThrow(guestAddr, bytes.length).set(bytes);
    this.hostWrote = true;
  }

  /** A live view of guest RAM region `index` (no copy); detached when the VM closes (KVM). */
  memory(index = 0): Uint8Array {
    this.checkUsable();
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
    this.impl.takeOutput();
    this.hostWrote = false;
    return pages;
  }

  getRegister(name: string): bigint {
    this.checkUsable();
    const value = this.impl.getRegister(name);
    if (value === undefined) throw this.unknownRegister(name);
    return value;
  }

  setRegister(name: string, value: bigint | number): void {
    this.checkUsable();
    const v = BigInt(value);
    if (v < 0n || v >= 1n << 64n) throw new ConfigError('ERR_INVALID_OPTION', `register value ${v} does not fit in 64 bits`);
    if (!this.impl.setRegister(name, v)) throw this.unknownRegister(name);
  }

  /** Every register of this arch by name. */
  registers(): Record<string, bigint> {
    this.checkUsable();
    const all: Record<string, bigint> = {};
    for (const name of this.impl.registerNames()) all[name] = this.impl.getRegister(name)!;
    return all;
  }

  /** Maps a JavaScript device at an MMIO address range or a PIO port range (x86). */
  addDevice(range: DeviceRange, device: Device): void {
    this.mapDevice(range, device, false);
  }

  /**
   * Maps a device answered inside the backend's loop, with no call into JavaScript: `constant` (reads
   * return `value`) or `counter` (reads return a free-running nanosecond counter). Writes are dropped.
   */
  addNativeDevice(range: DeviceRange, spec: NativeDeviceSpec): void {
    if (spec.type !== 'constant' && spec.type !== 'counter') throw new ConfigError('ERR_INVALID_OPTION', `unknown native device type ${JSON.stringify((spec as { type: unknown }).type)}`);
    this.mapDevice(range, {}, true);
    this.impl.addNativeDevice(range, spec);
  }

  /**
   * @internal Records every access into an event ring (src/shared/event-ring.ts). For VMs on worker
   * threads: a full ring blocks the vCPU until a consumer on another thread drains it.
   */
  attachEventRing(ring: SharedArrayBuffer): void {
    this.checkUsable();
    this.impl.attachEventRing(ring);
  }

  /** @internal The vCPU's process-wide id, to stop it from another thread. */
  get vcpuId(): number {
    return this.impl.vcpuId;
  }

  /** Runs the guest until it ends, a limit, stop(), or an error (a GuestError with registers and output). */
  run(options: RunOptions = {}, /** @internal */ stopWord?: StopWord): RunResult {
    this.checkIdle();
    const limits: RunLimits = {
      timeoutMs: nonNegative('timeoutMs', options.timeoutMs ?? 0),
      maxExits: nonNegative('maxExits', options.maxExits ?? 0),
      stopOnByte: options.stopOnByte ?? -1,
      unhandled: this.unhandled,
      ...(stopWord && { stopWord }),
    };
    if (!Number.isInteger(limits.stopOnByte) || limits.stopOnByte < -1 || limits.stopOnByte > 255) {
      throw new ConfigError('ERR_INVALID_OPTION', `stopOnByte must be a byte (0..255), got ${options.stopOnByte}`);
    }
    const started = performance.now();
    this.running = true;
    try {
      const end = this.impl.run(limits, this.bus);
      return { backend: this.backend, arch: this.arch, ...end, output: this.impl.takeOutput(), durationMs: performance.now() - started };
    } catch (error) {
      if (error instanceof GuestError) this.describeFailure(error);
      throw error;
    } finally {
      this.running = false;
    }
  }

  /**
   * @internal Fresh KVM VMs set up as this one is now (`loaded`, then `registers`), each created,
   * loaded, run and destroyed natively in one call: a swarm lane's `reuse: false` path. Undefined on
   * the wasm backend and for a VM with devices (fresh VMs have only the console).
   */
  freshVms(loaded: LoadedImage, registers: Record<string, bigint>, vcpuIdSlot: Float64Array): FreshKvmVms | undefined {
    if (!(this.impl instanceof KvmBackend) || !this.bus.empty) return undefined;
    const pc = platforms[this.arch].pcRegister;
    return this.impl.freshVms(loaded.segments, [...Object.entries(registers), [pc, this.getRegister(pc)]], pc, this.unhandled === 'ignore', vcpuIdSlot);
  }

  /** Stops a run in progress (from a device handler); false when none is. */
  stop(): boolean {
    return !this.closed && this.impl.stop();
  }

  /** Releases the VM: fds, mappings, views. Idempotent; the VM is unusable afterwards. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.impl.close();
  }

  private mapDevice(range: DeviceRange, device: Device, native: boolean): void {
    this.checkUsable();
    if (range.kind === 'pio' && this.arch !== 'x86_64') throw new ConfigError('ERR_INVALID_OPTION', 'port I/O exists on x86_64 only');
    this.bus.add(range, device, native);
  }

  private describeFailure(error: GuestError): void {
    error.output = this.impl.takeOutput();
    error.registers = this.registers();
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
      throw new ConfigError('ERR_ADDRESS_OUT_OF_RANGE', `0x${guestAddr.toString(16)}+${length} is not inside guest RAM (${this.describeRam()})`);
    }
    return view;
  }

  private describeRam(): string {
    return this.layout.regions.map((r) => `0x${r.guestAddr.toString(16)}..0x${(r.guestAddr + r.size).toString(16)}`).join(', ');
  }

  private unknownRegister(name: string): ConfigError {
    return new ConfigError('ERR_UNKNOWN_REGISTER', `${this.arch} has no register ${JSON.stringify(name)} (known: ${this.impl.registerNames().join(', ')})`);
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
  if (!Number.isFinite(value) || value < 0) throw new ConfigError('ERR_INVALID_OPTION', `${name} must be a non-negative number, got ${value}`);
  return value;
}

/** Creates a VM (see VmOptions). Close it when done: `vm.close()`. */
export function createVm(options: VmOptions = {}): Vm {
  return new Vm(options);
}
