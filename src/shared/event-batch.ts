/**
 * Events as the consumer sees them: one guest access (`VmEvent`, an object per event), or a batch read
 * in place from the ring (`EventBatchView`, typed accessors by index: no object and no bigint per
 * event). Record layout: native/event_ring.h (64 bytes: seq, timeNs, address, pc as float64; kind,
 * size, data low and high words, address low and high words as uint32).
 */
import { ConfigError, VmStateError } from './errors';

export type EventKind = 'mmio' | 'pio';
export type EventDirection = 'read' | 'write';

/** One guest access, as the vCPU loop saw it. */
export interface VmEvent {
  /** 0-based, contiguous per VM: a gap would mean a lost event (there are none). */
  seq: number;
  /** CLOCK_MONOTONIC, ns. */
  timeNs: number;
  kind: EventKind;
  direction: EventDirection;
  /** The guest address or port (a double: inexact from 2^53; `exactAddress` always is). */
  address: number;
  exactAddress: bigint;
  size: number;
  /** The bytes stored, or for reads the value the device returned, little-endian. */
  data: bigint;
  /** Program counter of the accessing instruction. */
  pc: number;
}

/** Record words, in float64 and uint32 units of a 64-byte record. */
export const RECORD_BYTES = 64;
const F64_PER_RECORD = RECORD_BYTES / 8;
const U32_PER_RECORD = RECORD_BYTES / 4;
const enum F64Word {
  Seq = 0,
  TimeNs = 1,
  Address = 2,
  Pc = 3,
}
const enum U32Word {
  Kind = 8,
  Size = 9,
  DataLo = 10,
  DataHi = 11,
  AddressLo = 12,
  AddressHi = 13,
}

/** Event kind codes in records; mirror EventKind in native/event_ring.h. */
export const eventKindCode = { mmio: { read: 1, write: 2 }, pio: { read: 3, write: 4 } } as const;
const kindOfCode: readonly EventKind[] = ['mmio', 'mmio', 'mmio', 'pio', 'pio'];
const directionOfCode: readonly EventDirection[] = ['read', 'read', 'write', 'read', 'write'];

/**
 * A batch of events read in place from the ring, for consumers that must keep up with millions of
 * events per second: `length` events, each read by index (0 ≤ i < length) through typed accessors
 * that allocate nothing (`data(i)`, `event(i)` and `toArray()` do allocate, for convenience).
 *
 * Lifetime: the view reads the ring's own records, so it is valid only until the next batch is
 * requested (the next iteration of the loop over `eventViews()`), or the loop ends: then its slots
 * go back to the vCPU, which overwrites them. Copy what must outlive that; a released view throws
 * `ERR_EVENTS_RELEASED` instead of returning newer events.
 */
export class EventBatchView {
  private count: number;

  /** @internal Made by EventRingReader over `count` records from the `first`-th (mod the ring's size). */
  constructor(
    private readonly f64: Float64Array,
    private readonly u32: Uint32Array,
    private readonly first: number,
    private readonly mask: number,
    count: number,
  ) {
    this.count = count;
  }

  /** Events in the batch (0 once released). */
  get length(): number {
    return this.count;
  }

  /** 0-based, contiguous per VM: `seq(i + 1) === seq(i) + 1`, and batches follow each other. */
  seq(i: number): number {
    return this.f64[this.slot(i) * F64_PER_RECORD + F64Word.Seq]!;
  }
  /** CLOCK_MONOTONIC, ns. */
  timeNs(i: number): number {
    return this.f64[this.slot(i) * F64_PER_RECORD + F64Word.TimeNs]!;
  }
  /** The address as a double: exact below 2^53 (`addressLo`/`addressHi` always are). */
  address(i: number): number {
    return this.f64[this.slot(i) * F64_PER_RECORD + F64Word.Address]!;
  }
  /** Low and high 32 bits of the address, unsigned (no allocation). */
  addressLo(i: number): number {
    return this.u32[this.slot(i) * U32_PER_RECORD + U32Word.AddressLo]!;
  }
  addressHi(i: number): number {
    return this.u32[this.slot(i) * U32_PER_RECORD + U32Word.AddressHi]!;
  }
  /** The exact address as a bigint (allocates). */
  exactAddress(i: number): bigint {
    return (BigInt(this.addressHi(i)) << 32n) | BigInt(this.addressLo(i));
  }
  /** Program counter of the accessing instruction. */
  pc(i: number): number {
    return this.f64[this.slot(i) * F64_PER_RECORD + F64Word.Pc]!;
  }
  kind(i: number): EventKind {
    return kindOfCode[this.u32[this.slot(i) * U32_PER_RECORD + U32Word.Kind]!]!;
  }
  direction(i: number): EventDirection {
    return directionOfCode[this.u32[this.slot(i) * U32_PER_RECORD + U32Word.Kind]!]!;
  }
  /** Access size in bytes. */
  size(i: number): number {
    return this.u32[this.slot(i) * U32_PER_RECORD + U32Word.Size]!;
  }
  /** Low 32 bits of the data (the bytes stored, or for reads what the device returned), unsigned. */
  dataLo(i: number): number {
    return this.u32[this.slot(i) * U32_PER_RECORD + U32Word.DataLo]!;
  }
  /** High 32 bits of the data (non-zero only for 8-byte accesses), unsigned. */
  dataHi(i: number): number {
    return this.u32[this.slot(i) * U32_PER_RECORD + U32Word.DataHi]!;
  }
  /** The data as one bigint (allocates: `dataLo`/`dataHi` do not). */
  data(i: number): bigint {
    return (BigInt(this.dataHi(i)) << 32n) | BigInt(this.dataLo(i));
  }

  /** Event `i` as an object (allocates). */
  event(i: number): VmEvent {
    return { seq: this.seq(i), timeNs: this.timeNs(i), kind: this.kind(i), direction: this.direction(i), address: this.address(i), exactAddress: this.exactAddress(i), size: this.size(i), data: this.data(i), pc: this.pc(i) };
  }
  /** Every event as an object (allocates): a copy that outlives the view. */
  toArray(): VmEvent[] {
    const events: VmEvent[] = new Array(this.count);
    for (let i = 0; i < this.count; i++) events[i] = this.event(i);
    return events;
  }

  /** @internal Its slots are the producer's again. */
  release(): void {
    this.count = 0;
  }

  /** The ring slot of event `i`; one comparison guards against both a bad index and a released view. */
  private slot(i: number): number {
    if (!(i >= 0 && i < this.count)) throw this.badIndex(i);
    return (this.first + i) & this.mask;
  }

  private badIndex(i: number): Error {
    if (this.count === 0) return new VmStateError('ERR_EVENTS_RELEASED', 'this event batch was released when the next batch was requested; copy what must outlive it (event(i), toArray())');
    return new ConfigError('ERR_EVENT_INDEX', `event index ${i} is not in this batch (0..${this.count - 1})`);
  }
}
