/**
 * The per-VM event ring (native/event_ring.h): a SharedArrayBuffer the vCPU loop writes one 64-byte
 * record into for every MMIO/PIO access, drained here on the consumer's thread. Lossless and ordered:
 * a full ring makes the vCPU wait (backpressure), it never drops or overwrites.
 */
import { EventBatchView, eventKindCode, RECORD_BYTES, type VmEvent } from './event-batch';
import { ConfigError } from './errors';

/**
 * Int32 header words; mirrors RingHeader in native/event_ring.h. What each side writes sits on its
 * own cache line, 128 bytes apart, so one side's stores do not steal the line the other writes.
 */
export const enum RingWord {
  /** Records published by the producer (wraps at 2^32). */
  Write = 0,
  Capacity = 2,
  /** Set by the producer side when the VM will write no more (the run ended). */
  Closed = 3,
  /** Records the consumer has given back (wraps at 2^32). */
  Read = 32,
}
const HEADER_BYTES = 256;
/** The producer's tallies (native/event_ring.h kRingStatsOffset): doubles, events by kind code − 1, then the waits for space. */
const STATS_OFFSET = 16;
const enum RingStat {
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

/**
 * How long a consumer sleeps at most before looking for records again. The producer wakes it when
 * half the ring waits, so this bounds only how late a trickle of records arrives. Every wake of the
 * consumer's thread costs the vCPU thread too (measured: ~2.5% of its exits at 1,000 wakes/s, on
 * this project's nested-KVM host), so the consumer wakes for a large batch, or late.
 */
const POLL_MS = 10;

/** Typed views over one ring, for either side. */
class RingViews {
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

/** The consumer side of a ring. */
export class EventRingReader extends RingViews {
  /** Records taken (handed out in a view, given back or not): the consumer's copy of Read plus the view's. */
  private taken: number;
  private held: EventBatchView | undefined;

  constructor(ring: SharedArrayBuffer) {
    super(ring);
    this.taken = Atomics.load(this.header, RingWord.Read);
  }

  /** Records published and not yet taken. */
  pending(): number {
    return (Atomics.load(this.header, RingWord.Write) - this.taken) >>> 0;
  }

  get closed(): boolean {
    return Atomics.load(this.header, RingWord.Closed) === 1;
  }

  summary(): EventSummary {
    const count = (code: number) => this.stats[code - 1]!;
    const { mmio, pio } = eventKindCode;
    const byKind = { 'mmio-read': count(mmio.read), 'mmio-write': count(mmio.write), 'pio-read': count(pio.read), 'pio-write': count(pio.write) };
    const recorded = byKind['mmio-read'] + byKind['mmio-write'] + byKind['pio-read'] + byKind['pio-write'];
    const pending = (Atomics.load(this.header, RingWord.Write) - Atomics.load(this.header, RingWord.Read)) >>> 0;
    return { recorded, byKind, pending, consumed: recorded - pending, stalls: this.stats[RingStat.Stalls]!, stalledMs: this.stats[RingStat.StalledNs]! / 1e6 };
  }

  /** Takes every pending record (at most `max`) as objects, frees their slots and wakes a waiting producer. */
  drain(max = Infinity): VmEvent[] {
    const events = this.take(max).toArray();
    this.release();
    return events;
  }

  /**
   * Batches of objects until the producer closes the ring. Each batch's slots are freed before it is
   * handed out, so the producer refills the ring while the consumer works through it.
   */
  async *batches(pollMs = POLL_MS): AsyncGenerator<VmEvent[]> {
    for (let view = await this.next(Infinity, pollMs); view !== undefined; view = await this.next(Infinity, pollMs)) {
      const events = view.toArray();
      this.release();
      yield events;
    }
  }

  /**
   * Batches read in place (see EventBatchView) until the producer closes the ring: each is released
   * when the next is requested or the loop ends. A batch takes at most half the ring, so the producer
   * fills the other half while the consumer reads this one.
   */
  async *views(pollMs = POLL_MS): AsyncGenerator<EventBatchView> {
    try {
      for (let view = await this.next(this.capacity / 2, pollMs); view !== undefined; view = await this.next(this.capacity / 2, pollMs)) {
        yield view;
        this.release();
      }
    } finally {
      this.release();
    }
  }

  /**
   * The next batch of at most `max` records, or undefined once the ring is closed and empty. Waits with
   * Atomics.waitAsync on the write index until the producer wakes it (half the ring waiting, a full
   * ring, the end of a run) or `pollMs` passes.
   */
  private async next(max: number, pollMs: number): Promise<EventBatchView | undefined> {
    for (;;) {
      const closed = this.closed; // read before looking for records: nothing is written after close
      if (this.pending() > 0) return this.take(max);
      if (closed) return undefined;
      const wait = Atomics.waitAsync(this.header, RingWord.Write, this.taken);
      if (!wait.async) continue;
      // The poll bound is a timer cancelled by an earlier wake: a waitAsync timeout would still fire,
      // and wake this thread, after the producer has woken it.
      const poll = setTimeout(() => Atomics.notify(this.header, RingWord.Write), pollMs);
      await wait.value;
      clearTimeout(poll);
    }
  }

  /** Hands out the pending records (at most `max`) as a view; their slots stay the consumer's until release(). */
  private take(max: number): EventBatchView {
    const count = Math.min(this.pending(), max);
    this.held = new EventBatchView(this.f64, this.u32, this.taken, this.capacity - 1, count);
    this.taken = (this.taken + count) | 0;
    return this.held;
  }

  /** Gives the held view's slots back to the producer and wakes it if it waits for space. */
  private release(): void {
    if (this.held === undefined) return;
    this.held.release();
    this.held = undefined;
    Atomics.store(this.header, RingWord.Read, this.taken);
    Atomics.notify(this.header, RingWord.Read);
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

// CLOCK_MONOTONIC (what native records carry) from performance.now(), which allocates nothing.
const monotonicOffsetNs = Number(process.hrtime.bigint()) - performance.now() * 1e6;
/**
 * Records are published (the write index stored) in groups: at most this many wait unpublished, and
 * none longer than PUBLISH_MS once more records follow (the caller publishes at pauses).
 */
const PUBLISH_EVERY = 64;
const PUBLISH_MS = 0.1;

/**
 * Writes records from JavaScript (the WebAssembly backend's vCPU loop). Per record: one clock read and
 * eight typed-array stores; the shared indices are touched once per group of records (publish) and
 * once per ring's worth of free slots (hasSpace), not per record.
 */
export class EventRingWriter extends EventRingProducer {
  private readonly mask: number;
  /** Records written, published or not: the producer's own copy of the write index. */
  private written: number;
  private published: number;
  /** `written` may reach this without looking at the read index again. */
  private freeUntil: number;
  private publishBy = 0;
  private seq = 0;

  constructor(ring: SharedArrayBuffer) {
    super(ring);
    this.mask = this.capacity - 1;
    this.written = this.published = Atomics.load(this.header, RingWord.Write);
    this.freeUntil = (Atomics.load(this.header, RingWord.Read) + this.capacity) | 0;
  }

  /** Whether write() may be called now. */
  hasSpace(): boolean {
    if (this.written !== this.freeUntil) return true;
    this.freeUntil = (Atomics.load(this.header, RingWord.Read) + this.capacity) | 0;
    return this.written !== this.freeUntil;
  }

  /** Appends one record; the caller checked `hasSpace()` first. */
  write(kind: number, address: number, size: number, dataLo: number, dataHi: number, pc: number): void {
    const slot = this.written & this.mask;
    const f = slot * (RECORD_BYTES / 8);
    const u = slot * (RECORD_BYTES / 4) + 8;
    const now = performance.now();
    this.f64[f] = this.seq++;
    this.f64[f + 1] = monotonicOffsetNs + now * 1e6;
    this.f64[f + 2] = address;
    this.f64[f + 3] = pc;
    this.u32[u] = kind;
    this.u32[u + 1] = size;
    this.u32[u + 2] = dataLo;
    this.u32[u + 3] = dataHi;
    this.stats[kind - 1]!++;
    this.written = (this.written + 1) | 0;
    // A lone record goes out at once (publishBy has passed); a burst goes out in groups.
    if (now >= this.publishBy || ((this.written - this.published) | 0) >= PUBLISH_EVERY) this.publish(now);
  }

  /** Makes every record written so far visible to the consumer. */
  publish(now = performance.now()): void {
    if (this.written === this.published) return;
    Atomics.store(this.header, RingWord.Write, this.written);
    this.published = this.written;
    this.publishBy = now + PUBLISH_MS;
    // The consumer sleeps once it has taken every record: wake it when half the ring waits, as the
    // native writer does.
    if (((this.written - Atomics.load(this.header, RingWord.Read)) >>> 0) >= this.capacity / 2) this.notify();
  }

  override waitForSpace(timeoutMs: number): void {
    this.publish();
    this.notify();
    super.waitForSpace(timeoutMs);
  }

  override close(): void {
    this.publish();
    super.close();
  }
}
