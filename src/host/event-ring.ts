/**
 * The per-VM event ring (native/event_ring.h): a SharedArrayBuffer the vCPU loop writes one 64-byte
 * record into for every MMIO/PIO access, drained here on the consumer's thread. Lossless and ordered:
 * a full ring makes the vCPU wait (backpressure), it never drops or overwrites.
 */

/** Int32 header words; mirrors RingHeader in native/event_ring.h. */
export const enum RingWord {
  Write = 0,
  Read = 1,
  Capacity = 2,
  /** Set by the producer side when the VM will write no more (the run ended). */
  Closed = 3,
}
const HEADER_BYTES = 64;
const RECORD_BYTES = 64;

export type EventKind = 'mmio' | 'pio';

/** One guest access, as the vCPU loop saw it. */
export interface VmEvent {
  /** 0-based, contiguous per VM: a gap would mean a lost event (there are none). */
  seq: number;
  /** CLOCK_MONOTONIC, ns. */
  timeNs: number;
  kind: EventKind;
  direction: 'read' | 'write';
  address: number;
  size: number;
  /** The bytes stored, or for reads the value the device returned, little-endian. */
  data: bigint;
  /** Program counter of the accessing instruction. */
  pc: number;
}

const kinds: [EventKind, 'read' | 'write'][] = [['mmio', 'read'], ['mmio', 'read'], ['mmio', 'write'], ['pio', 'read'], ['pio', 'write']];

export function createRing(capacity = 4096): SharedArrayBuffer {
  if (!Number.isInteger(Math.log2(capacity)) || capacity < 2) throw new RangeError('ring capacity must be a power of two');
  const sab = new SharedArrayBuffer(HEADER_BYTES + capacity * RECORD_BYTES);
  new Int32Array(sab, 0, HEADER_BYTES / 4)[RingWord.Capacity] = capacity;
  return sab;
}

/** The consumer side of a ring. */
export class EventRingReader {
  private readonly header: Int32Array;
  private readonly f64: Float64Array;
  private readonly u32: Uint32Array;
  private readonly capacity: number;

  constructor(ring: SharedArrayBuffer) {
    this.header = new Int32Array(ring, 0, HEADER_BYTES / 4);
    this.capacity = this.header[RingWord.Capacity]!;
    this.f64 = new Float64Array(ring, HEADER_BYTES);
    this.u32 = new Uint32Array(ring, HEADER_BYTES);
  }

  /** Records written and not yet consumed. */
  pending(): number {
    return (Atomics.load(this.header, RingWord.Write) - Atomics.load(this.header, RingWord.Read)) >>> 0;
  }

  get closed(): boolean {
    return Atomics.load(this.header, RingWord.Closed) === 1;
  }

  /** Takes every pending record (at most `max`), frees their slots and wakes a waiting producer. */
  drain(max = Infinity): VmEvent[] {
    const read = Atomics.load(this.header, RingWord.Read);
    const n = Math.min(this.pending(), max);
    const events: VmEvent[] = new Array(n);
    for (let i = 0; i < n; i++) {
      const slot = ((read + i) >>> 0) & (this.capacity - 1);
      const f = slot * (RECORD_BYTES / 8);
      const u = slot * (RECORD_BYTES / 4) + 8;
      const [kind, direction] = kinds[this.u32[u]!]!;
      events[i] = {
        seq: this.f64[f]!,
        timeNs: this.f64[f + 1]!,
        address: this.f64[f + 2]!,
        pc: this.f64[f + 3]!,
        kind,
        direction,
        size: this.u32[u + 1]!,
        data: (BigInt(this.u32[u + 3]!) << 32n) | BigInt(this.u32[u + 2]!),
      };
    }
    if (n > 0) {
      Atomics.store(this.header, RingWord.Read, (read + n) | 0);
      Atomics.notify(this.header, RingWord.Read);
    }
    return events;
  }

  /**
   * Batches until the producer closes the ring. Waits with Atomics.waitAsync on the write index; a
   * native producer cannot wake a V8 waiter, so each wait also ends after `pollMs` to look again.
   */
  async *batches(pollMs = 2): AsyncGenerator<VmEvent[]> {
    for (;;) {
      const closed = this.closed; // read before draining: nothing is written after close
      const batch = this.drain();
      if (batch.length > 0) yield batch;
      else if (closed) return;
      else {
        const seen = Atomics.load(this.header, RingWord.Write);
        if (this.pending() === 0) await Atomics.waitAsync(this.header, RingWord.Write, seen, pollMs).value;
      }
    }
  }
}

// CLOCK_MONOTONIC (what native records carry) from performance.now(), which allocates nothing.
const monotonicOffsetNs = Number(process.hrtime.bigint()) - performance.now() * 1e6;

/** Event kind codes in records; mirror EventKind in native/event_ring.h. */
export const eventKindCode = { mmio: { read: 1, write: 2 }, pio: { read: 3, write: 4 } } as const;

/**
 * The producer side. The KVM backend's records are written by native code; this class waits for
 * space and wakes consumers around it, and writes records itself for the WebAssembly backend.
 */
export class EventRingWriter {
  private readonly header: Int32Array;
  private readonly f64: Float64Array;
  private readonly u32: Uint32Array;
  private readonly capacity: number;
  private seq = 0;
  constructor(ring: SharedArrayBuffer) {
    this.header = new Int32Array(ring, 0, HEADER_BYTES / 4);
    this.capacity = this.header[RingWord.Capacity]!;
    this.f64 = new Float64Array(ring, HEADER_BYTES);
    this.u32 = new Uint32Array(ring, HEADER_BYTES);
  }

  full(): boolean {
    return ((Atomics.load(this.header, RingWord.Write) - Atomics.load(this.header, RingWord.Read)) >>> 0) >= this.capacity;
  }

  /** Appends one record; the caller checked `full()` first. */
  write(kind: number, address: number, size: number, dataLo: number, dataHi: number, pc: number): void {
    const written = Atomics.load(this.header, RingWord.Write);
    const slot = (written >>> 0) & (this.capacity - 1);
    const f = slot * (RECORD_BYTES / 8);
    const u = slot * (RECORD_BYTES / 4) + 8;
    this.f64[f] = this.seq++;
    this.f64[f + 1] = monotonicOffsetNs + performance.now() * 1e6;
    this.f64[f + 2] = address;
    this.f64[f + 3] = pc;
    this.u32[u] = kind;
    this.u32[u + 1] = size;
    this.u32[u + 2] = dataLo;
    this.u32[u + 3] = dataHi;
    Atomics.store(this.header, RingWord.Write, (written + 1) | 0);
  }
  /** Blocks the vCPU thread until the consumer frees a slot (backpressure), or `timeoutMs` passes. */
  waitForSpace(timeoutMs: number): void {
    const read = Atomics.load(this.header, RingWord.Read);
    const capacity = this.header[RingWord.Capacity]!;
    if (((Atomics.load(this.header, RingWord.Write) - read) >>> 0) >= capacity) Atomics.wait(this.header, RingWord.Read, read, timeoutMs);
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
