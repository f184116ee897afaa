/** Swarm lanes (VmPool.runMany): one task running VM after VM with no message per VM. */
import { ControlBlock, runControlled, SwarmWord } from '../shared/stop';
import type { LoadedImage } from '../shared/image';
import { countFailure, countRun, emptyTally, type SwarmTally } from '../shared/swarm-tally';
import type { LaneTask } from '../shared/tasks';
import type { FreshKvmVms } from './kvm-backend';
import { runOneShot, setupKey } from './one-shot';
import type { Vm } from './vm';

/**
 * A swarm's lane: runs claimed one by one, each counted in the shared words as it ends. With
 * `reuse: false` on KVM, the first run sets a VM up as usual (which checks the setup) and every
 * later one is a fresh VM made natively from it (FreshKvmVms): no JavaScript object per VM.
 */
export function runLane(task: LaneTask): SwarmTally {
  const words = new Int32Array(task.swarm);
  const control = new ControlBlock(task.control);
  const key = setupKey(task);
  const tally = emptyTally();
  let fresh: FreshKvmVms | undefined;
  const setUp = key === undefined && task.ring === undefined ? (vm: Vm, loaded: LoadedImage) => void (fresh ??= vm.freshVms(loaded, task.registers ?? {}, control.vcpuIdSlot)) : undefined;
  while (Atomics.load(words, SwarmWord.Stop) === 0) {
    const index = Atomics.add(words, SwarmWord.Claimed, 1);
    if (index >= task.count) break;
    const started = performance.now();
    const reply = fresh !== undefined ? runControlled(fresh, control, index + 1, task.run) : runOneShot(task, index + 1, key, control, setUp);
    const ms = performance.now() - started;
    if (reply.ok) countRun(tally, reply.result.outcome, reply.result.exits, ms);
    else {
      countFailure(tally, reply.error.code ?? 'ERR_UNKNOWN', reply.error.message, ms);
      Atomics.add(words, SwarmWord.Failed, 1);
    }
    Atomics.add(words, SwarmWord.Done, 1);
  }
  return tally;
}
