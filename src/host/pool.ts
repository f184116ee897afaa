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
import { abortStopper, ControlBlock, ControlWord, newRunId, StopReason, stopLane, stopRun, SWARM_WORDS, SwarmWord } from '../shared/stop';
import { mergeTallies, type SwarmTally } from '../shared/swarm-tally';
import { unwrapReply, type LaneTask, type OneShotTask, type RunReply, type SessionTask } from '../shared/tasks';
import type { RunResult } from '../shared/vm-types';
import type { VmSession } from '../workers/session';
import { KvmAnchor } from './kvm-anchor';
import type { ManyRunsOptions, ManyRunsResult, OneShotOptions, PooledVmOptions, PoolOptions } from './pool-options';
import { RemoteVm } from './remote-vm';

installErrorTransfer();

export class VmPool {
  private readonly piscina: Piscina;
  /** What close() calls first: stop each run and runMany in progress, close each session VM. */
  private readonly stoppers = new Set<() => Promise<unknown>>();
  private readonly anchor: KvmAnchor | undefined;
  private closed = false;

  constructor(options: PoolOptions = {}) {
    this.piscina = new Piscina({
      filename: join(packageRoot(), 'dist', 'vcpu-agent.js'),
      minThreads: 0,
      ...(options.maxThreads !== undefined && { maxThreads: options.maxThreads }),
      maxQueue: options.maxQueue ?? 1024,
      idleTimeout: options.idleTimeoutMs ?? 10_000,
      concurrentTasksPerWorker: 1,
    });
    this.anchor = options.kvmAnchor === false ? undefined : new KvmAnchor();
  }

  get threads(): number {
    return this.piscina.threads.length;
  }

  /** A VM on its own worker thread, once a thread is free. Close it to free the thread. */
  async createVm(options: PooledVmOptions = {}): Promise<RemoteVm> {
    const { events, ringCapacity, ...vmOptions } = options;
    const { port1, port2 } = new MessageChannel();
    const control = new ControlBlock();
    const ring = events ? createRing(ringCapacity) : undefined;
    const mailbox = createMailbox();
    const task: SessionTask = { kind: 'session', port: port2, options: vmOptions, control: control.buffer, mailbox, ...(ring && { ring }) };
    const done = this.submit(task, [port2 as never]);
    const session = Comlink.wrap<VmSession>(nodeEndpoint(port1 as never));
    const vm = new RemoteVm(session, port1, control, done, ring, mailbox);
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
    const reply = this.submit({ kind: 'oneshot', runId, ...oneShotSetup(image, options, control) }, []) as Promise<RunReply>;
    const stopper = options.signal ? abortStopper(options.signal, control, runId, reply) : undefined;
    const stop = () => stopRun(control, runId, StopReason.Stop, reply);
    this.stoppers.add(stop);
    try {
      return unwrapReply(await reply);
    } finally {
      this.stoppers.delete(stop);
      stopper?.();
    }
  }

  /**
   * Runs `image` `count` times, `lanes` at a time: each lane is one task on its own thread that runs
   * VM after VM (as run() would, reuse included) with no message per VM, so the main thread stays out
   * of the way — the fast path for swarms. Failed runs are counted, not thrown; an aborted signal
   * (outcome `aborted`) or close() (`stopped`) stops the runs in progress and starts no more.
   */
  async runMany(image: Uint8Array | string, options: ManyRunsOptions): Promise<ManyRunsResult> {
    const { count, lanes = this.piscina.options.maxThreads, onProgress, ...runOptions } = options;
    if (!Number.isSafeInteger(count) || count < 0) throw new ConfigError('ERR_INVALID_OPTION', `count must be a whole number ≥ 0, not ${count}`);
    if (!Number.isSafeInteger(lanes) || lanes < 1) throw new ConfigError('ERR_INVALID_OPTION', `lanes must be a whole number ≥ 1, not ${lanes}`);
    const words = new Int32Array(new SharedArrayBuffer(SWARM_WORDS * 4));
    const started = performance.now();
    const controls = Array.from({ length: Math.max(1, Math.min(lanes, count)) }, () => new ControlBlock());
    const tasks = controls.map((control) => this.submit({ kind: 'lane', swarm: words.buffer as SharedArrayBuffer, count, ...oneShotSetup(image, runOptions, control) } satisfies LaneTask, []) as Promise<SwarmTally>);
    const stop = (reason = StopReason.Stop) => {
      Atomics.store(words, SwarmWord.Stop, 1);
      return Promise.all(controls.map((control, i) => stopLane(control, reason, tasks[i]!)));
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

  /** Stops what runs, waits for every thread to end. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all([...this.stoppers].map((stop) => stop()));
    await this.piscina.close({ force: true });
    this.anchor?.release();
  }

  private submit(task: SessionTask | OneShotTask | LaneTask, transferList: never[]): Promise<unknown> {
    if (this.closed) return Promise.reject(new PoolError('ERR_POOL_CLOSED', 'the pool is closed'));
    this.anchor?.holdFor(task.options);
    return this.piscina.run(task, { transferList }).catch((error: Error) => {
      if (/queue is at limit/i.test(error.message)) throw new PoolError('ERR_POOL_FULL', `the pool is full: ${this.piscina.options.maxQueue} VMs already wait for a thread`);
      // A task answers every failure of its own in its reply: a rejection means its thread ended under
      // it (process.exit() or an uncaught error in a device module). Piscina starts another thread.
      throw new PoolError('ERR_THREAD_EXITED', `the VM's thread ended before its task did: ${error.message}`, { cause: error });
    });
  }
}

/** The setup part of a one-shot task (what run() and runMany() send), with `control` for its stop protocol. */
function oneShotSetup(image: Uint8Array | string, options: OneShotOptions, control: ControlBlock): Omit<OneShotTask, 'kind' | 'runId'> {
  const { timeoutMs, maxExits, stopOnByte, signal: _signal, load, registers, reuse, writes, reads, events: _events, ringCapacity: _capacity, ...vmOptions } = options;
  return {
    options: vmOptions,
    image,
    control: control.buffer,
    reuse: reuse ?? true,
    run: { ...(timeoutMs !== undefined && { timeoutMs }), ...(maxExits !== undefined && { maxExits }), ...(stopOnByte !== undefined && { stopOnByte }) },
    ...(load && { load }),
    ...(writes && { writes }),
    ...(reads && { reads }),
    ...(registers && { registers: Object.fromEntries(Object.entries(registers).map(([k, v]) => [k, BigInt(v)])) }),
  };
}
