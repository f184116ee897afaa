/** The consumer side of a VM's event ring (src/shared/event-ring.ts), on the main thread. */
import { EventBatchView, eventKindCode, type VmEvent } from '../shared/event-batch';
import { RingStat, RingViews, RingWord, type EventSummary } from '../shared/event-ring';

/**
 * How long a consumer sleeps at most before looking for records again. The producer wakes it when
 * half the ring waits, so this bounds only how late a trickle of records arrives. Every wake of the
 * consumer's thread costs the vCPU thread too (measured: ~2.5% of its exits at 1,000 wakes/s, on
 * this project's nested-KVM host), so the consumer wakes for a large batch, or late.
 */
const POLL_MS = 10;

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
