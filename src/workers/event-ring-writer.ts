/** The JavaScript producer of a VM's event ring (src/shared/event-ring.ts): the WebAssembly backend's vCPU loop. */
import { RECORD_BYTES } from '../shared/event-batch';
import { EventRingProducer, RingWord } from '../shared/event-ring';

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

  /** Appends one record (the address as a double and, exactly, as its 32-bit halves); the caller checked `hasSpace()` first. */
  write(kind: number, address: number, addressLo: number, addressHi: number, size: number, dataLo: number, dataHi: number, pc: number): void {
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
    this.u32[u + 4] = addressLo;
    this.u32[u + 5] = addressHi;
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
