import type { Device } from '../shared/devices';
import { DATA_OFFSET, MailboxState, MailboxWord } from '../shared/mailbox';

/** Worker side: a Device that forwards each access to the main thread and waits for the answer. */
export function mailboxDevice(mailbox: SharedArrayBuffer, index: number): Device {
  const m = new Int32Array(mailbox, 0, DATA_OFFSET / 4);
  const bytes = new Uint8Array(mailbox, DATA_OFFSET, 8);
  const call = (isWrite: boolean, offset: number, data: Uint8Array) => {
    m[MailboxWord.Device] = index;
    m[MailboxWord.IsWrite] = isWrite ? 1 : 0;
    m[MailboxWord.Size] = data.length;
    m[MailboxWord.Offset] = offset;
    if (isWrite) bytes.set(data);
    Atomics.store(m, MailboxWord.State, MailboxState.Request);
    Atomics.notify(m, MailboxWord.State);
    while (Atomics.load(m, MailboxWord.State) === MailboxState.Request) Atomics.wait(m, MailboxWord.State, MailboxState.Request);
    const answer = Atomics.load(m, MailboxWord.State);
    if (answer === MailboxState.Closed) throw new Error('the main thread closed the device mailbox');
    if (answer === MailboxState.Failed) {
      Atomics.store(m, MailboxWord.State, MailboxState.Idle);
      throw new Error('the main-thread device handler threw');
    }
    if (!isWrite) data.set(bytes.subarray(0, data.length));
    Atomics.store(m, MailboxWord.State, MailboxState.Idle);
  };
  return { read: (offset, data) => call(false, offset, data), write: (offset, data) => call(true, offset, data) };
}
