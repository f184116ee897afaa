/**
 * One-shot runs (VmPool.run and each run of a lane): a VM set up, run and closed in one task, served
 * from a warm VM of the same setup when there is one.
 */
import { createHash } from 'node:crypto';

import { ControlBlock, runControlled } from '../shared/stop';
import type { LoadedImage } from '../shared/image';
import { serializeError } from '../shared/remote-errors';
import type { OneShotSetup, RunReply, Shared } from '../shared/tasks';
import type { VmOptions } from '../shared/vm-types';
import { createVm, type Vm } from './vm';

/**
 * Warm VMs on this thread, by setup (options, image, load address, registers): each was snapshotted
 * right after setup, so a reset makes it indistinguishable from a fresh one. At most WARM_LIMIT are
 * kept; the least recently used goes first. A VM whose run ended in an error is never kept.
 */
const WARM_LIMIT = 8;
const warm = new Map<string, Vm>();

/** The warm-VM key of a setup, or undefined when its VMs are not kept (no reuse, or an event ring). */
export function setupKey(task: OneShotSetup): string | undefined {
  if (!task.reuse || task.ring !== undefined) return undefined;
  const image = typeof task.image === 'string' ? `path:${task.image}` : `bytes:${createHash('sha256').update(task.image).digest('hex')}`;
  return JSON.stringify([task.options, image, task.load ?? {}, Object.entries(task.registers ?? {}).map(([k, v]) => [k, String(v)])]);
}

function takeWarm(key: string, control: ControlBlock): Vm | undefined {
  const vm = warm.get(key);
  if (vm === undefined) return undefined;
  warm.delete(key);
  vm.restore();
  control.vcpuId = vm.vcpuId;
  return vm;
}

function keepWarm(key: string, vm: Vm): void {
  warm.set(key, vm);
  for (const [oldest, old] of warm) {
    if (warm.size <= WARM_LIMIT) break;
    warm.delete(oldest);
    old.close();
  }
}

/**
 * A one-shot run: a warm VM reset to its snapshot, or a new one set up (and snapshotted to reuse).
 * `setUp` sees a new VM once it is set up, before it runs.
 */
export function runOneShot(task: OneShotSetup, runId: number, key: string | undefined, control = new ControlBlock(task.control), setUp?: (vm: Vm, loaded: LoadedImage) => void): RunReply {
  let vm = key === undefined ? undefined : takeWarm(key, control);
  let reply: RunReply | undefined;
  try {
    if (vm === undefined) {
      vm = openVm(task.options, task, control);
      const loaded = vm.load(task.image, task.load ?? {});
      for (const [name, value] of Object.entries(task.registers ?? {})) vm.setRegister(name, value);
      if (key !== undefined) vm.snapshot();
      setUp?.(vm, loaded);
    }
    for (const w of task.writes ?? []) vm.writeMemory(w.guestAddr, w.bytes);
    reply = runControlled(vm, control, runId, task.run);
    if (reply.ok && task.reads !== undefined) reply.result.reads = task.reads.map((r) => vm!.readMemory(r.guestAddr, r.length));
    return reply;
  } catch (error) {
    return { ok: false, error: serializeError(error) }; // a typed error survives the thread boundary
  } finally {
    if (vm !== undefined && key !== undefined && reply?.ok === true) keepWarm(key, vm);
    else vm?.close();
  }
}

export function openVm(options: VmOptions, shared: Shared, control: ControlBlock): Vm {
  const vm = createVm(options);
  control.vcpuId = vm.vcpuId;
  if (shared.ring !== undefined) vm.attachEventRing(shared.ring);
  return vm;
}
