/**
 * What the main thread sends a VM's thread (a Piscina task) and what comes back: the one contract
 * between src/host/ (VmPool, RemoteVm) and src/workers/vcpu-agent.ts.
 */
import type { MessagePort } from 'node:worker_threads';

import { GuestError } from './errors';
import { reviveError, type SerializedError } from './remote-errors';
import type { LoadOptions, MemoryRead, MemoryWrite, RunOptions, RunResult, VmOptions } from './vm-types';

export interface Shared {
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
  /** Written after setup or reset, before the run: not part of the warm-VM key. */
  writes?: MemoryWrite[];
  /** Read after a run that ended without error, into the result's `reads`. */
  reads?: MemoryRead[];
  run: RunOptions;
  runId: number;
  /** Serve it from a warm VM of the same setup on this thread, reset to its snapshot (default). */
  reuse: boolean;
  /** What this thread's warm VMs may cost in all, bytes (PoolOptions.warmBytes per thread). */
  warmBytes: number;
}

/** What a one-shot run is set up from, whichever task carries it. */
export type OneShotSetup = Omit<OneShotTask, 'kind' | 'runId'>;

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

/** The result a reply carries, or its error revived (typed); a main-thread device's own error as its cause. */
export function unwrapReply(reply: RunReply, handlerError?: unknown): RunResult {
  if (reply.ok) return { ...reply.result, output: Buffer.from(reply.result.output) };
  const error = reviveError(reply.error);
  if (error instanceof GuestError && error.code === 'ERR_HANDLER_THREW' && handlerError !== undefined) {
    Object.defineProperty(error, 'cause', { value: handlerError, configurable: true, writable: true });
  }
  throw error;
}
