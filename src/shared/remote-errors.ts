/**
 * Errors across the worker boundary. Comlink's default serializes a thrown Error as name, message and
 * stack only; femtovm's errors keep their class, `code` and details (registers, output, access).
 */
import * as Comlink from 'comlink';

import { ErrorCodes, FemtovmError, fromNative, GuestError, KvmError } from './errors';

interface SerializedError {
  message: string;
  name: string;
  stack?: string;
  code?: string;
  details?: Record<string, unknown>;
}

const known = new Set<string>(Object.values(ErrorCodes).flat());

function serialize(error: unknown): SerializedError {
  if (!(error instanceof Error)) return { message: String(error), name: 'Error' };
  const out: SerializedError = { message: error.message, name: error.name, ...(error.stack !== undefined && { stack: error.stack }) };
  if (error instanceof FemtovmError) {
    out.code = error.code;
    const { registers, output, exits, access, errno, syscall } = error as GuestError & KvmError;
    out.details = { registers, output, exits, access, errno, syscall };
  }
  return out;
}

function revive(s: SerializedError): Error {
  if (s.code !== undefined && known.has(s.code)) {
    const error = fromNative(Object.assign(new Error(s.message), { code: s.code })) as FemtovmError;
    for (const [k, v] of Object.entries(s.details ?? {})) if (v !== undefined) (error as unknown as Record<string, unknown>)[k] = k === 'output' ? Buffer.from(v as Uint8Array) : v;
    return error;
  }
  return Object.assign(new Error(s.message), { name: s.name });
}

/** Installs the handler; call once per thread, on both sides. */
export function installErrorTransfer(): void {
  const base = Comlink.transferHandlers.get('throw')!;
  Comlink.transferHandlers.set('throw', {
    canHandle: base.canHandle,
    serialize: ({ value }: { value: unknown }) => [serialize(value), []],
    deserialize: (s: SerializedError) => {
      throw revive(s);
    },
  } as Comlink.TransferHandler<unknown, SerializedError>);
}

export { revive as reviveError, serialize as serializeError, type SerializedError };
