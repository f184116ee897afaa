/**
 * The slow tier of devices: a device object living on the main thread, for a VM on a worker. The
 * worker's vCPU writes the access into a shared mailbox and blocks (Atomics.wait) until the main
 * thread, woken by Atomics.waitAsync, has answered. One round trip per access (~10 µs): for devices
 * that need main-thread state; prefer a device module on the worker, or a native device.
 * This file is the mailbox's layout; its two ends are src/workers/mailbox-device.ts (the vCPU's
 * thread) and src/host/mailbox-server.ts (the main thread).
 */
export const enum MailboxWord {
  State = 0, // MailboxState
  Device = 1,
  IsWrite = 2,
  Size = 3,
  Offset = 4,
}
export const enum MailboxState {
  Idle = 0,
  Request = 1,
  Reply = 2,
  Closed = 3,
  /** The main-thread handler threw: the access fails, the run ends with ERR_HANDLER_THREW. */
  Failed = 4,
  /**
   * The worker stopped waiting for the answer (its run was stopped or timed out): the main side drops
   * the answer and sets Idle; the worker waits for Idle before its next request.
   */
  Abandoned = 5,
}
export const DATA_OFFSET = 32;

export function createMailbox(): SharedArrayBuffer {
  return new SharedArrayBuffer(DATA_OFFSET + 8);
}
