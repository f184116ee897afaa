/**
 * The worker side of a pooled VM: a Piscina task that owns one VM on this thread for its whole life.
 * Its vCPU loop is the VM's own (src/host/kvm-backend.ts over native/vcpu_loop.cc); this file adds
 * what crosses threads: the Comlink endpoint, the stop protocol, the event ring and the device tiers.
 */
import { createHash } from 'node:crypto';
import type { MessagePort } from 'node:worker_threads';

import * as Comlink from 'comlink';
import nodeEndpoint from 'comlink/dist/umd/node-adapter';

import type { NativeDeviceSpec } from '../host/backend';
import { ControlBlock, ControlWord, SwarmWord } from '../host/control-block';
import type { Device, DeviceRange } from '../host/devices';
import { EventRingProducer } from '../host/event-ring';
import { mailboxDevice } from '../host/main-thread-device';
import { installErrorTransfer, serializeError, type SerializedError } from '../host/remote-errors';
import { countFailure, countRun, emptyTally, type SwarmTally } from '../host/swarm-tally';
import type { LoadedImage } from '../host/image';
import type { FreshKvmVms } from '../host/kvm-backend';
import { createVm, type LoadOptions, type RunOptions, type RunResult, type Vm, type VmOptions } from '../host/vm';

installErrorTransfer();

interface Shared {
  control: SharedArrayBuffer;
  ring?: SharedArrayBuffer;
  mailbox?: SharedArrayBuffer;
}

/** A VM driven over Comlink until close(). */
export interface SessionTask extends Shared {
  kind: 'session';
  port: MessagePort;
  options: VmOptions;
}

/** Create, load, run, close, in one task: the fast path for many tiny VMs. */
export interface OneShotTask extends Shared {
  kind: 'oneshot';
  options: VmOptions;
  image: Uint8Array | string;
  load?: LoadOptions;
  registers?: Record<string, bigint>;
  run: RunOptions;
  runId: number;
  /** Serve it from a warm VM of the same setup on this thread, reset to its snapshot (default). */
  reuse: boolean;
}

/** What a one-shot run is set up from, whichever task carries it. */
type OneShotSetup = Omit<OneShotTask, 'kind' | 'runId'>;

/**
 * Runs of one setup back to back on this thread until the swarm's count is claimed or it is stopped:
 * each lane claims the next run from words shared by all the swarm's lanes (SwarmWord), so no
 * message crosses threads per VM, only the lane's tally at the end.
 */
export interface LaneTask extends OneShotSetup {
  kind: 'lane';
  swarm: SharedArrayBuffer;
  count: number;
}

export type AgentTask = SessionTask | OneShotTask | LaneTask;
export type RunReply = { ok: true; result: RunResult } | { ok: false; error: SerializedError };

/** What a device module exports: a Device, or a factory taking the options given to addDeviceModule. */
type DeviceModule = Device | ((options: unknown) => Device);

/** The API a session exposes over Comlink. */
export class VmSession {
  private readonly closed: Promise<void>;
  private close_!: () => void;

  constructor(
    private readonly vm: Vm,
    private readonly shared: Shared,
  ) {
    this.closed = new Promise((resolve) => (this.close_ = resolve));
  }

  load(image: Uint8Array | string, options: LoadOptions = {}): void {
    this.vm.load(image, options);
  }
  setRegister(name: string, value: bigint | number): void {
    this.vm.setRegister(name, value);
  }
  getRegister(name: string): bigint {
    return this.vm.getRegister(name);
  }
  registers(): Record<string, bigint> {
    return this.vm.registers();
  }
  readMemory(guestAddr: number, length: number): Uint8Array {
    return this.vm.readMemory(guestAddr, length);
  }
  writeMemory(guestAddr: number, bytes: Uint8Array): void {
    this.vm.writeMemory(guestAddr, bytes);
  }
  addNativeDevice(range: DeviceRange, spec: NativeDeviceSpec): void {
    this.vm.addNativeDevice(range, spec);
  }
  /** The worker tier: a module loaded on this thread; its device is called with no per-exit allocation. */
  addDeviceModule(range: DeviceRange, path: string, options?: unknown): void {
    const exported = require(path) as { default?: DeviceModule } & DeviceModule;
    const made = exported.default ?? exported;
    this.vm.addDevice(range, typeof made === 'function' ? made(options) : made);
  }
  /** The main-thread tier: device `index` of the main side's list, reached through the mailbox. */
  addMainThreadDevice(range: DeviceRange, index: number): void {
    if (this.shared.mailbox === undefined) throw new Error('no mailbox for main-thread devices');
    this.vm.addDevice(range, mailboxDevice(this.shared.mailbox, index));
  }
  run(runId: number, options: RunOptions): RunReply {
    return runControlled(this.vm, new ControlBlock(this.shared.control), runId, options);
  }
  close(): void {
    this.close_();
  }
  whenClosed(): Promise<void> {
    return this.closed;
  }
}

/** A run under the stop protocol: a stop asked before the vCPU got here is honoured, not lost. */
function runControlled(vm: Pick<Vm, 'backend' | 'arch' | 'run'>, control: ControlBlock, runId: number, options: RunOptions): RunReply {
  control.store(ControlWord.RunningRun, runId);
  try {
    const stopped = () => control.load(ControlWord.StopRun) === runId;
    const result: RunResult = stopped()
      ? { backend: vm.backend, arch: vm.arch, outcome: 'stopped', exits: 0, output: Buffer.alloc(0), durationMs: 0 }
      : vm.run(options, { words: control.words, index: ControlWord.StopRun, value: runId });
    if (result.outcome === 'stopped' && stopped() && control.load(ControlWord.StopReason) === 2) result.outcome = 'aborted';
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

/**
 * Warm VMs on this thread, by setup (options, image, load address, registers): each was snapshotted
 * right after setup, so a reset makes it indistinguishable from a fresh one. At most WARM_LIMIT are
 * kept; the least recently used goes first. A VM whose run ended in an error is never kept.
 */
const WARM_LIMIT = 8;
const warm = new Map<string, Vm>();

/** The warm-VM key of a setup, or undefined when its VMs are not kept (no reuse, or an event ring). */
function setupKey(task: OneShotSetup): string | undefined {
  if (!task.reuse || task.ring !== undefined) return undefined;
  const image = typeof task.image === 'string' ? `path:${task.image}` : `bytes:${createHash('sha256').update(task.image).digest('hex')}`;
  return JSON.stringify([task.options, image, task.load ?? {}, Object.entries(task.registers ?? {}).map(([k, v]) => [k, String(v)])]);
}

function takeWarm(key: string, control: ControlBlock): Vm | undefined {
  const vm = warm.get(key);
  if (vm === undefined) return undefined;
  warm.delete(key);
  vm.restore();
  control.vcpuId = vm.vcpuId;
  return vm;
}

function keepWarm(key: string, vm: Vm): void {
  warm.set(key, vm);
  for (const [oldest, old] of warm) {
    if (warm.size <= WARM_LIMIT) break;
    warm.delete(oldest);
    old.close();
  }
}

/**
 * A one-shot run: a warm VM reset to its snapshot, or a new one set up (and snapshotted to reuse).
 * `setUp` sees a new VM once it is set up, before it runs.
 */
function runOneShot(task: OneShotSetup, runId: number, key: string | undefined, control = new ControlBlock(task.control), setUp?: (vm: Vm, loaded: LoadedImage) => void): RunReply {
  let vm = key === undefined ? undefined : takeWarm(key, control);
  let reply: RunReply | undefined;
  try {
    if (vm === undefined) {
      vm = openVm(task.options, task, control);
      const loaded = vm.load(task.image, task.load ?? {});
      for (const [name, value] of Object.entries(task.registers ?? {})) vm.setRegister(name, value);
      if (key !== undefined) vm.snapshot();
      setUp?.(vm, loaded);
    }
    reply = runControlled(vm, control, runId, task.run);
    return reply;
  } catch (error) {
    return { ok: false, error: serializeError(error) }; // a typed error survives the thread boundary
  } finally {
    if (vm !== undefined && key !== undefined && reply?.ok === true) keepWarm(key, vm);
    else vm?.close();
  }
}

function openVm(options: VmOptions, shared: Shared, control: ControlBlock): Vm {
  const vm = createVm(options);
  control.vcpuId = vm.vcpuId;
  if (shared.ring !== undefined) vm.attachEventRing(shared.ring);
  return vm;
}

/**
 * A swarm's lane: runs claimed one by one, each counted in the shared words as it ends. With
 * `reuse: false` on KVM, the first run sets a VM up as usual (which checks the setup) and every
 * later one is a fresh VM made natively from it (FreshKvmVms): no JavaScript object per VM.
 */
function runLane(task: LaneTask): SwarmTally {
  const words = new Int32Array(task.swarm);
  const control = new ControlBlock(task.control);
  const key = setupKey(task);
  const tally = emptyTally();
  let fresh: FreshKvmVms | undefined;
  const setUp = key === undefined && task.ring === undefined ? (vm: Vm, loaded: LoadedImage) => void (fresh ??= vm.freshVms(loaded, task.registers ?? {}, control.vcpuIdSlot)) : undefined;
  while (Atomics.load(words, SwarmWord.Stop) === 0) {
    const index = Atomics.add(words, SwarmWord.Claimed, 1);
    if (index >= task.count) break;
    const started = performance.now();
    const reply = fresh !== undefined ? runControlled(fresh, control, index + 1, task.run) : runOneShot(task, index + 1, key, control, setUp);
    const ms = performance.now() - started;
    if (reply.ok) countRun(tally, reply.result.outcome, reply.result.exits, ms);
    else {
      countFailure(tally, reply.error.code ?? 'ERR_UNKNOWN', reply.error.message, ms);
      Atomics.add(words, SwarmWord.Failed, 1);
    }
    Atomics.add(words, SwarmWord.Done, 1);
  }
  return tally;
}

export default async function vcpuAgent(task: AgentTask): Promise<RunReply | SwarmTally | undefined> {
  if (task.kind === 'oneshot') return runOneShot(task, task.runId, setupKey(task));
  if (task.kind === 'lane') return runLane(task);
  const ring = task.ring === undefined ? undefined : new EventRingProducer(task.ring);
  let vm: Vm | undefined;
  try {
    vm = openVm(task.options, task, new ControlBlock(task.control));
    const session = new VmSession(vm, task);
    Comlink.expose(session, nodeEndpoint(task.port as never));
    await session.whenClosed();
    return undefined;
  } catch (error) {
    return { ok: false, error: serializeError(error) }; // a typed error survives the thread boundary
  } finally {
    vm?.close();
    ring?.close();
    task.port.close();
  }
}
