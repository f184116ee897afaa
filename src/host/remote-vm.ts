/**
 * A VM on a worker thread, as the main thread holds it: every call but stop() is a Comlink message
 * to the VM's thread (src/workers/session.ts); stop() is the shared-memory stop protocol
 * (src/shared/stop.ts); events are read from the VM's ring (src/host/event-ring-reader.ts).
 */
import type { MessagePort } from 'node:worker_threads';

import * as Comlink from 'comlink';

import { checkDoorbell, type Device, type DeviceOptions, type DeviceRange, type DoorbellHandler, type DoorbellSpec } from '../shared/devices';
import { loadAddon, type NativeDoorbellWatcher } from '../shared/addon';
import { ConfigError, VmStateError } from '../shared/errors';
import type { EventBatchView, VmEvent } from '../shared/event-batch';
import { EventRingProducer, type EventSummary } from '../shared/event-ring';
import { reviveError } from '../shared/remote-errors';
import { checkObject } from '../shared/options';
import { abortStopper, ControlBlock, ControlWord, newRunId, StopReason, stopRun, timeLimitGuard, type Unresponsive } from '../shared/stop';
import { unwrapReply, type RunReply } from '../shared/tasks';
import type { LoadOptions, RunResult } from '../shared/vm-types';
import type { NativeDeviceSpec } from '../workers/backend';
import type { VmSession } from '../workers/session';
import type { PooledRunOptions } from './pool-options';
import { EventRingReader } from './event-ring-reader';
import { MailboxServer } from './mailbox-server';

/** A VM on a worker thread. Every call but stop() is a message to its thread. */
export class RemoteVm {
  private running: { runId: number; promise: Promise<unknown> } | undefined;
  private readonly mainDevices: Device[] = [];
  private readonly doorbells: NativeDoorbellWatcher[] = [];
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
    private readonly port: MessagePort,
    private readonly control: ControlBlock,
    private readonly done: Promise<unknown>,
    private readonly ring: SharedArrayBuffer | undefined,
    mailbox: SharedArrayBuffer,
    /** Its thread, terminated when it does not answer a stop or a close within the pool's grace. */
    private readonly unresponsive: Unresponsive,
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
  async addNativeDevice(range: DeviceRange, spec: NativeDeviceSpec, mapping: DeviceOptions = {}): Promise<void> {
    return this.call((session) => session.addNativeDevice(range, spec, mapping));
  }
  /** Worker tier: a module (a Device, or a factory of one) loaded on the VM's thread; one call per exit, no allocation. */
  async addDeviceModule(range: DeviceRange, path: string, options?: unknown, mapping: DeviceOptions = {}): Promise<void> {
    return this.call((session) => session.addDeviceModule(range, path, options, mapping));
  }
  /** Main-thread tier: this object answers each access through an Atomics round trip (slow path, ~10 µs). */
  async addDevice(range: DeviceRange, device: Device, mapping: DeviceOptions = {}): Promise<void> {
    if (mapping.coalesced && device.read !== undefined) throw new ConfigError('ERR_INVALID_OPTION', `a coalesced device is write-only: the device at ${range.kind} 0x${range.base.toString(16)} has read()`);
    this.mainDevices.push(device);
    return this.call((session) => session.addMainThreadDevice(range, this.mainDevices.length - 1, mapping));
  }

  /**
   * A doorbell (see Vm.addDoorbell) whose handler runs on this (the main) thread while the guest runs:
   * libuv watches the eventfd the guest's writes ring, with no exit and no message per ring.
   */
  async addDoorbell(spec: DoorbellSpec, handler: DoorbellHandler): Promise<void> {
    checkDoorbell(spec);
    const fd = await this.call((session) => session.addDoorbell(spec));
    this.doorbells.push(new (loadAddon().DoorbellWatcher)(fd, handler));
  }

  /**
   * Raises the guest's interrupt line (see Vm.interrupt): no message, so it reaches a vCPU in the
   * middle of a run at once (KVM: natively; wasm: a shared word the CPU reads between slices and
   * that wakes its WFI).
   */
  interrupt(): void {
    if (this.closed) throw new VmStateError('ERR_VM_CLOSED', 'the VM is closed');
    const id = this.control.vcpuId;
    if (id !== 0) {
      loadAddon().interruptVcpu(id);
      return;
    }
    Atomics.store(this.control.words, ControlWord.IrqLine, 1);
    Atomics.notify(this.control.words, ControlWord.StopRun); // a WFI sleeps on the stop word
  }

  /**
   * Runs the guest on its thread until it ends, a limit, stop(), an abort, or an error (rejects typed;
   * a thread that dies under it, PoolError ERR_THREAD_EXITED; one terminated because it did not honour
   * a stop or its time limit, ERR_THREAD_TERMINATED). One run at a time: another is ERR_VM_BUSY.
   */
  async run(options: PooledRunOptions = {}): Promise<RunResult> {
    if (this.running !== undefined) throw new VmStateError('ERR_VM_BUSY', 'the VM is running: one run at a time');
    checkObject('run options', options);
    const { signal, ...runOptions } = options;
    const runId = newRunId();
    this.handlerError = undefined;
    const reply = this.call<RunReply>((session) => session.run(runId, runOptions));
    this.running = { runId, promise: reply };
    const stopper = signal ? abortStopper(signal, this.control, runId, reply, this.unresponsive) : undefined;
    const guard = timeLimitGuard(this.control, runId, runOptions.timeoutMs, reply, this.unresponsive);
    try {
      return unwrapReply(await reply, this.handlerError);
    } finally {
      stopper?.();
      guard();
      this.running = undefined;
    }
  }

  /** Stops the run in progress; resolves once the vCPU has left it. Safe before, after, and twice. */
  async stop(): Promise<void> {
    const run = this.running;
    if (run === undefined) return;
    await stopRun(this.control, run.runId, StopReason.Stop, run.promise, this.unresponsive);
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
    // A thread that does not end the session in time (stuck in a device module's code) is terminated.
    const ended = this.done.catch((error: unknown) => error);
    let timer: NodeJS.Timeout | undefined;
    const overdue = new Promise<'overdue'>((resolve) => (timer = setTimeout(() => resolve('overdue'), this.unresponsive.graceMs)));
    const first = await Promise.race([ended, overdue]);
    clearTimeout(timer);
    if (first === 'overdue') this.unresponsive.terminate();
    // A session that ended normally (no reply) answered every call sent before close(): their answers
    // are on the port. A failed one's calls were rejected when it failed.
    if ((await ended) === undefined) await Promise.allSettled(this.unanswered);
    this.abandon(new VmStateError('ERR_VM_CLOSED', 'the VM closed before its thread answered'));
    this.session[Comlink.releaseProxy]();
    this.port.close();
    this.mailboxServer.close();
    await this.mailboxServer.done;
    for (const watcher of this.doorbells) watcher.close(); // hands over rings not yet delivered
  }
}
