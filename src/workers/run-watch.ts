/**
 * Whether a run must end now: a stop was asked (stop(), close(), the pool's stop word) or its time
 * limit passed. One watch per VM, armed at each run's start, read by everything the run may wait on
 * (the WebAssembly loop, WFI, a full event ring, a main-thread device's mailbox), so a limit holds
 * whatever the run waits on.
 */
import type { RunInterrupted } from '../shared/devices';

export type Interruption = RunInterrupted['outcome'];

/** A shared word another thread sets to `value` to stop the run (the pool's stop protocol). */
export interface StopWord {
  words: Int32Array;
  index: number;
  value: number;
}

/** The longest single wait: stop words are looked at at least this often even where no notify comes. */
const POLL_MS = 5;

export class RunWatch {
  private deadline = Infinity;
  private stopWord: StopWord | undefined;
  private stopAsked = false;

  /** Arms the watch for a run of `timeoutMs` (0: no limit), stopped also by `stopWord`. */
  begin(timeoutMs: number, stopWord: StopWord | undefined): void {
    this.deadline = timeoutMs > 0 ? performance.now() + timeoutMs : Infinity;
    this.stopWord = stopWord;
    this.stopAsked = false;
  }

  /** A stop from the VM's own thread (a device handler, close()). */
  requestStop(): void {
    this.stopAsked = true;
  }

  /** Why the run must end now, or undefined. A clock read only when there is a deadline. */
  check(): Interruption | undefined {
    const word = this.stopWord;
    if (this.stopAsked || (word !== undefined && Atomics.load(word.words, word.index) === word.value)) return 'stopped';
    if (this.deadline !== Infinity && performance.now() >= this.deadline) return 'timeout';
    return undefined;
  }

  /**
   * Waits on `words[index]` while it holds `value` (Atomics.wait), in slices, until it changes or the
   * run must end: then returns why. `undefined` means the word changed.
   */
  waitWhile(words: Int32Array, index: number, value: number): Interruption | undefined {
    for (;;) {
      const why = this.check();
      if (why !== undefined) return why;
      if (Atomics.load(words, index) !== value) return undefined;
      Atomics.wait(words, index, value, Math.min(POLL_MS, Math.max(0, this.deadline - performance.now())));
    }
  }

  /**
   * Sleeps until the run must end, waking on the stop word; with `irq`, also until that interrupt line
   * is high (then undefined: the guest's WFI ends).
   */
  sleep(irq?: { words: Int32Array; index: number }): Interruption | undefined {
    for (;;) {
      const why = this.check();
      if (why !== undefined) return why;
      if (irq !== undefined && Atomics.load(irq.words, irq.index) !== 0) return undefined;
      const wait = Math.min(50, this.deadline - performance.now());
      const word = this.stopWord;
      if (word !== undefined) Atomics.wait(word.words, word.index, Atomics.load(word.words, word.index), wait);
      else Atomics.wait(sleeper, 0, 0, wait);
    }
  }
}

const sleeper = new Int32Array(new SharedArrayBuffer(4));
