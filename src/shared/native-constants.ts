/**
 * The TypeScript half of every constant shared with the C++ core (the exit record's size and data
 * offset are read from the addon itself): exit reasons and exit-record fields here, the ring's layout in event-ring.ts, event kinds in event-batch.ts, access kinds in devices.ts,
 * the console in platform.ts. The addon exports the C++ values (native/native_constants.cc) and
 * loadAddon() checks them against these, so a value changed on one side only fails at load, loudly,
 * instead of misreading exit records and rings.
 */
import { accessKindCode } from './devices';
import { eventKindCode, RECORD_BYTES } from './event-batch';
import { HEADER_BYTES, RingStat, RingWord, STATS_OFFSET } from './event-ring';
import { CONSOLE_MMIO, CONSOLE_PORT, INTERRUPT_ACK } from './platform';

/** Why the native run loop returned; mirrors RunExit in native/vcpu_loop.h. */
export enum NativeExit {
  UserAccess = 1,
  Halted = 2,
  SystemOff = 3,
  SystemReset = 4,
  Stopped = 5,
  Timeout = 6,
  MaxExits = 7,
  StopByte = 8,
  Unhandled = 9,
  GuestError = 10,
  RingFull = 11,
  RingWake = 12,
  CoalescedRead = 13,
}

/** Indices into the exit record's Float64Array; mirrors ExitField in native/vcpu_loop.h. */
export enum ExitField {
  Kind = 0,
  Address = 1,
  Size = 2,
  IsWrite = 3,
  Count = 4,
  Exits = 5,
  ExitReason = 6,
  ErrorDetail = 7,
  Errno = 8,
  /** A one-shot run that failed: the PC, read before its VM went. */
  Pc = 9,
  /** The address's low and high 32 bits: exact where Address (a double) is not, from 2^53. */
  AddressLo = 10,
  AddressHi = 11,
}

/** Devices the native loop answers itself; mirrors NativeDeviceType in native/vcpu_loop.h. */
export const NativeDeviceType = { constant: 1, counter: 2 } as const;

/** The addon's `constants`: tables of named numbers. */
export type NativeConstants = Record<string, Record<string, number>>;

/** Enum objects carry reverse mappings (number → name): only the named numbers are constants. */
function named(table: object): Record<string, number> {
  return Object.fromEntries(Object.entries(table).filter(([name, value]) => typeof value === 'number' && Number.isNaN(Number(name))));
}

/** Throws when the addon at `path` and this build disagree on any shared constant (a stale addon, or a change made on one side only). */
export function checkNativeConstants(native: NativeConstants | undefined, path: string): void {
  const ours: NativeConstants = {
    RunExit: named(NativeExit),
    ExitField: named(ExitField),
    AccessKind: accessKindCode,
    NativeDeviceType,
    Console: { mmio: CONSOLE_MMIO, port: CONSOLE_PORT },
    Interrupt: { ack: INTERRUPT_ACK },
    RingWord: named(RingWord),
    RingLayout: { headerBytes: HEADER_BYTES, recordBytes: RECORD_BYTES, statsOffset: STATS_OFFSET },
    RingStat: named(RingStat),
    EventKind: { mmioRead: eventKindCode.mmio.read, mmioWrite: eventKindCode.mmio.write, pioRead: eventKindCode.pio.read, pioWrite: eventKindCode.pio.write },
  };
  const differences: string[] = [];
  for (const [table, values] of Object.entries(ours)) {
    const theirs = native?.[table] ?? {};
    for (const name of new Set([...Object.keys(values), ...Object.keys(theirs)])) {
      if (values[name] !== theirs[name]) differences.push(`${table}.${name}: ${theirs[name] ?? 'missing'} in the addon, ${values[name] ?? 'missing'} here`);
    }
  }
  if (differences.length > 0) {
    throw new Error(`femtovm: the native addon ${path} does not match this build (rebuild it: npm install): ${differences.join('; ')}`);
  }
}
