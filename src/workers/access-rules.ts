/**
 * The rules every vCPU loop applies to a guest's MMIO/PIO access, the same on both backends: the
 * console, then the devices, then the unhandled-access policy; the stop byte ends the run after the
 * console prints it. The KVM backend's loop applies them in C++ (VcpuLoop::HandleAccess in
 * native/vcpu_loop.cc, with IsConsoleWrite named as isConsoleWrite in src/shared/platform.ts); the
 * WebAssembly backend's in JavaScript with these helpers.
 */
import { GuestError, type AccessDetails } from '../shared/errors';

/** An access no device claims, under the `error` policy. */
export function unhandledAccess(access: AccessDetails, exits: number): GuestError {
  const error = new GuestError(
    'ERR_UNHANDLED_ACCESS',
    `unhandled ${access.kind} ${access.direction} of ${access.size} byte${access.size === 1 ? '' : 's'} at 0x${access.exactAddress.toString(16)}: no device claims it`,
  );
  error.access = access;
  error.exits = exits;
  return error;
}

/** A read of a coalesced range (write-only: its writes make no exit, a read has nothing to answer it). */
export function coalescedRead(access: AccessDetails, exits: number): GuestError {
  const error = new GuestError('ERR_COALESCED_READ', `${access.kind} read of ${access.size} byte${access.size === 1 ? '' : 's'} at 0x${access.exactAddress.toString(16)}: the range is coalesced, write-only`);
  error.access = access;
  error.exits = exits;
  return error;
}

/** An MMIO access that carries no syndrome (arm64): no VMM can emulate it, on either backend. */
export function mmioNoSyndrome(): GuestError {
  return new GuestError(
    'ERR_GUEST_MMIO_NO_SYNDROME',
    'the guest made an MMIO access with no valid syndrome (a load/store with writeback, a pair, or an exclusive), which a VMM cannot emulate: use plain LDR/STR for device registers',
  );
}
