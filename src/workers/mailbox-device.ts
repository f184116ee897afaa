import { RunInterrupted, type Device } from '../shared/devices';
import { DATA_OFFSET, MailboxState, MailboxWord } from '../shared/mailbox';
import type { RunWatch } from './run-watch';

/**
 * Worker side: a Device that forwards each access to the main thread and waits for the answer, as
 * long as the run may go on (`watch`): a slow or stuck main-thread handler cannot hold a run past its
 * time limit or a stop. Such a wait abandons the request and ends the run (RunInterrupted).
 */
export function mailboxDevice(mailbox: SharedArrayBuffer, index: number, watch: RunWatch): Device {
  const m = new Int32Array(mailbox, 0, DATA_OFFSET / 4);
  const bytes = new Uint8Array(mailbox, DATA_OFFSET, 8);
  const wait = (state: MailboxState) => {
    const why = watch.waitWhile(m, MailboxWord.State, state);
    if (why !== undefined) throw new RunInterrupted(why);
  };
  const call = (isWrite: boolean, offset: number, data: Uint8Array) => {
    if (Atomics.load(m, MailboxWord.State) === MailboxState.Abandoned) wait(MailboxState.Abandoned); // an earlier request still being served
    m[MailboxWord.Device] = index;
    m[MailboxWord.IsWrite] = isWrite ? 1 : 0;
    m[MailboxWord.Size] = data.length;
    m[MailboxWord.Offset] = offset;
    if (isWrite) bytes.set(data);
    Atomics.store(m, MailboxWord.State, MailboxState.Request);
    Atomics.notify(m, MailboxWord.State);
    try {
      wait(MailboxState.Request);
    } catch (interrupted) {
      // Unless the answer came just now, the main side finds the request abandoned and drops its answer.
      if (Atomics.compareExchange(m, MailboxWord.State, MailboxState.Request, MailboxState.Abandoned) === MailboxState.Request) throw interrupted;
    }
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
