/**
 * The slow tier of devices: a device object living on the main thread, for a VM on a worker. The
 * worker's vCPU writes the access into a shared mailbox and blocks (Atomics.wait) until the main
 * thread, woken by Atomics.waitAsync, has answered. One round trip per access (~10 µs): for devices
 * that need main-thread state; prefer a device module on the worker, or a native device.
 */
import type { Device } from './devices';

const enum Slot {
  State = 0, // MailboxState
  Device = 1,
  IsWrite = 2,
  Size = 3,
  Offset = 4,
}
const enum MailboxState {
  Idle = 0,
  Request = 1,
  Reply = 2,
  Closed = 3,
  /** The main-thread handler threw: the access fails, the run ends with ERR_HANDLER_THREW. */
  Failed = 4,
}
const DATA_OFFSET = 32;

export function createMailbox(): SharedArrayBuffer {
  return new SharedArrayBuffer(DATA_OFFSET + 8);
}

/** Worker side: a Device that forwards each access to the main thread and waits for the answer. */
export function mailboxDevice(mailbox: SharedArrayBuffer, index: number): Device {
  const m = new Int32Array(mailbox, 0, DATA_OFFSET / 4);
  const bytes = new Uint8Array(mailbox, DATA_OFFSET, 8);
  const call = (isWrite: boolean, offset: number, data: Uint8Array) => {
    m[Slot.Device] = index;
    m[Slot.IsWrite] = isWrite ? 1 : 0;
    m[Slot.Size] = data.length;
    m[Slot.Offset] = offset;
    if (isWrite) bytes.set(data);
    Atomics.store(m, Slot.State, MailboxState.Request);
    Atomics.notify(m, Slot.State);
    while (Atomics.load(m, Slot.State) === MailboxState.Request) Atomics.wait(m, Slot.State, MailboxState.Request);
    const answer = Atomics.load(m, Slot.State);
    if (answer === MailboxState.Closed) throw new Error('the main thread closed the device mailbox');
    if (answer === MailboxState.Failed) {
      Atomics.store(m, Slot.State, MailboxState.Idle);
      throw new Error('the main-thread device handler threw');
    }
    if (!isWrite) data.set(bytes.subarray(0, data.length));
    Atomics.store(m, Slot.State, MailboxState.Idle);
  };
  return { read: (offset, data) => call(false, offset, data), write: (offset, data) => call(true, offset, data) };
}

/** Main side: answers the mailbox's requests with `devices` until close(). */
export class MailboxServer {
  private readonly m: Int32Array;
  private readonly bytes: Uint8Array;
  private closed = false;
  readonly done: Promise<void>;

  constructor(
    mailbox: SharedArrayBuffer,
    private readonly devices: Device[],
    /** Keeps what a handler threw: the run's ERR_HANDLER_THREW gets it as its cause. */
    private readonly onError: (error: unknown) => void,
  ) {
    this.m = new Int32Array(mailbox, 0, DATA_OFFSET / 4);
    this.bytes = new Uint8Array(mailbox, DATA_OFFSET, 8);
    this.done = this.serve();
  }

  close(): void {
    this.closed = true;
    Atomics.store(this.m, Slot.State, MailboxState.Closed);
    Atomics.notify(this.m, Slot.State);
  }

  private async serve(): Promise<void> {
    const m = this.m;
    while (!this.closed) {
      const state = Atomics.load(m, Slot.State);
      if (state !== MailboxState.Request) {
        await Atomics.waitAsync(m, Slot.State, state).value;
        continue;
      }
      const device = this.devices[m[Slot.Device]!]!;
      const data = this.bytes.subarray(0, m[Slot.Size]!);
      let answer = MailboxState.Reply;
      try {
        if (m[Slot.IsWrite]) device.write?.(m[Slot.Offset]!, data);
        else if (device.read) device.read(m[Slot.Offset]!, data);
        else data.fill(0);
      } catch (error) {
        this.onError(error);
        answer = MailboxState.Failed;
      }
      Atomics.store(m, Slot.State, answer);
      Atomics.notify(m, Slot.State);
    }
  }
}
