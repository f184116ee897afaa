/**
 * The WebAssembly backend: AArch64 guests on any host, on the software CPU of src/workers/wasm/a64-cpu.ts.
 * Its run loop gives the same exits and events as KVM/arm64: an MMIO exit for every access outside RAM,
 * PSCI SYSTEM_OFF/RESET through HVC, WFI waiting without burning a core until a stop or time limit.
 * It runs in slices (V8 tiers wasm up only between calls, and slices let stop and timeouts act).
 */
import { pmTimer, type Backend, type BackendRunEnd, type BootState, type NativeDeviceSpec, type RunLimits } from './backend';
import { DeviceBus, RunInterrupted, type DeviceRange, type DoorbellSpec } from '../shared/devices';
import { loadAddon } from '../shared/addon';
import { ConfigError, GuestError, type AccessDetails } from '../shared/errors';
import { eventKindCode } from '../shared/event-batch';
import { ConsoleBuffer, ConsoleStream, type ConsoleOutput } from './console-output';
import { EventRingWriter } from './event-ring-writer';
import { CONSOLE_MMIO, INTERRUPT_ACK, isConsoleWrite } from '../shared/platform';
import { coalescedRead, mmioNoSyndrome, unhandledAccess } from './access-rules';
import { A64_REGISTER_NAMES, A64Cpu, CpuExit, a64RegisterBits, type CoalescedWrite } from './wasm/a64-cpu';
import type { JitOptions, JitStats } from './wasm/jit/code-cache';

/**
 * Instructions per slice: V8 tiers a wasm function up only between calls, and the loop looks at stop
 * requests and time limits between slices. 100k instructions is ~0.5 ms: stop stays well under 1 ms.
 */
const SLICE = 100_000;
// PSCI function ids (as KVM implements PSCI 0.2 in the kernel) and SMCCC return values.
const PSCI_VERSION = 0x84000000;
const PSCI_SYSTEM_OFF = 0x84000008;
const PSCI_SYSTEM_RESET = 0x84000009;
const PSCI_0_2 = 2n;
const SMCCC_NOT_SUPPORTED = BigInt.asUintN(64, -1n);
const PSCI_INTERNAL_FAILURE = BigInt.asUintN(64, -6n); // what KVM leaves in x0 on SYSTEM_OFF/RESET

/**
 * CPUs of closed VMs on this thread, reset for the next: a new VM costs a reset, not a wasm instance.
 * A wasm memory never shrinks, so a CPU serves only VMs of about its size, and the idle ones hold at
 * most IDLE_BYTES (the largest go first): closed VMs' memory is given back.
 */
const idleCpus: A64Cpu[] = [];
const IDLE_CPUS = 8;
const IDLE_BYTES = 256 << 20;
/** Memory a CPU may have beyond what a VM's RAM needs and still serve it (code, state, and slack). */
const IDLE_SLACK = 8 << 20;

/** An idle CPU for RAM of `ramSize` bytes, of the build `jit` needs (the interpreter alone when off). */
function idleCpuFor(ramSize: number, jit: JitOptions): A64Cpu | undefined {
  const translates = (jit.mode ?? 'off') !== 'off';
  const i = idleCpus.findIndex((cpu) => cpu.translates === translates && cpu.memoryBytes >= ramSize && cpu.memoryBytes <= 2 * ramSize + IDLE_SLACK);
  return i < 0 ? undefined : idleCpus.splice(i, 1)[0];
}

function keepIdle(cpu: A64Cpu): void {
  idleCpus.push(cpu);
  idleCpus.sort((a, b) => a.memoryBytes - b.memoryBytes);
  let bytes = idleCpus.reduce((sum, c) => sum + c.memoryBytes, 0);
  while (idleCpus.length > IDLE_CPUS || bytes > IDLE_BYTES) bytes -= idleCpus.pop()!.memoryBytes;
}

/** A native device's MMIO range [start, end) (one shape for all: its lookup is on every access). */
interface NativeLikeDevice {
  start: number;
  end: number;
  spec: NativeDeviceSpec;
}

interface Doorbell {
  address: number;
  size: number;
  match: bigint | undefined;
  fd: number;
  rings: number;
}

/**
 * The MMIO access being handled: an exit's (the CPU's MMIO slots) or a coalesced write's (the CPU's
 * ring, with pc 0: no exit, no PC). One object per backend, refilled: handling allocates nothing.
 */
interface MmioAccess extends CoalescedWrite {
  /** The address as a number (exact below 2^53; addressLo and addressHi always are). */
  address: number;
  isWrite: boolean;
  pc: number;
}

const TWO32 = 2 ** 32;

export class WasmBackend implements Backend {
  readonly kind = 'wasm';
  readonly arch = 'aarch64';
  readonly vcpuId = 0;
  private readonly cpu: A64Cpu;
  private readonly data = new Uint8Array(8);
  private readonly dataView = new DataView(this.data.buffer);
  private readonly nativeDevices: NativeLikeDevice[] = [];
  /**
   * Native devices whose writes have no effect (all but `interrupt`), away from the console and the
   * interrupt acknowledge: with no event stream to record them, their coalesced writes are dropped
   * in bulk (skipCoalescedIn), not handled one by one.
   */
  private readonly writeSinks: { start: bigint; end: bigint }[] = [];
  /** Doorbells: a matching write rings the eventfd (as KVM would, inside the kernel), no exit. */
  private readonly doorbells: Doorbell[] = [];
  /** The doorbell the CPU's pending MMIO write rings, if any, and the SMCCC function of its HVC (leavesTheGuest finds them). */
  private bell: Doorbell | undefined;
  private hvcFunction = 0;
  /** MMIO ranges whose writes make no exit (KVM's coalesced ring): the CPU keeps them in its own ring. */
  private readonly coalesced: DeviceRange[] = [];
  private readonly access: MmioAccess = { address: 0, addressLo: 0, addressHi: 0, size: 0, isWrite: false, dataLo: 0, dataHi: 0, pc: 0 };
  /**
   * The CPU's exit while coalesced writes before it are still being delivered: a stop while doing so
   * ends the run, and the next one delivers the rest, then handles the exit (as KVM's loop does).
   */
  private heldExit: CpuExit | undefined;
  /** Set when an access went to a JavaScript device, which may take any time. */
  private calledDevice = false;
  private ring: EventRingWriter | undefined;
  private readonly output = new ConsoleBuffer();
  /** The run's console fd writer, while a run with RunOptions.consoleFd is in progress. */
  private stream: ConsoleStream | undefined;
  /** A view of RAM was handed out: code written through it is looked for at each run's start. */
  private viewsOut = false;
  private closed = false;
  private saved: { ram: Uint8Array; state: Uint8Array } | undefined;
  /** The interrupt line: a word of this VM's own, or one shared with the thread that raises it. */
  private irq: { words: Int32Array; index: number } = { words: new Int32Array(new SharedArrayBuffer(4)), index: 0 };

  constructor(boot: BootState) {
    const [region, ...rest] = boot.layout.regions;
    if (region === undefined || rest.length > 0) throw new ConfigError('ERR_INVALID_OPTION', 'the WebAssembly backend maps one RAM region');
    const idle = idleCpuFor(region.size, boot.jit);
    idle?.reset(region.guestAddr, region.size, boot.entry);
    idle?.configureJit(boot.jit);
    this.cpu = idle ?? new A64Cpu({ ramBase: region.guestAddr, ramSize: region.size, pc: boot.entry, jit: boot.jit });
    this.cpu.setReg('sp', BigInt(boot.layout.guestTop));
    for (const [name, value] of boot.arm64?.registers ?? []) this.cpu.setReg(name, value);
  }

  jitStats(): JitStats | undefined {
    const stats = this.cpu.jitStats;
    return stats.mode === 'off' ? undefined : stats;
  }

  memory(index: number): Uint8Array {
    if (index !== 0) throw new RangeError(`no RAM region ${index}`);
    this.viewsOut = true;
    return this.cpu.ram;
  }

  getRegister(name: string): bigint | undefined {
    return A64_REGISTER_NAMES.includes(name) ? this.cpu.getReg(name) : undefined;
  }

  setRegister(name: string, value: bigint): boolean {
    if (!A64_REGISTER_NAMES.includes(name)) return false;
    this.cpu.setReg(name, value); // a value it cannot take is a RangeError, which Vm makes a ConfigError
    return true;
  }

  registerBits(name: string): number {
    return a64RegisterBits(name);
  }

  registerNames(): readonly string[] {
    return A64_REGISTER_NAMES;
  }

  addNativeDevice(range: DeviceRange, spec: NativeDeviceSpec): void {
    if (range.kind !== 'mmio') return;
    const device = { start: range.base, end: range.base + range.size, spec };
    this.nativeDevices.push(device);
    const holds = (address: number) => address >= device.start && address < device.end;
    if (spec.type !== 'interrupt' && !holds(CONSOLE_MMIO) && !holds(INTERRUPT_ACK)) this.writeSinks.push({ start: BigInt(device.start), end: BigInt(device.end) });
  }

  addDoorbell(spec: DoorbellSpec): number {
    const fd = loadAddon().eventfd();
    this.doorbells.push({ address: spec.address, size: spec.size, match: spec.match === undefined ? undefined : BigInt(spec.match), fd, rings: 0 });
    return fd;
  }

  addCoalescedRange(range: DeviceRange): void {
    if (range.kind !== 'mmio') return;
    if (!this.cpu.coalesce(range.base, range.size)) throw new ConfigError('ERR_INVALID_OPTION', `the WebAssembly CPU coalesces at most ${this.cpu.maxCoalescedRanges} ranges`);
    this.coalesced.push(range);
  }

  interrupt(): void {
    Atomics.store(this.irq.words, this.irq.index, 1);
  }

  useInterruptLine(words: Int32Array, index: number): void {
    this.irq = { words, index };
  }

  attachEventRing(ring: SharedArrayBuffer): void {
    this.ring = new EventRingWriter(ring);
  }

  // The vCPU loop of the WebAssembly backend.
  run(limits: RunLimits, bus: DeviceBus): BackendRunEnd {
    const cpu = this.cpu;
    const watch = limits.watch;
    let exits = 0;
    this.output.limit = limits.maxOutputBytes;
    const stream = limits.consoleFd >= 0 ? new ConsoleStream(limits.consoleFd, watch) : undefined;
    this.stream = stream;
    if (this.viewsOut) cpu.verifyCode();
    bus.attachDataBuffer(this.data);
    try {
      for (;;) {
        // A clock read costs about half an MMIO exit, so a run without a time limit reads none; with
        // one, every exit does: a device handler may take any time, and the limit must hold.
        const stop = watch.check();
        if (stop !== undefined) return { outcome: stop, exits };
        if (limits.maxExits > 0 && exits >= limits.maxExits) return { outcome: 'max-exits', exits };
        let exit = this.heldExit;
        if (exit === undefined) {
          cpu.irqLine = Atomics.load(this.irq.words, this.irq.index) !== 0;
          exit = cpu.run(SLICE);
          if (this.leavesTheGuest(exit)) exits++; // as KVM counts: when it happens, before the writes ahead of it are delivered
        }
        // Coalesced writes happened before whatever stopped the CPU: delivered first.
        if (cpu.coalescedPending > 0) {
          this.heldExit = exit;
          const end = this.drainCoalesced(limits, bus, exits);
          if (end !== undefined) return { outcome: end, exits };
          this.heldExit = undefined;
        }
        switch (exit) {
          case CpuExit.SliceEnd: {
            this.ring?.publish(); // records of a burst that ended wait no longer than a slice
            this.flushDoorbells(); // and rings no longer than a slice
            const ended = stream?.flush(); // and console bytes too
            if (ended !== undefined) return { outcome: ended, exits };
            break;
          }
          case CpuExit.Mmio: {
            if (this.bell !== undefined) {
              this.bell.rings++; // signalled once per slice (flushDoorbells): a system call per ring would cost more than an exit
              break;
            }
            const access = this.access;
            access.address = cpu.mmioAddr;
            access.addressLo = cpu.mmioAddrLo;
            access.addressHi = cpu.mmioAddrHi;
            access.size = cpu.mmioSize;
            access.isWrite = cpu.mmioIsWrite;
            access.dataLo = cpu.mmioDataLo;
            access.dataHi = cpu.mmioDataHi;
            access.pc = cpu.pcNumber;
            if (!access.isWrite && this.coalesced.length > 0 && this.isCoalesced(access.address)) throw coalescedRead(this.details(), exits);
            const end = this.mmio(limits, bus, exits);
            if (end !== undefined) return { outcome: end, exits };
            break;
          }
          case CpuExit.Hvc: {
            const fn = this.hvcFunction;
            if (fn === PSCI_SYSTEM_OFF || fn === PSCI_SYSTEM_RESET) {
              this.smcccReturn(PSCI_INTERNAL_FAILURE);
              return { outcome: fn === PSCI_SYSTEM_OFF ? 'system-off' : 'system-reset', exits };
            }
            this.smcccReturn(fn === PSCI_VERSION ? PSCI_0_2 : SMCCC_NOT_SUPPORTED); // answered in-kernel on KVM: no exit
            break;
          }
          case CpuExit.Wfi: {
            // Sleep until an interrupt (the next slice takes it), a stop or the time limit, as a
            // vCPU blocked in KVM_RUN would.
            this.ring?.publish();
            this.flushDoorbells();
            const outcome = stream?.flush() ?? watch.sleep(this.irq);
            if (outcome !== undefined) return { outcome, exits };
            break;
          }
          case CpuExit.FetchAbort: {
            // A fetch outside RAM repeats forever on KVM: sleep until a stop or the time limit.
            this.ring?.publish();
            this.flushDoorbells();
            return { outcome: stream?.flush() ?? watch.sleep()!, exits };
          }
          case CpuExit.MmuRegime:
            throw withExits(new GuestError('ERR_GUEST_MMU_UNSUPPORTED', `the guest changes the translation regime (MSR 0x${cpu.faultInsn.toString(16).padStart(8, '0')} at 0x${cpu.faultPc.toString(16)}): the WebAssembly CPU models only the identity map it starts with (arm64Start), MMU on or off`), exits);
          case CpuExit.MmioNoSyndrome:
            throw withExits(mmioNoSyndrome(), exits);
          default:
            throw withExits(new GuestError('ERR_GUEST_UNSUPPORTED_INSN', `the WebAssembly CPU does not implement instruction 0x${cpu.faultInsn.toString(16).padStart(8, '0')} at 0x${cpu.faultPc.toString(16)}`), exits);
        }
      }
    } finally {
      stream?.flush(); // what the guest printed last; a reader that does not drain is left within the watch's limits
      this.stream = undefined;
      this.flushDoorbells();
      this.ring?.publish();
      this.ring?.notify();
    }
  }

  snapshot(): void {
    this.saved = { ram: this.cpu.ram.slice(), state: this.cpu.saveState() };
  }

  // The CPU does not track which pages the guest wrote: RAM is copied whole (64 KiB: ~3 µs).
  restore(): number {
    const saved = this.saved!;
    this.heldExit = undefined; // with the writes before it, it belongs to the run the restore discards
    this.cpu.restoreState(saved.state, saved.ram);
    this.output.take();
    return Math.ceil(saved.ram.length / 4096);
  }

  takeOutput(): ConsoleOutput {
    return this.output.take();
  }

  /** The run looks at its RunWatch, which Vm.stop() sets: nothing more to do here. */
  stop(): boolean {
    return !this.closed;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const d of this.doorbells) loadAddon().closeFd(d.fd);
    keepIdle(this.cpu);
  }

  /** The access being handled, for errors (it allocates: its address exact past 2^53). */
  private details(): AccessDetails {
    const { address, addressLo, addressHi, size, isWrite } = this.access;
    return { kind: 'mmio', address, exactAddress: (BigInt(addressHi) << 32n) | BigInt(addressLo), size, direction: isWrite ? 'write' : 'read' };
  }

  /**
   * Delivers the coalesced writes the CPU appended to its ring, oldest first, each as an exit's write
   * would be but with pc 0. Each waits for room in the event ring before it is taken, so a stop or
   * the time limit there, after a write a JavaScript device took, or a write that ends the run (the
   * stop byte) leaves the rest in the CPU's ring for the next run: the outcome is returned.
   */
  private drainCoalesced(limits: RunLimits, bus: DeviceBus, exits: number): BackendRunEnd['outcome'] | undefined {
    const cpu = this.cpu;
    const access = this.access;
    for (;;) {
      if (this.ring === undefined && this.writeSinks.length > 0) cpu.skipCoalescedIn(this.writeSinks); // nothing would observe them
      if (this.ring !== undefined && cpu.coalescedPending > 0) {
        const why = this.waitForRecordSpace(limits);
        if (why !== undefined) return why;
      }
      if (!cpu.takeCoalesced(access)) return undefined;
      access.address = access.addressHi === 0 ? access.addressLo : access.addressLo + access.addressHi * TWO32;
      access.isWrite = true;
      access.pc = 0;
      this.calledDevice = false;
      const end = this.mmio(limits, bus, exits) ?? (this.calledDevice ? limits.watch.check() : undefined); // a device's stop, or the time limit, holds between writes
      if (end !== undefined) return end;
    }
  }

  /** One MMIO access (this.access): the console, a native-like device, a JS device, or the unhandled policy. */
  private mmio(limits: RunLimits, bus: DeviceBus, exits: number): BackendRunEnd['outcome'] | undefined {
    const cpu = this.cpu;
    const { address, size, isWrite } = this.access;
    if (isWrite) {
      this.dataView.setUint32(0, this.access.dataLo, true);
      this.dataView.setUint32(4, this.access.dataHi, true);
    } else {
      this.data.fill(0);
    }
    let claimed = true;
    if (isConsoleWrite('mmio', address, size, isWrite)) {
      this.output.push(this.data[0]!);
    } else if (isWrite && address === INTERRUPT_ACK) {
      Atomics.store(this.irq.words, this.irq.index, 0);
      cpu.irqLine = false;
    } else if (!this.native(address, size, isWrite)) {
      const handled = this.deviceAccess(bus, address, size, isWrite, exits);
      if (typeof handled === 'string') return handled;
      if (!handled) {
        if (limits.unhandled === 'error') throw unhandledAccess(this.details(), exits);
        claimed = false;
      }
    }
    if (!isWrite) cpu.completeMmioRead(this.dataView.getUint32(0, true), this.dataView.getUint32(4, true));
    if (this.ring !== undefined) {
      const interrupted = this.record(limits);
      if (interrupted !== undefined) return interrupted;
    }
    if (claimed && isConsoleWrite('mmio', address, size, isWrite)) {
      const ended = this.stream?.push(this.data[0]!);
      if (ended !== undefined) return ended;
      if (this.data[0] === limits.stopOnByte) return 'stopped';
    }
    return undefined;
  }

  /** A JavaScript device's access: claimed or not, or the outcome when a wait inside it ended the run. */
  private deviceAccess(bus: DeviceBus, address: number, size: number, isWrite: boolean, exits: number): boolean | RunInterrupted['outcome'] {
    this.calledDevice = true;
    try {
      return bus.access('mmio', address, size, isWrite);
    } catch (error) {
      if (error instanceof RunInterrupted) return error.outcome;
      throw error instanceof GuestError ? withExits(error, exits) : error;
    }
  }

  private native(address: number, size: number, isWrite: boolean): boolean {
    const devices = this.nativeDevices;
    for (let i = 0; i < devices.length; i++) {
      const { start, end, spec } = devices[i]!;
      if (address < start || address >= end) continue;
      if (isWrite && spec.type === 'interrupt') this.interrupt();
      if (!isWrite) {
        const value = spec.type === 'counter' ? process.hrtime.bigint() : spec.type === 'pm-timer' ? pmTimer(process.hrtime.bigint()) : spec.type === 'interrupt' ? 0n : BigInt(spec.value);
        this.dataView.setBigUint64(0, BigInt.asUintN(64, value), true);
        this.data.fill(0, size);
      }
      return true;
    }
    return false;
  }

  /**
   * Records the access (a coalesced write with pc 0, as KVM's coalesced ring has none) once the event
   * ring has room: the outcome if a stop or the time limit ended the wait.
   */
  private record(limits: RunLimits): RunInterrupted['outcome'] | undefined {
    const why = this.waitForRecordSpace(limits);
    if (why !== undefined) return why;
    const { address, addressLo, addressHi, size, isWrite, pc } = this.access;
    const kind = isWrite ? eventKindCode.mmio.write : eventKindCode.mmio.read;
    this.ring!.write(kind, address, addressLo, addressHi, size, this.dataView.getUint32(0, true), this.dataView.getUint32(4, true), pc);
    return undefined;
  }

  /**
   * A full event ring makes this vCPU wait for the consumer (backpressure), as long as the run may go
   * on: a stop or the time limit ends the wait (the outcome returned).
   */
  private waitForRecordSpace(limits: RunLimits): RunInterrupted['outcome'] | undefined {
    const ring = this.ring!;
    while (!ring.hasSpace()) {
      ring.waitForSpace(5);
      const why = limits.watch.check();
      if (why !== undefined) return why;
    }
    return undefined;
  }

  /**
   * Whether the CPU stopped where KVM's vCPU would leave KVM_RUN: an MMIO access no doorbell takes (a
   * write to a coalesced range too: the CPU's ring was full, or the write not wholly inside the
   * range), PSCI SYSTEM_OFF or SYSTEM_RESET.
   */
  private leavesTheGuest(exit: CpuExit): boolean {
    if (exit === CpuExit.Mmio) {
      this.bell = this.doorbells.length > 0 ? this.doorbell() : undefined;
      return this.bell === undefined;
    }
    if (exit !== CpuExit.Hvc) return false;
    this.hvcFunction = Number(this.cpu.getReg('x0') & 0xffffffffn);
    return this.hvcFunction === PSCI_SYSTEM_OFF || this.hvcFunction === PSCI_SYSTEM_RESET;
  }

  /** The doorbell the pending MMIO write matches, if any (it then completes with no exit). */
  private doorbell(): Doorbell | undefined {
    const cpu = this.cpu;
    if (!cpu.mmioIsWrite) return undefined;
    for (const d of this.doorbells) {
      if (cpu.mmioAddr !== d.address || cpu.mmioSize !== d.size) continue;
      if (d.match !== undefined && BigInt.asUintN(8 * d.size, cpu.mmioData) !== d.match) continue;
      return d;
    }
    return undefined;
  }

  /** Hands the rings counted since the last call to the doorbells' eventfds: the watchers see them coalesced. */
  private flushDoorbells(): void {
    for (const d of this.doorbells) {
      if (d.rings === 0) continue;
      loadAddon().ringEventfd(d.fd, d.rings);
      d.rings = 0;
    }
  }

  private isCoalesced(address: number): boolean {
    for (const r of this.coalesced) if (address >= r.base && address < r.base + r.size) return true;
    return false;
  }

  private smcccReturn(x0: bigint): void {
    this.cpu.setReg('x0', x0);
    for (const r of ['x1', 'x2', 'x3']) this.cpu.setReg(r, 0n);
  }
}

function withExits(error: GuestError, exits: number): GuestError {
  error.exits = exits;
  return error;
}
