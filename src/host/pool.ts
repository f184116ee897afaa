/**
 * VMs on worker threads. A VmPool (over Piscina) gives each VM a dedicated thread for its whole life,
 * so `maxThreads` bounds how many run at once and further VMs queue (a bounded queue: ERR_POOL_FULL
 * past it). The main thread controls a VM over Comlink and stops it with a native kick, never a
 * message: a thread inside KVM_RUN serves none.
 */
import { MessageChannel } from 'node:worker_threads';
import { join } from 'node:path';

import * as Comlink from 'comlink';
import nodeEndpoint from 'comlink/dist/umd/node-adapter';
import { Piscina } from 'piscina';

import { packageRoot } from '../shared/addon';
import { ConfigError, PoolError } from '../shared/errors';
import { createRing } from '../shared/event-ring';
import { createMailbox } from '../shared/mailbox';
import { installErrorTransfer } from '../shared/remote-errors';
import { checkObject, describe } from '../shared/options';
import { abortStopper, ControlBlock, ControlWord, newRunId, StopReason, stopLane, stopRun, SWARM_WORDS, SwarmWord, timeLimitGuard, type Unresponsive } from '../shared/stop';
import { mergeTallies, type SwarmTally } from '../shared/swarm-tally';
import { unwrapReply, type LaneTask, type OneShotTask, type RunReply, type SessionTask } from '../shared/tasks';
import type { RunResult } from '../shared/vm-types';
import type { VmSession } from '../workers/session';
import { KvmAnchor } from './kvm-anchor';
import { checkPoolOptions, type ManyRunsOptions, type ManyRunsResult, type OneShotOptions, type PooledVmOptions, type PoolOptions } from './pool-options';
import { RemoteVm } from './remote-vm';

installErrorTransfer();

export class VmPool {
  private readonly piscina: Piscina;
  /** What close() calls first: stop each run and runMany in progress, close each session VM. */
  private readonly stoppers = new Set<() => Promise<unknown>>();
  private readonly anchor: KvmAnchor | undefined;
  private readonly graceMs: number;
  /** Warm-VM memory each thread may keep. */
  private readonly warmBytesPerThread: number;
  private closed = false;

  constructor(options: PoolOptions = {}) {
    const checked = checkPoolOptions(options);
    this.piscina = new Piscina({
      filename: join(packageRoot(), 'dist', 'vcpu-agent.js'),
      minThreads: 0,
      maxThreads: checked.maxThreads,
      maxQueue: checked.maxQueue,
      idleTimeout: checked.idleTimeoutMs,
      concurrentTasksPerWorker: 1,
    });
    // A thread that ends between tasks: nothing to fail (the next task gets a new thread); without a
    // listener Piscina's 'error' event would end the process.
    this.piscina.on('error', () => {});
    this.graceMs = checked.stopGraceMs;
    this.warmBytesPerThread = Math.floor(checked.warmBytes / checked.maxThreads);
    this.anchor = checked.kvmAnchor ? new KvmAnchor() : undefined;
  }

  get threads(): number {
    return this.piscina.threads.length;
  }

  /** A VM on its own worker thread, once a thread is free. Close it to free the thread. */
  async createVm(options: PooledVmOptions = {}): Promise<RemoteVm> {
    checkObject('VM options', options);
    const { events, ringCapacity, ...vmOptions } = options;
    const { port1, port2 } = new MessageChannel();
    const control = new ControlBlock();
    const ring = events ? createRing(ringCapacity) : undefined;
    const mailbox = createMailbox();
    const task: SessionTask = { kind: 'session', port: port2, options: vmOptions, control: control.buffer, mailbox, ...(ring && { ring }) };
    const done = this.submit(task, [port2 as never], control);
    const session = Comlink.wrap<VmSession>(nodeEndpoint(port1 as never));
    const vm = new RemoteVm(session, port1, control, done, ring, mailbox, this.unresponsive(control));
    const stop = () => vm.close(); // a session task ends only when its VM is closed
    this.stoppers.add(stop);
    const forget = () => void this.stoppers.delete(stop);
    done.then(forget, forget);
    // The first call is served once the worker has created the VM; a failure to create rejects it.
    await vm.registers().catch(async (error) => {
      await vm.close();
      throw error;
    });
    if (this.closed) throw new PoolError('ERR_POOL_CLOSED', 'the pool closed while the VM waited for a thread'); // and close() closed the VM
    return vm;
  }

  /**
   * Runs `image` on a VM in one task: the fast path for many tiny VMs. With `reuse` (the default) the
   * worker serves it from a warm VM of the same setup reset to its snapshot, instead of creating one;
   * `reuse: false` creates and destroys a VM for every run.
   */
  async run(image: Uint8Array | string, options: OneShotOptions = {}): Promise<RunResult> {
    const control = new ControlBlock();
    const runId = newRunId();
    const reply = this.submit({ kind: 'oneshot', runId, ...oneShotSetup(image, options, control, this.warmBytesPerThread) }, [], control) as Promise<RunReply>;
    const unresponsive = this.unresponsive(control);
    const stopper = options.signal ? abortStopper(options.signal, control, runId, reply, unresponsive) : undefined;
    const guard = timeLimitGuard(control, runId, options.timeoutMs, reply, unresponsive);
    const stop = () => stopRun(control, runId, StopReason.Stop, reply, unresponsive);
    this.stoppers.add(stop);
    try {
      return unwrapReply(await reply);
    } finally {
      this.stoppers.delete(stop);
      stopper?.();
      guard();
    }
  }

  /**
   * Runs `image` `count` times, `lanes` at a time: each lane is one task on its own thread that runs
   * VM after VM (as run() would, reuse included) with no message per VM, so the main thread stays out
   * of the way — the fast path for swarms. Failed runs are counted, not thrown; an aborted signal
   * (outcome `aborted`) or close() (`stopped`) stops the runs in progress and starts no more.
   */
  async runMany(image: Uint8Array | string, options: ManyRunsOptions): Promise<ManyRunsResult> {
    checkObject('runMany options', options);
    const { count, lanes = this.piscina.options.maxThreads, onProgress, ...runOptions } = options;
    if (!Number.isSafeInteger(count) || count < 0) throw new ConfigError('ERR_INVALID_OPTION', `count must be a whole number ≥ 0, not ${count}`);
    if (!Number.isSafeInteger(lanes) || lanes < 1) throw new ConfigError('ERR_INVALID_OPTION', `lanes must be a whole number ≥ 1, not ${lanes}`);
    const words = new Int32Array(new SharedArrayBuffer(SWARM_WORDS * 4));
    const started = performance.now();
    const controls = Array.from({ length: Math.max(1, Math.min(lanes, count)) }, () => new ControlBlock());
    const tasks = controls.map((control) => this.submit({ kind: 'lane', swarm: words.buffer as SharedArrayBuffer, count, ...oneShotSetup(image, runOptions, control, this.warmBytesPerThread) } satisfies LaneTask, [], control) as Promise<SwarmTally>);
    const stop = (reason = StopReason.Stop) => {
      Atomics.store(words, SwarmWord.Stop, 1);
      return Promise.all(controls.map((control, i) => stopLane(control, reason, tasks[i]!, this.unresponsive(control))));
    };
    const report = () => onProgress?.(Atomics.load(words, SwarmWord.Done), Atomics.load(words, SwarmWord.Failed), controls.filter((c) => c.load(ControlWord.RunningRun) !== 0).length);
    const progress = onProgress && setInterval(report, 100);
    const onAbort = () => void stop(StopReason.Abort);
    if (runOptions.signal?.aborted) onAbort();
    runOptions.signal?.addEventListener('abort', onAbort, { once: true });
    this.stoppers.add(stop);
    try {
      const tally = mergeTallies(await Promise.all(tasks));
      return { count, ran: Atomics.load(words, SwarmWord.Done), durationMs: performance.now() - started, ...tally };
    } catch (error) {
      await stop().catch(() => {});
      throw error;
    } finally {
      this.stoppers.delete(stop);
      runOptions.signal?.removeEventListener('abort', onAbort);
      if (progress) clearInterval(progress);
      report();
    }
  }

  /**
   * Stops what runs, waits for every thread to end. Always settles: a thread that does not end within
   * the stop grace (stuck in a device module) is terminated.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all([...this.stoppers].map((stop) => stop()));
    const closing = this.piscina.close({ force: true });
    if (!(await settlesWithin(closing, this.graceMs))) await this.piscina.destroy();
    this.anchor?.release();
  }

  /** How a stop that the thread of `control`'s task does not answer ends: that thread terminated. */
  private unresponsive(control: ControlBlock): Unresponsive {
    return {
      graceMs: this.graceMs,
      terminate: () => {
        const id = control.load(ControlWord.ThreadId);
        const thread = id === 0 ? undefined : this.piscina.threads.find((worker) => worker.threadId === id);
        if (thread === undefined) return;
        control.store(ControlWord.Terminated, 1);
        void thread.terminate();
      },
    };
  }

  private submit(task: SessionTask | OneShotTask | LaneTask, transferList: never[], control: ControlBlock): Promise<unknown> {
    if (this.closed) return Promise.reject(new PoolError('ERR_POOL_CLOSED', 'the pool is closed'));
    this.anchor?.holdFor(task.options);
    return this.piscina.run(task, { transferList }).catch((error: Error) => {
      if (/queue is at limit|no task queue available/i.test(error.message)) throw new PoolError('ERR_POOL_FULL', `the pool is full: ${this.piscina.options.maxQueue} VMs already wait for a thread`);
      if (error.name === 'DataCloneError') throw new ConfigError('ERR_INVALID_OPTION', `an option cannot be sent to the VM's thread (not cloneable): ${error.message}`, { cause: error });
      if (control.load(ControlWord.Terminated) === 1) {
        throw new PoolError('ERR_THREAD_TERMINATED', `the VM's thread did not answer a stop within ${this.graceMs} ms (stuck in a device module?) and was terminated`, { cause: error });
      }
      // A task answers every failure of its own in its reply: a rejection means its thread ended under
      // it (process.exit() or an uncaught error in a device module). Piscina starts another thread.
      throw new PoolError('ERR_THREAD_EXITED', `the VM's thread ended before its task did: ${error.message}`, { cause: error });
    });
  }
}

/** Whether `promise` settles within `ms`. */
async function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const settled = promise.then(
    () => true,
    () => true,
  );
  const late = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
  try {
    return await Promise.race([settled, late]);
  } finally {
    clearTimeout(timer);
  }
}

/** The setup part of a one-shot task (what run() and runMany() send), with `control` for its stop protocol. */
function oneShotSetup(image: Uint8Array | string, options: OneShotOptions, control: ControlBlock, warmBytes: number): Omit<OneShotTask, 'kind' | 'runId'> {
  checkObject('run options', options);
  if (typeof image !== 'string' && !(image instanceof Uint8Array)) throw new ConfigError('ERR_INVALID_OPTION', `an image is a path or a Uint8Array, not ${describe(image)}`);
  if (options.registers !== undefined) checkObject('registers', options.registers);
  for (const [name, value] of Object.entries(options.registers ?? {})) {
    if (typeof value !== 'bigint' && !Number.isSafeInteger(value)) throw new ConfigError('ERR_INVALID_OPTION', `register ${name}: a value is a bigint or a whole number, not ${describe(value)}`);
  }
  const { timeoutMs, maxExits, stopOnByte, maxOutputBytes, signal: _signal, load, registers, reuse, writes, reads, events: _events, ringCapacity: _capacity, ...vmOptions } = options;
  return {
    options: vmOptions,
    image,
    control: control.buffer,
    reuse: reuse ?? true,
    warmBytes,
    run: { ...(timeoutMs !== undefined && { timeoutMs }), ...(maxExits !== undefined && { maxExits }), ...(stopOnByte !== undefined && { stopOnByte }), ...(maxOutputBytes !== undefined && { maxOutputBytes }) },
    ...(load && { load }),
    ...(writes && { writes }),
    ...(reads && { reads }),
    ...(registers && { registers: Object.fromEntries(Object.entries(registers).map(([k, v]) => [k, BigInt(v)])) }),
  };
}
