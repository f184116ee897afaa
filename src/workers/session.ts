/**
 * A pooled VM's session on its thread: the VM driven over Comlink (VmSession, what RemoteVm calls)
 * until close(), with the three device tiers wired to it.
 */
import { AsyncLocalStorage } from 'node:async_hooks';

import * as Comlink from 'comlink';
import nodeEndpoint from 'comlink/dist/umd/node-adapter';

import type { NativeDeviceSpec } from './backend';
import { ConfigError, GuestError } from '../shared/errors';
import { ControlBlock, runControlled } from '../shared/stop';
import type { Device, DeviceOptions, DeviceRange, DoorbellSpec } from '../shared/devices';
import { EventRingProducer } from '../shared/event-ring';
import { serializeError } from '../shared/remote-errors';
import type { RunReply, SessionTask, Shared } from '../shared/tasks';
import type { LoadOptions, RunOptions } from '../shared/vm-types';
import { mailboxDevice } from './mailbox-device';
import { openVm } from './one-shot';
import type { Vm } from './vm';

/** What a device module exports: a Device, or a factory taking the options given to addDeviceModule. */
type DeviceModule = Device | ((options: unknown) => Device);

/** The session whose VM's code (its device modules) runs in the current async context. */
const sessionContext = new AsyncLocalStorage<VmSession>();

/**
 * What a thread does with an error no call awaits (process 'uncaughtException'/'unhandledRejection'):
 * the session whose device module threw it (its timers and promises carry its async context) ends
 * with GuestError ERR_HANDLER_THREW. Nothing else on the thread is touched.
 */
export function failSessionOf(error: unknown): void {
  const session = sessionContext.getStore();
  if (session !== undefined) session.fail(error);
  else process.stderr.write(`femtovm: an error no VM owns, on a VM's thread (left running): ${String(error)}\n`);
}

/** The API a session exposes over Comlink. */
export class VmSession {
  private readonly closed: Promise<GuestError | undefined>;
  private close_!: (failure?: GuestError) => void;

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
  addNativeDevice(range: DeviceRange, spec: NativeDeviceSpec, mapping: DeviceOptions): void {
    this.vm.addNativeDevice(range, spec, mapping);
  }
  /** The worker tier: a module loaded on this thread; its device is called with no per-exit allocation. */
  addDeviceModule(range: DeviceRange, path: string, options: unknown, mapping: DeviceOptions): void {
    sessionContext.run(this, () => {
      let device: Device;
      try {
        if (typeof path !== 'string') throw new TypeError(`a module path is a string, not ${typeof path}`);
        const exported = require(path) as { default?: DeviceModule } & DeviceModule;
        const made = exported.default ?? exported;
        device = typeof made === 'function' ? made(options) : made;
      } catch (error) {
        throw new ConfigError('ERR_INVALID_OPTION', `device module ${String(path)} could not be loaded: ${String(error)}`, { cause: error });
      }
      this.vm.addDevice(range, device, mapping);
    });
  }
  /** The main-thread tier: device `index` of the main side's list, reached through the mailbox. */
  addMainThreadDevice(range: DeviceRange, index: number, mapping: DeviceOptions): void {
    if (this.shared.mailbox === undefined) throw new Error('no mailbox for main-thread devices');
    const device = mailboxDevice(this.shared.mailbox, index, this.vm.watch);
    this.vm.addDevice(range, mapping.coalesced ? { write: device.write! } : device, mapping);
  }
  /** A doorbell whose eventfd the main thread watches: returns the fd. */
  addDoorbell(spec: DoorbellSpec): number {
    return this.vm.doorbellFd(spec);
  }
  run(runId: number, options: RunOptions): RunReply {
    return sessionContext.run(this, () => runControlled(this.vm, new ControlBlock(this.shared.control), runId, options));
  }
  close(): void {
    this.close_();
  }
  /** Ends the session with what one of its device modules threw where no call awaited it. */
  fail(cause: unknown): void {
    this.close_(new GuestError('ERR_HANDLER_THREW', `a device module of this VM threw outside any access: ${String(cause)}`, { cause }));
  }
  /** Resolves when closed: with the failure that ended it, if one did. */
  whenClosed(): Promise<GuestError | undefined> {
    return this.closed;
  }
}

/** A session task: the VM lives until RemoteVm.close(); a failure to create it is the task's reply. */
export async function runSession(task: SessionTask): Promise<RunReply | undefined> {
  const ring = task.ring === undefined ? undefined : new EventRingProducer(task.ring);
  let vm: Vm | undefined;
  try {
    vm = openVm(task.options, task, new ControlBlock(task.control));
    const session = new VmSession(vm, task);
    Comlink.expose(session, nodeEndpoint(task.port as never));
    const failure = await session.whenClosed();
    return failure === undefined ? undefined : { ok: false, error: serializeError(failure) };
  } catch (error) {
    return { ok: false, error: serializeError(error) }; // a typed error survives the thread boundary
  } finally {
    vm?.close();
    ring?.close();
    task.port.close();
  }
}
