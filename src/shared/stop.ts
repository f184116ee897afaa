/**
 * Stopping a run, in one place: the words the main thread and a VM's thread share without messages
 * (a thread blocked in KVM_RUN serves none, so stopping it must not wait for one), the main-thread
 * half that asks and kicks, and the vCPU-thread half that honours it. The kick itself is native
 * (native/vcpu_kick.cc: a signal with immediate_exit); the WebAssembly CPU reads the stop word
 * between slices (src/workers/wasm-backend.ts).
 */
import { threadId } from 'node:worker_threads';

import type { RunOptions, RunResult } from './vm-types';
import type { Vm } from '../workers/vm';
import { loadAddon } from './addon';
import { serializeError } from './remote-errors';
import type { RunReply } from './tasks';

/** Why a run was asked to stop: the outcome it ends with. */
export const enum StopReason {
  /** stop(), close() or a pool closing: outcome `stopped`. */
  Stop = 1,
  /** An AbortSignal: outcome `aborted`. */
  Abort = 2,
}

export const enum ControlWord {
  /** The id of the run the worker is in (0: none). */
  RunningRun = 0,
  /** The id of the run the main thread wants stopped (0: none). */
  StopRun = 1,
  /** Why (StopReason). */
  StopReason = 2,
  /** The id of the last run the worker has left. */
  FinishedRun = 3,
  /** The worker thread's threadId, written as its task starts: whom to terminate when it stops answering. */
  ThreadId = 4,
  /** 1 once the main thread terminated that thread: the task's failure is ERR_THREAD_TERMINATED. */
  Terminated = 5,
  /** The wasm backend's interrupt line (1 high): RemoteVm.interrupt() raises it, the guest's acknowledge lowers it. */
  IrqLine = 6,
}
const WORDS = 7;
/** The vCPU's process-wide id (a double) after the words, then the run's deadline. */
const VCPU_ID_OFFSET = 24;
const DEADLINE_OFFSET = 32;

export class ControlBlock {
  readonly words: Int32Array;
  /** Where the vCPU's id is kept: written here, or by native code that creates a vCPU per run. */
  readonly vcpuIdSlot: Float64Array;
  /** When the run in progress must end (Date.now() ms; 0: no limit), written by the worker as it starts it. */
  private readonly deadlineSlot: Float64Array;
  constructor(readonly buffer = new SharedArrayBuffer(DEADLINE_OFFSET + 8)) {
    this.words = new Int32Array(buffer, 0, WORDS);
    this.vcpuIdSlot = new Float64Array(buffer, VCPU_ID_OFFSET, 1);
    this.deadlineSlot = new Float64Array(buffer, DEADLINE_OFFSET, 1);
  }
  get deadline(): number {
    return this.deadlineSlot[0]!;
  }
  set deadline(at: number) {
    this.deadlineSlot[0] = at;
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

// ---------------------------------------------------------------------------- main-thread half

let lastRunId = 0;

/** A process-wide id for a run: the stop protocol names the run it stops, so a late stop never hits the next one. */
export function newRunId(): number {
  return ++lastRunId;
}

/** How often a stop re-sends its kick until the vCPU acknowledges by leaving its run. */
const KICK_INTERVAL_MS = 1;

/**
 * What to do with a thread that does not leave a run it was asked to stop (JavaScript stuck in a
 * device module): after `graceMs`, `terminate()` it; the run's task then fails ERR_THREAD_TERMINATED.
 */
export interface Unresponsive {
  graceMs: number;
  terminate(): void;
}

/**
 * Sets the stop request for `runId`, then kicks the vCPU, again every KICK_INTERVAL_MS until it has
 * left the run (a kick that lands before the worker entered it is re-sent, never lost). Resolves as
 * soon as the worker marks the run finished, without waiting for its reply message; a thread that has
 * not left the run after `unresponsive.graceMs` is terminated.
 */
export async function stopRun(control: ControlBlock, runId: number, reason: StopReason, settled: Promise<unknown>, unresponsive?: Unresponsive): Promise<void> {
  control.store(ControlWord.StopReason, reason);
  control.store(ControlWord.StopRun, runId);
  let done = false;
  const finished = settled.then(
    () => (done = true),
    () => (done = true),
  );
  const addon = loadAddon();
  const giveUpAt = unresponsive === undefined ? Infinity : performance.now() + unresponsive.graceMs;
  while (!done && control.load(ControlWord.FinishedRun) !== runId) {
    if (performance.now() >= giveUpAt) {
      unresponsive!.terminate();
      await finished;
      return;
    }
    if (control.load(ControlWord.RunningRun) === runId) {
      addon.kickVcpu(control.vcpuId);
      await Atomics.waitAsync(control.words, ControlWord.RunningRun, runId, KICK_INTERVAL_MS).value;
    } else {
      await Promise.race([finished, new Promise((resolve) => setTimeout(resolve, KICK_INTERVAL_MS))]);
    }
  }
}

/** Stops a lane: its run in progress now, and any it had claimed just before the stop word was set. */
export async function stopLane(control: ControlBlock, reason: StopReason, lane: Promise<unknown>, unresponsive?: Unresponsive): Promise<void> {
  let settled = false;
  void lane.then(
    () => (settled = true),
    () => (settled = true),
  );
  while (!settled) {
    const runId = control.load(ControlWord.RunningRun);
    if (runId !== 0) await stopRun(control, runId, reason, lane, unresponsive);
    else await new Promise((resolve) => setTimeout(resolve, KICK_INTERVAL_MS));
  }
}

/**
 * Holds a run to its time limit from the main thread, for when its thread cannot (JavaScript stuck in
 * a device module): once the run has outlived its deadline by `unresponsive.graceMs`, it is stopped,
 * and its thread terminated if it does not answer. Returns the disarm function.
 */
export function timeLimitGuard(control: ControlBlock, runId: number, timeoutMs: number | undefined, settled: Promise<unknown>, unresponsive: Unresponsive): () => void {
  if (timeoutMs === undefined || !(timeoutMs > 0)) return () => {};
  let timer: NodeJS.Timeout;
  const arm = (ms: number) => (timer = setTimeout(check, Math.min(Math.max(ms, 1), 2 ** 31 - 1)).unref());
  const check = () => {
    if (control.load(ControlWord.FinishedRun) === runId) return;
    // Not started yet (queued for a thread), or started: look again when it would be overdue.
    if (control.load(ControlWord.RunningRun) !== runId) return arm(timeoutMs);
    const overdueIn = control.deadline + unresponsive.graceMs - Date.now();
    if (overdueIn > 0) return arm(overdueIn);
    void stopRun(control, runId, StopReason.Stop, settled, unresponsive);
  };
  arm(timeoutMs + unresponsive.graceMs);
  return () => clearTimeout(timer);
}

export function abortStopper(signal: AbortSignal, control: ControlBlock, runId: number, settled: Promise<unknown>, unresponsive?: Unresponsive): () => void {
  const onAbort = () => void stopRun(control, runId, StopReason.Abort, settled, unresponsive);
  if (signal.aborted) onAbort();
  else signal.addEventListener('abort', onAbort, { once: true });
  return () => signal.removeEventListener('abort', onAbort);
}

// ---------------------------------------------------------------------------- vCPU-thread half

/** Names this thread as the one serving the task of `control` (for the main thread to terminate if it must). */
export function claimThread(control: ArrayBufferLike): void {
  new ControlBlock(control as SharedArrayBuffer).store(ControlWord.ThreadId, threadId);
}

/** A run under the stop protocol: a stop asked before the vCPU got here is honoured, not lost. */
export function runControlled(vm: Pick<Vm, 'backend' | 'arch' | 'run'>, control: ControlBlock, runId: number, options: RunOptions): RunReply {
  const timeoutMs = options?.timeoutMs;
  control.deadline = typeof timeoutMs === 'number' && timeoutMs > 0 ? Date.now() + timeoutMs : 0;
  control.store(ControlWord.RunningRun, runId);
  try {
    const stopped = () => control.load(ControlWord.StopRun) === runId;
    const result: RunResult = stopped()
      ? { backend: vm.backend, arch: vm.arch, outcome: 'stopped', exits: 0, output: Buffer.alloc(0), outputTruncated: false, outputDropped: 0, durationMs: 0 }
      : vm.run(options, { words: control.words, index: ControlWord.StopRun, value: runId });
    if (result.outcome === 'stopped' && stopped() && control.load(ControlWord.StopReason) === StopReason.Abort) result.outcome = 'aborted';
    return { ok: true, result };
  } catch (error) {
    return { ok: false, error: serializeError(error) };
  } finally {
    // FinishedRun first: a stopper woken by RunningRun changing must find the run finished, or it
    // would wait a whole re-kick interval for the reply.
    control.store(ControlWord.FinishedRun, runId);
    control.store(ControlWord.RunningRun, 0);
  }
}
