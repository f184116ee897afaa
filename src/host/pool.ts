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

import type { LaneTask, OneShotTask, RunReply, SessionTask, VmSession } from '../workers/vcpu-agent';
import { loadAddon, packageRoot } from './addon';
import type { NativeDeviceSpec } from './backend';
import { ControlBlock, ControlWord, SWARM_WORDS, SwarmWord } from './control-block';
import type { Device, DeviceRange } from './devices';
import { ConfigError, GuestError, PoolError, VmStateError } from './errors';
import type { EventBatchView, VmEvent } from './event-batch';
import { createRing, EventRingProducer, EventRingReader, type EventSummary } from './event-ring';
import { KvmAnchor } from './kvm-anchor';
import { createMailbox, MailboxServer } from './main-thread-device';
import { installErrorTransfer, reviveError } from './remote-errors';
import { mergeTallies, type SwarmTally } from './swarm-tally';
import type { LoadOptions, RunOptions, RunResult, VmOptions } from './vm';

installErrorTransfer();

export interface PoolOptions {
  /** Threads, so VMs running at once (default: the number of CPUs). */
  maxThreads?: number;
  /** VMs that may wait for a thread before createVm/run fail with ERR_POOL_FULL (default 1024). */
  maxQueue?: number;
  /** Idle threads end after this many ms (default 10 s). */
  idleTimeoutMs?: number;
  /**
   * Hold one idle KVM vCPU from the first KVM VM until close() (default true): while any vCPU exists,
   * KVM creates and destroys the next without patching kernel text (src/host/kvm-anchor.ts; ~1.6×
   * the VMs/s with `reuse: false` on an otherwise idle host).
   */
  kvmAnchor?: boolean;
}

export interface PooledVmOptions extends VmOptions {
  /** Record every MMIO/PIO access for `events()` (default false). Unconsumed events stall the vCPU. */
  events?: boolean;
  /** Event ring capacity in records (a power of two, default 4096). */
  ringCapacity?: number;
}

export interface PooledRunOptions extends RunOptions {
  /** Aborting ends the run with outcome `aborted`. */
  signal?: AbortSignal;
}

/** What VmPool.run and runMany set each VM up with. */
export type OneShotOptions = PooledVmOptions & PooledRunOptions & { load?: LoadOptions; registers?: Record<string, bigint | number>; reuse?: boolean };

export interface ManyRunsOptions extends OneShotOptions {
  /** How many runs. */
  count: number;
  /** Runs at once, each lane on its own thread (default: the pool's maxThreads). */
  lanes?: number;
  /** Called about every 100 ms, and once at the end, with the runs ended so far and how many failed. */
  onProgress?: (done: number, failed: number) => void;
}

export interface ManyRunsResult extends SwarmTally {
  /** Runs asked for, and runs that ran: fewer when the signal or close() stopped them. */
  count: number;
  ran: number;
  durationMs: number;
}

/** How often stop() re-sends its kick until the vCPU acknowledges by leaving its run. */
const KICK_INTERVAL_MS = 1;

let nextRunId = 1;

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
    const runId = nextRunId++;
    const reply = this.submit({ kind: 'oneshot', runId, ...oneShotSetup(image, options, control) }, []) as Promise<RunReply>;
    const stopper = options.signal ? abortStopper(options.signal, control, runId, reply) : undefined;
    const stop = () => stopRun(control, runId, 1, reply);
    this.stoppers.add(stop);
    try {
      return unwrap(await reply);
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
    const stop = (reason: 1 | 2 = 1) => {
      Atomics.store(words, SwarmWord.Stop, 1);
      return Promise.all(controls.map((control, i) => stopLane(control, reason, tasks[i]!)));
    };
    const progress = onProgress && setInterval(() => onProgress(Atomics.load(words, SwarmWord.Done), Atomics.load(words, SwarmWord.Failed)), 100);
    const onAbort = () => void stop(2);
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
      onProgress?.(Atomics.load(words, SwarmWord.Done), Atomics.load(words, SwarmWord.Failed));
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

/** A VM on a worker thread. Every call but stop() is a message to its thread. */
export class RemoteVm {
  private running: { runId: number; promise: Promise<unknown> } | undefined;
  private readonly mainDevices: Device[] = [];
  private readonly mailboxServer: MailboxServer;
  private handlerError: unknown;
  private closed = false;
  /**
   * Calls sent to the worker and not answered yet. `abandoned` rejects when none can be answered any
   * more: at once when the task fails (the VM's creation error) or its thread dies (ERR_THREAD_EXITED),
   * else at close() (ERR_VM_CLOSED).
   */
  private readonly unanswered = new Set<Promise<unknown>>();
  private abandon!: (error: Error) => void;
  private readonly abandoned = new Promise<never>((_, reject) => (this.abandon = reject));

  constructor(
    private readonly session: Comlink.Remote<VmSession>,
    private readonly port: import('node:worker_threads').MessagePort,
    private readonly control: ControlBlock,
    private readonly done: Promise<unknown>,
    private readonly ring: SharedArrayBuffer | undefined,
    mailbox: SharedArrayBuffer,
  ) {
    this.mailboxServer = new MailboxServer(mailbox, this.mainDevices, (error) => (this.handlerError = error));
    this.abandoned.catch(() => {}); // rejected at every close(); only calls still racing it see that
    // A task that ends with an error (the VM could not be created) or whose thread dies answers no more
    // calls and writes no more events: end both now (events() ends on the producer's behalf).
    const failed = (error: Error) => {
      this.abandon(error);
      if (ring !== undefined) new EventRingProducer(ring).close();
    };
    done.then((reply) => {
      const failure = reply as RunReply | undefined;
      if (failure?.ok === false) failed(reviveError(failure.error));
    }, failed);
  }

  async load(image: Uint8Array | string, options: LoadOptions = {}): Promise<void> {
    return this.call((session) => session.load(image, options));
  }
  async setRegister(name: string, value: bigint | number): Promise<void> {
    return this.call((session) => session.setRegister(name, value));
  }
  async getRegister(name: string): Promise<bigint> {
    return this.call((session) => session.getRegister(name));
  }
  async registers(): Promise<Record<string, bigint>> {
    return this.call((session) => session.registers());
  }
  async readMemory(guestAddr: number, length: number): Promise<Uint8Array> {
    return this.call((session) => session.readMemory(guestAddr, length));
  }
  async writeMemory(guestAddr: number, bytes: Uint8Array): Promise<void> {
    return this.call((session) => session.writeMemory(guestAddr, bytes));
  }
  /** Native tier: answered in C++ inside the vCPU loop (~no cost). */
  async addNativeDevice(range: DeviceRange, spec: NativeDeviceSpec): Promise<void> {
    return this.call((session) => session.addNativeDevice(range, spec));
  }
  /** Worker tier: a module (a Device, or a factory of one) loaded on the VM's thread; one call per exit, no allocation. */
  async addDeviceModule(range: DeviceRange, path: string, options?: unknown): Promise<void> {
    return this.call((session) => session.addDeviceModule(range, path, options));
  }
  /** Main-thread tier: this object answers each access through an Atomics round trip (slow path, ~10 µs). */
  async addDevice(range: DeviceRange, device: Device): Promise<void> {
    this.mainDevices.push(device);
    return this.call((session) => session.addMainThreadDevice(range, this.mainDevices.length - 1));
  }

  /**
   * Runs the guest on its thread until it ends, a limit, stop(), an abort, or an error (rejects typed;
   * a thread that dies under it, PoolError ERR_THREAD_EXITED).
   */
  async run(options: PooledRunOptions = {}): Promise<RunResult> {
    const { signal, ...runOptions } = options;
    const runId = nextRunId++;
    this.handlerError = undefined;
    const reply = this.call<RunReply>((session) => session.run(runId, runOptions));
    this.running = { runId, promise: reply };
    const stopper = signal ? abortStopper(signal, this.control, runId, reply) : undefined;
    try {
      return unwrap(await reply, this.handlerError);
    } finally {
      stopper?.();
      this.running = undefined;
    }
  }

  /** Stops the run in progress; resolves once the vCPU has left it. Safe before, after, and twice. */
  async stop(): Promise<void> {
    const run = this.running;
    if (run === undefined) return;
    await stopRun(this.control, run.runId, 1, run.promise);
  }

  /** Batches of events as objects, in order, until the VM closes. Needs `events: true` at creation. */
  async *events(): AsyncGenerator<VmEvent[]> {
    yield* this.ringReader().batches();
  }

  /**
   * The same events as typed views read in place (no allocation per event): each batch is valid only
   * until the next is requested or the loop ends (see EventBatchView).
   */
  async *eventViews(): AsyncGenerator<EventBatchView> {
    yield* this.ringReader().views();
  }

  /**
   * The VM's event stream so far: events recorded (by kind), pending, consumed, and how often and how
   * long backpressure stalled the vCPU. Read from the ring's shared memory: no message, no wait.
   */
  eventSummary(): EventSummary {
    return this.ringReader().summary();
  }

  private ringReader(): EventRingReader {
    if (this.ring === undefined) throw new ConfigError('ERR_INVALID_OPTION', 'create the VM with { events: true } to read its events');
    return new EventRingReader(this.ring);
  }

  /**
   * A call to the worker's session while the VM is open. Its answer is awaited by close(): Comlink
   * drops answers still on their way when the proxy is released, which would leave a call pending
   * forever (a run stopped by close() among them).
   */
  private call<T>(invoke: (session: Comlink.Remote<VmSession>) => Promise<T>): Promise<T> {
    if (this.closed) return Promise.reject(new VmStateError('ERR_VM_CLOSED', 'the VM is closed'));
    const answer = invoke(this.session);
    this.unanswered.add(answer);
    const forget = () => void this.unanswered.delete(answer);
    answer.then(forget, forget);
    return Promise.race([answer, this.abandoned]);
  }

  /** Ends the VM and frees its thread (stopping a run in progress). Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.stop();
    this.session.close().catch(() => {});
    // A session that ended normally (no reply) answered every call sent before close(): their answers
    // are on the port. A failed one's calls were rejected when it failed.
    if ((await this.done.catch((error: unknown) => error)) === undefined) await Promise.allSettled(this.unanswered);
    this.abandon(new VmStateError('ERR_VM_CLOSED', 'the VM closed before its thread answered'));
    this.session[Comlink.releaseProxy]();
    this.port.close();
    this.mailboxServer.close();
    await this.mailboxServer.done;
  }
}

/**
 * Sets the stop request for `runId`, then kicks the vCPU, again every KICK_INTERVAL_MS until it has
 * left the run (a kick that lands before the worker entered it is re-sent, never lost). Resolves as
 * soon as the worker marks the run finished, without waiting for its reply message.
 */
async function stopRun(control: ControlBlock, runId: number, reason: 1 | 2, settled: Promise<unknown>): Promise<void> {
  control.store(ControlWord.StopReason, reason);
  control.store(ControlWord.StopRun, runId);
  let done = false;
  const finished = settled.then(
    () => (done = true),
    () => (done = true),
  );
  const addon = loadAddon();
  while (!done && control.load(ControlWord.FinishedRun) !== runId) {
    if (control.load(ControlWord.RunningRun) === runId) {
      addon.kickVcpu(control.vcpuId);
      await Atomics.waitAsync(control.words, ControlWord.RunningRun, runId, KICK_INTERVAL_MS).value;
    } else {
      await Promise.race([finished, new Promise((resolve) => setTimeout(resolve, KICK_INTERVAL_MS))]);
    }
  }
}

/** Stops a lane: its run in progress now, and any it had claimed just before the stop word was set. */
async function stopLane(control: ControlBlock, reason: 1 | 2, lane: Promise<unknown>): Promise<void> {
  let settled = false;
  void lane.then(
    () => (settled = true),
    () => (settled = true),
  );
  while (!settled) {
    const runId = control.load(ControlWord.RunningRun);
    if (runId !== 0) await stopRun(control, runId, reason, lane);
    else await new Promise((resolve) => setTimeout(resolve, KICK_INTERVAL_MS));
  }
}

/** The setup part of a one-shot task (what run() and runMany() send), with `control` for its stop protocol. */
function oneShotSetup(image: Uint8Array | string, options: OneShotOptions, control: ControlBlock): Omit<OneShotTask, 'kind' | 'runId'> {
  const { timeoutMs, maxExits, stopOnByte, signal: _signal, load, registers, reuse, events: _events, ringCapacity: _capacity, ...vmOptions } = options;
  return {
    options: vmOptions,
    image,
    control: control.buffer,
    reuse: reuse ?? true,
    run: { ...(timeoutMs !== undefined && { timeoutMs }), ...(maxExits !== undefined && { maxExits }), ...(stopOnByte !== undefined && { stopOnByte }) },
    ...(load && { load }),
    ...(registers && { registers: Object.fromEntries(Object.entries(registers).map(([k, v]) => [k, BigInt(v)])) }),
  };
}

function abortStopper(signal: AbortSignal, control: ControlBlock, runId: number, settled: Promise<unknown>): () => void {
  const onAbort = () => void stopRun(control, runId, 2, settled);
  if (signal.aborted) onAbort();
  else signal.addEventListener('abort', onAbort, { once: true });
  return () => signal.removeEventListener('abort', onAbort);
}

function unwrap(reply: RunReply, handlerError?: unknown): RunResult {
  if (reply.ok) return { ...reply.result, output: Buffer.from(reply.result.output) };
  const error = reviveError(reply.error);
  if (error instanceof GuestError && error.code === 'ERR_HANDLER_THREW' && handlerError !== undefined) {
    Object.defineProperty(error, 'cause', { value: handlerError, configurable: true, writable: true });
  }
  throw error;
}
