/**
 * The per-VM event ring (native/event_ring.h): a SharedArrayBuffer the vCPU loop writes one 64-byte
 * record into for every MMIO/PIO access, drained on the consumer's thread. Lossless and ordered: a
 * full ring makes the vCPU wait (backpressure), it never drops or overwrites. This file holds the
 * layout and the producer's waiting and closing (both threads close a ring: the main thread on a dead
 * producer's behalf); the reader is src/host/event-ring-reader.ts, the JavaScript writer
 * src/workers/event-ring-writer.ts.
 */
import { RECORD_BYTES } from './event-batch';
import { ConfigError } from './errors';

/**
 * Int32 header words; mirrors RingHeader in native/event_ring.h. What each side writes sits on its
 * own cache line, 128 bytes apart, so one side's stores do not steal the line the other writes.
 */
export enum RingWord {
  /** Records published by the producer (wraps at 2^32). */
  Write = 0,
  Capacity = 2,
  /** Set by the producer side when the VM will write no more (the run ended). */
  Closed = 3,
  /** Records the consumer has given back (wraps at 2^32). */
  Read = 32,
}
export const HEADER_BYTES = 256;
/** The producer's tallies (native/event_ring.h kRingStatsOffset): doubles, events by kind code − 1, then the waits for space. */
export const STATS_OFFSET = 16;
export enum RingStat {
  Stalls = 4,
  StalledNs = 5,
  Count = 6,
}

/** A VM's event stream since the VM was created, read from the ring's shared tallies (a snapshot while it runs). */
export interface EventSummary {
  /** Events the vCPU recorded: all, by kind and direction, and those the consumer has yet to give back. */
  recorded: number;
  byKind: { 'mmio-read': number; 'mmio-write': number; 'pio-read': number; 'pio-write': number };
  pending: number;
  consumed: number;
  /** Backpressure: times the vCPU found the ring full and waited for the consumer, and the time it waited in all. */
  stalls: number;
  stalledMs: number;
}

export function createRing(capacity = 4096): SharedArrayBuffer {
  if (!Number.isInteger(capacity) || capacity < 2 || (capacity & (capacity - 1)) !== 0 || capacity > 2 ** 24) {
    throw new ConfigError('ERR_INVALID_OPTION', `ringCapacity must be a power of two from 2 to 2^24 records, not ${capacity}`);
  }
  const sab = new SharedArrayBuffer(HEADER_BYTES + capacity * RECORD_BYTES);
  new Int32Array(sab, 0, HEADER_BYTES / 4)[RingWord.Capacity] = capacity;
  return sab;
}

/** Typed views over one ring, for either side. */
export class RingViews {
  protected readonly header: Int32Array;
  protected readonly f64: Float64Array;
  protected readonly u32: Uint32Array;
  protected readonly capacity: number;
  protected readonly stats: Float64Array;
  constructor(ring: SharedArrayBuffer) {
    this.header = new Int32Array(ring, 0, HEADER_BYTES / 4);
    this.stats = new Float64Array(ring, STATS_OFFSET, RingStat.Count);
    this.capacity = this.header[RingWord.Capacity]!;
    this.f64 = new Float64Array(ring, HEADER_BYTES);
    this.u32 = new Uint32Array(ring, HEADER_BYTES);
  }
}

/**
 * The producer side's waiting and waking, for a ring whose records native code writes (the KVM
 * backend's vCPU loop); EventRingWriter adds writing records from JavaScript.
 */
export class EventRingProducer extends RingViews {
  /** The write index at the last wait: the waits of one full ring (each at most `timeoutMs`) count as one stall. */
  private stalledAt = -1;

  /** Blocks the vCPU thread until the consumer frees a slot (backpressure), or `timeoutMs` passes. */
  waitForSpace(timeoutMs: number): void {
    const read = Atomics.load(this.header, RingWord.Read);
    const write = Atomics.load(this.header, RingWord.Write);
    if (((write - read) >>> 0) < this.capacity) return;
    if (write !== this.stalledAt) {
      this.stalledAt = write;
      this.stats[RingStat.Stalls]!++;
    }
    const started = performance.now();
    Atomics.wait(this.header, RingWord.Read, read, timeoutMs);
    this.stats[RingStat.StalledNs]! += (performance.now() - started) * 1e6;
  }
  /** Wakes a consumer waiting for records. */
  notify(): void {
    Atomics.notify(this.header, RingWord.Write);
  }
  close(): void {
    Atomics.store(this.header, RingWord.Closed, 1);
    Atomics.notify(this.header, RingWord.Write);
  }
}
