import type { Device } from '../shared/devices';
import { DATA_OFFSET, MailboxState, MailboxWord } from '../shared/mailbox';

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
    Atomics.store(this.m, MailboxWord.State, MailboxState.Closed);
    Atomics.notify(this.m, MailboxWord.State);
  }

  private async serve(): Promise<void> {
    const m = this.m;
    while (!this.closed) {
      const state = Atomics.load(m, MailboxWord.State);
      if (state === MailboxState.Abandoned) {
        // Abandoned before this side took it up: nothing to answer; the worker waits for Idle.
        Atomics.compareExchange(m, MailboxWord.State, MailboxState.Abandoned, MailboxState.Idle);
        Atomics.notify(m, MailboxWord.State);
        continue;
      }
      if (state !== MailboxState.Request) {
        await Atomics.waitAsync(m, MailboxWord.State, state).value;
        continue;
      }
      const device = this.devices[m[MailboxWord.Device]!]!;
      const data = this.bytes.subarray(0, m[MailboxWord.Size]!);
      let answer = MailboxState.Reply;
      try {
        if (m[MailboxWord.IsWrite]) device.write?.(m[MailboxWord.Offset]!, data);
        else if (device.read) device.read(m[MailboxWord.Offset]!, data);
        else data.fill(0);
      } catch (error) {
        this.onError(error);
        answer = MailboxState.Failed;
      }
      // A request the worker abandoned meanwhile (its run stopped or timed out) gets no answer.
      if (Atomics.compareExchange(m, MailboxWord.State, MailboxState.Request, answer) !== MailboxState.Request) Atomics.store(m, MailboxWord.State, MailboxState.Idle);
      Atomics.notify(m, MailboxWord.State);
    }
  }
}
