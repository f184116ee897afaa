/**
 * What travels through Redis between a RunQueue and its workers: the job's data (the image's hash
 * and the run's setup, plain JSON), the result (a RunResult with its console output in base64), a
 * failure (femtovm's `code: message`, revived as the same typed error), and the names of the keys
 * and channel both sides use.
 */
import type { BackendKind, Outcome } from '../shared/vm-types';
import { fromNative, FemtovmError, QueueError } from '../shared/errors';
import type { GuestArch } from '../shared/platform';
import type { LoadOptions, RunOptions, RunResult, VmOptions } from '../shared/vm-types';

export interface QueueJobData {
  /** SHA-256 of the guest image (hex), stored by the client in the image store. */
  image: string;
  /** The run() or runMany() call the job belongs to: cancellation names it. */
  batch: string;
  vm: VmOptions;
  load?: LoadOptions;
  run: RunOptions;
  /** Register values as decimal strings (JSON has no bigint). */
  registers?: Record<string, string>;
  reuse?: boolean;
  /** Console bytes kept in the result; the rest is counted in `outputBytes`. */
  maxOutputBytes: number;
}

export interface QueueJobResult {
  backend: BackendKind;
  arch: GuestArch;
  outcome: Outcome;
  exits: number;
  /** The console output, base64, cut at the job's maxOutputBytes. */
  output: string;
  /** How many bytes the guest printed in all. */
  outputBytes: number;
  /** Bytes printed past the job's (or the run's) output cap, as RunResult says them. */
  outputTruncated: boolean;
  outputDropped: number;
  durationMs: number;
  /** The worker that ran it (host:pid). */
  worker: string;
}

/** A RunResult as VmPool.run gives it, plus where the job ran. */
export interface QueueRunResult extends RunResult {
  jobId: string;
  worker: string;
  /** Bytes the guest printed in all: more than `output.length` when the output was cut. */
  outputBytes: number;
}

export const DEFAULT_QUEUE = 'femtovm';

/** Images live under their hash, shared by every queue on the same Redis. */
export const imageKey = (hash: string): string => `femtovm:image:${hash}`;
/** Cancel messages for a queue's jobs: `{ batch }`, to every worker of the queue. */
export const cancelChannel = (queue: string): string => `femtovm:cancel:${queue}`;

export function encodeResult(result: RunResult, worker: string, maxOutputBytes: number): QueueJobResult {
  return {
    backend: result.backend,
    arch: result.arch,
    outcome: result.outcome,
    exits: result.exits,
    output: result.output.subarray(0, maxOutputBytes).toString('base64'),
    outputBytes: result.output.length + result.outputDropped,
    outputTruncated: result.outputTruncated || result.output.length > maxOutputBytes,
    outputDropped: result.outputDropped + Math.max(0, result.output.length - maxOutputBytes),
    durationMs: result.durationMs,
    worker,
  };
}

export function decodeResult(jobId: string, result: QueueJobResult): QueueRunResult {
  const { output, ...rest } = result;
  return { ...rest, output: Buffer.from(output, 'base64'), jobId };
}

/** A job's failedReason for a femtovm error: its code first, so the client revives its class. */
export function failureReason(error: FemtovmError): string {
  return `${error.code}: ${error.message}`;
}

/**
 * The typed error for a failed job: the class and code the worker's run threw, or ERR_QUEUE_JOB_FAILED
 * for a failure that was not femtovm's (BullMQ's "job stalled more than allowable limit", ...).
 */
export function failureError(jobId: string, reason: string): FemtovmError {
  const coded = /^(ERR_[A-Z0-9_]+): ([\s\S]*)$/.exec(reason);
  const typed = coded && fromNative(Object.assign(new Error(coded[2]), { code: coded[1] }));
  if (typed instanceof FemtovmError) return typed;
  return new QueueError('ERR_QUEUE_JOB_FAILED', `job ${jobId} failed: ${reason}`);
}
