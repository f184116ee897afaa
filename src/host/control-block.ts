/**
 * The few words the main thread and a VM's worker share without messages: a thread blocked in
 * KVM_RUN serves no messages, so stopping it must not wait for one.
 */
export const enum ControlWord {
  /** The id of the run the worker is in (0: none). */
  RunningRun = 0,
  /** The id of the run the main thread wants stopped (0: none). */
  StopRun = 1,
  /** Why: 1 stop(), 2 an AbortSignal. */
  StopReason = 2,
  /** The id of the last run the worker has left. */
  FinishedRun = 3,
}
const WORDS = 4;
/** The vCPU's process-wide id (a double) after the words. */
const VCPU_ID_OFFSET = 16;

export class ControlBlock {
  readonly words: Int32Array;
  /** Where the vCPU's id is kept: written here, or by native code that creates a vCPU per run. */
  readonly vcpuIdSlot: Float64Array;
  constructor(readonly buffer = new SharedArrayBuffer(VCPU_ID_OFFSET + 8)) {
    this.words = new Int32Array(buffer, 0, WORDS);
    this.vcpuIdSlot = new Float64Array(buffer, VCPU_ID_OFFSET, 1);
  }
  get vcpuId(): number {
    return this.vcpuIdSlot[0]!;
  }
  set vcpuId(id: number) {
    this.vcpuIdSlot[0] = id;
  }
  load(word: ControlWord): number {
    return Atomics.load(this.words, word);
  }
  store(word: ControlWord, value: number): void {
    Atomics.store(this.words, word, value);
    Atomics.notify(this.words, word);
  }
}

/** The words a swarm's lanes share with each other and the main thread (Int32, SWARM_WORDS of them). */
export const enum SwarmWord {
  /** Runs claimed so far: a lane takes the next index with Atomics.add. */
  Claimed = 0,
  /** Runs ended, and how many of them failed: progress, without a message per run. */
  Done = 1,
  Failed = 2,
  /** Set to stop: lanes claim no further run. */
  Stop = 3,
}
export const SWARM_WORDS = 4;
