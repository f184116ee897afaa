/**
 * One-shot runs (VmPool.run and each run of a lane): a VM set up, run and closed in one task, served
 * from a warm VM of the same setup when there is one.
 */
import { createHash } from 'node:crypto';
import { statSync, type BigIntStats } from 'node:fs';

import { ControlBlock, ControlWord, runControlled } from '../shared/stop';
import type { LoadedImage } from '../shared/image';
import { serializeError } from '../shared/remote-errors';
import type { OneShotSetup, RunReply, Shared } from '../shared/tasks';
import type { VmOptions } from '../shared/vm-types';
import { createVm, type Vm } from './vm';

/**
 * Warm VMs on this thread, by setup (options, image, load address, registers): each was snapshotted
 * right after setup, so a reset makes it indistinguishable from a fresh one. At most WARM_LIMIT are
 * kept, costing at most the task's `warmBytes` (a warm VM costs about twice its RAM: the RAM it
 * touched and its snapshot); the least recently used goes first. A VM whose run ended in an error is
 * never kept.
 */
const WARM_LIMIT = 8;
const warm = new Map<string, Vm>();

/** What a warm VM holds: its RAM and the snapshot's copy of it. */
function warmCost(vm: Vm): number {
  return 2 * vm.layout.regions.reduce((sum, r) => sum + r.size, 0);
}

/**
 * The warm-VM key of a setup, or undefined when its VMs are not kept (no reuse, an event ring, an
 * image file that cannot be looked at). An image file is known by its content's identity, not its
 * path: device, inode, size, and modification and change times in ns, so a file replaced or rewritten
 * at the same path is a new setup.
 */
export function setupKey(task: OneShotSetup): string | undefined {
  if (!task.reuse || task.ring !== undefined) return undefined;
  let image: string;
  if (typeof task.image === 'string') {
    const stat = fileIdentity(task.image);
    if (stat === undefined || !stat.isFile()) return undefined; // the load reports it
    image = `file:${task.image}:${stat.dev}:${stat.ino}:${stat.size}:${stat.mtimeNs}:${stat.ctimeNs}`;
  } else {
    image = `bytes:${createHash('sha256').update(task.image).digest('hex')}`;
  }
  try {
    return JSON.stringify([task.options, image, task.load ?? {}, Object.entries(task.registers ?? {}).map(([k, v]) => [k, String(v)])]);
  } catch {
    return undefined; // options JSON cannot say (a bigint): not kept warm; the VM's own checks report them
  }
}

/** @internal The warm VMs this thread keeps, and what they cost (for tests). */
export function warmVms(): { count: number; bytes: number } {
  let bytes = 0;
  for (const vm of warm.values()) bytes += warmCost(vm);
  return { count: warm.size, bytes };
}

function fileIdentity(path: string): BigIntStats | undefined {
  try {
    return statSync(path, { bigint: true });
  } catch {
    return undefined;
  }
}

function takeWarm(key: string, control: ControlBlock): Vm | undefined {
  const vm = warm.get(key);
  if (vm === undefined) return undefined;
  warm.delete(key);
  vm.restore();
  control.vcpuId = vm.vcpuId;
  return vm;
}

function keepWarm(key: string, vm: Vm, budget: number): void {
  if (warmCost(vm) > budget) {
    vm.close();
    return;
  }
  warm.set(key, vm);
  let bytes = 0;
  for (const kept of warm.values()) bytes += warmCost(kept);
  for (const [oldest, old] of warm) {
    if (warm.size <= WARM_LIMIT && bytes <= budget) break;
    warm.delete(oldest);
    bytes -= warmCost(old);
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
    if (vm !== undefined && key !== undefined && reply?.ok === true) keepWarm(key, vm, task.warmBytes);
    else vm?.close();
  }
}

export function openVm(options: VmOptions, shared: Shared, control: ControlBlock): Vm {
  const vm = createVm(options);
  control.vcpuId = vm.vcpuId;
  vm.useInterruptLine(control.words, ControlWord.IrqLine);
  if (shared.ring !== undefined) vm.attachEventRing(shared.ring);
  return vm;
}
