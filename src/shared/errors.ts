/**
 * Typed errors. Every error femtovm throws is a `FemtovmError` subclass with a stable `code`, like
 * Node's own errors: match on `code`, not on the message.
 */

/** Every code femtovm uses, grouped by the class that carries it. */
export const ErrorCodes = {
  kvm: ['ERR_KVM_MISSING', 'ERR_KVM_PERMISSION', 'ERR_KVM_API_VERSION', 'ERR_KVM_CAPABILITY', 'ERR_KVM_CREATE', 'ERR_KVM_REGISTER', 'ERR_MEMORY'],
  backend: ['ERR_BACKEND_UNAVAILABLE', 'ERR_ARCH_UNSUPPORTED', 'ERR_JIT_V8_FLAGS'],
  image: ['ERR_IMAGE_NOT_FOUND', 'ERR_IMAGE_NOT_REGULAR', 'ERR_IMAGE_EMPTY', 'ERR_IMAGE_TOO_LARGE', 'ERR_IMAGE_OUT_OF_RANGE', 'ERR_ELF_CLASS', 'ERR_ELF_MACHINE', 'ERR_ELF_ENDIAN', 'ERR_ELF_TRUNCATED', 'ERR_ELF_INVALID', 'ERR_GUEST_IO_HEADER'],
  config: ['ERR_INVALID_OPTION', 'ERR_MEM_SIZE', 'ERR_REGION_OVERLAP', 'ERR_ADDRESS_OUT_OF_RANGE', 'ERR_UNKNOWN_REGISTER', 'ERR_DEVICE_OVERLAP', 'ERR_EVENT_INDEX', 'ERR_INPUT_TOO_LARGE'],
  state: ['ERR_VM_CLOSED', 'ERR_VM_BUSY', 'ERR_NO_SNAPSHOT', 'ERR_EVENTS_RELEASED'],
  pool: ['ERR_POOL_FULL', 'ERR_POOL_CLOSED', 'ERR_THREAD_EXITED', 'ERR_THREAD_TERMINATED'],
  queue: ['ERR_QUEUE_IMAGE_MISSING', 'ERR_QUEUE_IMAGE_TOO_LARGE', 'ERR_QUEUE_JOB_FAILED', 'ERR_QUEUE_UNREACHABLE', 'ERR_QUEUE_CLOSED'],
  guest: ['ERR_GUEST_FAIL_ENTRY', 'ERR_GUEST_INTERNAL_ERROR', 'ERR_GUEST_SHUTDOWN', 'ERR_GUEST_MMIO_NO_SYNDROME', 'ERR_GUEST_UNSUPPORTED_INSN', 'ERR_GUEST_EXIT_UNKNOWN', 'ERR_KVM_RUN', 'ERR_UNHANDLED_ACCESS', 'ERR_HANDLER_THREW', 'ERR_COALESCED_READ', 'ERR_GUEST_MMU_UNSUPPORTED', 'ERR_GUEST_RESULT_INVALID'],
} as const;

export type KvmErrorCode = (typeof ErrorCodes.kvm)[number];
export type BackendErrorCode = (typeof ErrorCodes.backend)[number];
export type ImageErrorCode = (typeof ErrorCodes.image)[number];
export type ConfigErrorCode = (typeof ErrorCodes.config)[number];
export type StateErrorCode = (typeof ErrorCodes.state)[number];
export type PoolErrorCode = (typeof ErrorCodes.pool)[number];
export type QueueErrorCode = (typeof ErrorCodes.queue)[number];
export type GuestErrorCode = (typeof ErrorCodes.guest)[number];
export type ErrorCode = KvmErrorCode | BackendErrorCode | ImageErrorCode | ConfigErrorCode | StateErrorCode | PoolErrorCode | QueueErrorCode | GuestErrorCode;

export class FemtovmError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
  override get name(): string {
    return this.constructor.name;
  }
}

/** /dev/kvm is missing or unusable, or a KVM call failed (`errno`, `syscall` say which). */
export class KvmError extends FemtovmError {
  declare readonly code: KvmErrorCode;
  errno?: number;
  syscall?: string;
}

/** The requested backend cannot run here, or not this guest arch. */
export class BackendUnavailableError extends FemtovmError {
  declare readonly code: BackendErrorCode;
}

/** A guest image that cannot be loaded: missing, malformed, or not fitting in guest RAM. */
export class ImageError extends FemtovmError {
  declare readonly code: ImageErrorCode;
}

/** An option, address, register or device the VM cannot accept. */
export class ConfigError extends FemtovmError {
  declare readonly code: ConfigErrorCode;
}

/** The VM is closed, or already running. */
export class VmStateError extends FemtovmError {
  declare readonly code: StateErrorCode;
}

/** A VmPool that cannot take a VM: its queue is full, or it is closed. */
export class PoolError extends FemtovmError {
  declare readonly code: PoolErrorCode;
}

/**
 * A run through a RunQueue that went wrong on the way rather than in the guest: its image is not in
 * Redis (expired, or never stored), too large to store, the job failed for a reason that is not
 * femtovm's own (stalled too often, a worker crash), Redis does not answer at start, or the queue
 * is closed.
 */
export class QueueError extends FemtovmError {
  declare readonly code: QueueErrorCode;
}

/** What a guest access looked like when it went wrong. */
export interface AccessDetails {
  kind: 'mmio' | 'pio';
  /** The guest address or port (a double: inexact from 2^53; `exactAddress` always is). */
  address: number;
  exactAddress: bigint;
  size: number;
  direction: 'read' | 'write';
}

/**
 * The guest did something the VM cannot go on from: a hardware entry failure, an internal KVM
 * error, a triple fault, an access no device claims, a device handler that threw. Carries the
 * registers at the time, the output so far and the exit count.
 */
export class GuestError extends FemtovmError {
  declare readonly code: GuestErrorCode;
  registers: Record<string, bigint> = {};
  output: Buffer = Buffer.alloc(0);
  exits = 0;
  access?: AccessDetails;
}

const classByCode = new Map<string, new (code: never, message: string) => FemtovmError>();
for (const code of ErrorCodes.kvm) classByCode.set(code, KvmError);
for (const code of ErrorCodes.backend) classByCode.set(code, BackendUnavailableError);
for (const code of ErrorCodes.image) classByCode.set(code, ImageError);
for (const code of ErrorCodes.config) classByCode.set(code, ConfigError);
for (const code of ErrorCodes.state) classByCode.set(code, VmStateError);
for (const code of ErrorCodes.pool) classByCode.set(code, PoolError);
for (const code of ErrorCodes.queue) classByCode.set(code, QueueError);
for (const code of ErrorCodes.guest) classByCode.set(code, GuestError);

/** Turns an error thrown by the native core (a plain Error with `code`) into its typed class. */
export function fromNative(error: unknown): unknown {
  if (!(error instanceof Error)) return error;
  const native = error as Error & { code?: string; errno?: number; syscall?: string };
  const Class = native.code === undefined ? undefined : classByCode.get(native.code);
  if (Class === undefined) return error;
  const typed = new Class(native.code as never, native.message);
  if (typed instanceof KvmError) {
    if (native.errno !== undefined) typed.errno = native.errno;
    if (native.syscall !== undefined) typed.syscall = native.syscall;
  }
  return typed;
}

/** Names where a failed run stopped, in its message: ` (pc 0x…)`. */
export function withPc(error: GuestError, pc: bigint): void {
  error.message += ` (pc 0x${pc.toString(16)})`;
}
