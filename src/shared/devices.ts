/**
 * Devices written in JavaScript. Like Firecracker's, every device sits behind one small interface:
 * `read(offset, data)` fills `data` with the bytes the guest loads, `write(offset, data)` receives the
 * bytes it stores (little-endian, `data.length` = access size). `offset` is relative to the device's
 * base. `data` is a view reused across exits (no allocation per exit): copy it if you keep it.
 */
import { ConfigError, GuestError } from './errors';
import { checkObject, describe, describeAddress } from './options';
import { CONSOLE_MMIO, CONSOLE_PORT, INTERRUPT_ACK } from './platform';

/**
 * Thrown by a wait inside a device access (a main-thread device's mailbox) when the run must end:
 * not the handler failing, so it passes the bus unwrapped and the backend ends the run with `outcome`.
 */
export class RunInterrupted extends Error {
  constructor(readonly outcome: 'stopped' | 'timeout') {
    super(`the run was interrupted: ${outcome}`);
  }
}

/** `range` is a DeviceRange: an object with kind 'mmio' or 'pio' (base and size are checked by the bus). */
export function checkRange(range: DeviceRange): void {
  checkObject('a device range', range);
  if (range.kind !== 'mmio' && range.kind !== 'pio') throw new ConfigError('ERR_INVALID_OPTION', `a device range's kind is 'mmio' or 'pio', not ${describe(range.kind)}`);
}

export interface Device {
  /** A guest load: fill `data`. A device without `read` reads as zeros. */
  read?(offset: number, data: Uint8Array): void;
  /** A guest store of `data`. A device without `write` ignores stores. */
  write?(offset: number, data: Uint8Array): void;
}

export type AccessKind = 'mmio' | 'pio';

/**
 * A doorbell: a guest write of `size` bytes to `address` (matching `match` when given) rings it with
 * no exit (KVM_IOEVENTFD); other writes there are accesses no device claims.
 */
export interface DoorbellSpec {
  kind: AccessKind;
  address: number;
  size: 1 | 2 | 4 | 8;
  match?: number | bigint;
}

/**
 * Called off the vCPU's thread with how many times the doorbell rang since the last call (rings
 * coalesce while the handler's thread is busy).
 */
export type DoorbellHandler = (rings: number) => void;

/** The checks every doorbell spec gets, wherever it is added. */
export function checkDoorbell(spec: DoorbellSpec): void {
  if (![1, 2, 4, 8].includes(spec.size)) throw new ConfigError('ERR_INVALID_OPTION', `a doorbell is 1, 2, 4 or 8 bytes wide, not ${spec.size}`);
  if (spec.match !== undefined) {
    const match = BigInt(spec.match);
    if (match < 0n || match >= 1n << BigInt(8 * spec.size)) throw new ConfigError('ERR_INVALID_OPTION', `doorbell match ${match} does not fit in ${spec.size} bytes`);
  }
}

/** How a device is mapped. */
export interface DeviceOptions {
  /**
   * Write-only and exit-free: the guest's writes are queued (KVM's coalesced MMIO/PIO ring) and reach
   * the device, in order, at the next exit, at the run's end, or within 10 ms while the guest makes no
   * exit. The device may not have `read`; a guest read of the range ends the run (ERR_COALESCED_READ).
   * KVM without the capability: KvmError ERR_KVM_CAPABILITY naming it.
   */
  coalesced?: boolean;
}

export interface DeviceRange {
  kind: AccessKind;
  base: number;
  size: number;
}

interface Mapped extends DeviceRange {
  device: Device;
  /** Answered by the backend's own loop (a native device): reserved here, never dispatched. */
  native: boolean;
}

/** Native codes for access kinds (native/vcpu_loop.h AccessKind). */
export const accessKindCode: Record<AccessKind, number> = { mmio: 1, pio: 2 };

/** The guest-visible address map of JavaScript devices. */
export class DeviceBus {
  private readonly devices: Mapped[] = [];

  /** `ram`: guest RAM, which no MMIO device may overlap (an access there would never exit). */
  constructor(private readonly ram: readonly { guestAddr: number; size: number }[] = []) {}

  /** Views of each access size over the backend's data buffer, made once. */
  private views: Uint8Array[] = [];
  private data: Uint8Array = new Uint8Array(0);

  /** Adds a device. Ranges may not overlap each other, the console, nor (MMIO) guest RAM. */
  add(range: DeviceRange, device: Device, native = false): void {
    const { kind, base, size } = range;
    const limit = kind === 'pio' ? 0x10000 : 2 ** 53;
    if (!Number.isSafeInteger(base) || !Number.isSafeInteger(size) || base < 0 || size <= 0 || base + size > limit) {
      throw new ConfigError('ERR_ADDRESS_OUT_OF_RANGE', `${kind} device range ${describeAddress(base)}+${describe(size)} is not a valid ${kind === 'pio' ? 'port' : 'address'} range`);
    }
    const console = kind === 'mmio' ? CONSOLE_MMIO : CONSOLE_PORT;
    if (console >= base && console < base + size) throw new ConfigError('ERR_DEVICE_OVERLAP', `${kind} device at 0x${base.toString(16)} covers the console (0x${console.toString(16)})`);
    if (kind === 'mmio' && INTERRUPT_ACK >= base && INTERRUPT_ACK < base + size) throw new ConfigError('ERR_DEVICE_OVERLAP', `mmio device at 0x${base.toString(16)} covers the interrupt acknowledge (0x${INTERRUPT_ACK.toString(16)})`);
    for (const d of this.devices) {
      if (d.kind === kind && base < d.base + d.size && d.base < base + size) {
        throw new ConfigError('ERR_DEVICE_OVERLAP', `${kind} device at 0x${base.toString(16)}+${size} overlaps the one at 0x${d.base.toString(16)}+${d.size}`);
      }
    }
    for (const r of kind === 'mmio' ? this.ram : []) {
      if (base < r.guestAddr + r.size && r.guestAddr < base + size) {
        throw new ConfigError('ERR_DEVICE_OVERLAP', `MMIO device at 0x${base.toString(16)} lies inside guest RAM at 0x${r.guestAddr.toString(16)}`);
      }
    }
    this.devices.push({ kind, base, size, device, native });
  }

  /** Takes back the device mapped at exactly `range` (its mapping failed further down). */
  remove(range: DeviceRange): void {
    const i = this.devices.findIndex((d) => d.kind === range.kind && d.base === range.base && d.size === range.size);
    if (i >= 0) this.devices.splice(i, 1);
  }

  /** No device mapped, native or JavaScript. */
  get empty(): boolean {
    return this.devices.length === 0;
  }

  /** [kind, start, end, ...] for the native loop, which returns to JS only for these ranges. */
  flatRanges(): Float64Array {
    return Float64Array.from(this.devices.filter((d) => !d.native).flatMap((d) => [accessKindCode[d.kind], d.base, d.base + d.size]));
  }

  /** The backend's exit data buffer: accesses are handed to devices as views over it. */
  attachDataBuffer(data: Uint8Array): void {
    if (data === this.data) return;
    this.data = data;
    this.views = [];
    for (const size of [1, 2, 4, 8]) this.views[size] = data.subarray(0, size);
  }

  /**
   * Performs an access on the device that claims it; false when none does. A handler that throws
   * ends the run: GuestError ERR_HANDLER_THREW, with what it threw as `cause`.
   */
  access(kind: AccessKind, address: number, size: number, isWrite: boolean, count = 1): boolean {
    const d = this.find(kind, address);
    if (d === undefined) return false;
    const offset = address - d.base;
    try {
      for (let i = 0; i < count; i++) {
        const data = count === 1 ? (this.views[size] ?? this.data.subarray(0, size)) : this.data.subarray(i * size, (i + 1) * size);
        if (isWrite) d.device.write?.(offset, data);
        else if (d.device.read !== undefined) d.device.read(offset, data);
        else data.fill(0);
      }
    } catch (cause) {
      if (cause instanceof RunInterrupted) throw cause;
      const direction = isWrite ? 'write' : 'read';
      const error = new GuestError('ERR_HANDLER_THREW', `the ${kind} device handler for a ${size}-byte ${direction} at 0x${address.toString(16)} threw: ${String(cause)}`, { cause });
      error.access = { kind, address, exactAddress: BigInt(address), size, direction };
      throw error;
    }
    return true;
  }

  private find(kind: AccessKind, address: number): Mapped | undefined {
    for (const d of this.devices) if (!d.native && d.kind === kind && address >= d.base && address < d.base + d.size) return d;
    return undefined;
  }
}
