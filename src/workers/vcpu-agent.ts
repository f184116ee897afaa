/**
 * The Piscina entry of a VM's thread: each task is one VM's session (driven over Comlink until
 * closed), one one-shot run, or one swarm lane. The vCPU loop itself is the VM's own (Vm over
 * src/workers/kvm-backend.ts and native/vcpu_loop.cc, or src/workers/wasm-backend.ts).
 */
import { installErrorTransfer } from '../shared/remote-errors';
import { claimThread } from '../shared/stop';
import type { SwarmTally } from '../shared/swarm-tally';
import type { AgentTask, RunReply } from '../shared/tasks';
import { runLane } from './lanes';
import { runOneShot, setupKey } from './one-shot';
import { failSessionOf, runSession } from './session';

installErrorTransfer();

// An error thrown where no call awaits it (a device module's timer or promise) ends the VM whose
// module threw it, found by the async context its callback runs in, and leaves the thread and every
// other VM alone. One whose VM is gone already has no one left to fail.
process.on('uncaughtException', failSessionOf);
process.on('unhandledRejection', failSessionOf);

export default async function vcpuAgent(task: AgentTask): Promise<RunReply | SwarmTally | undefined> {
  claimThread(task.control);
  if (task.kind === 'oneshot') return runOneShot(task, task.runId, setupKey(task));
  if (task.kind === 'lane') return runLane(task);
  return runSession(task);
}
