/**
 * femtovm: a minimal virtual machine monitor for Node.js.
 *
 *   import { createVm } from 'femtovm';
 *   const vm = createVm({ arch: 'x86_64' });
 *   vm.load('guests/x86_64/hello.bin');
 *   console.log(vm.run().output.toString()); // "Hello\n"
 *   vm.close();
 */
export type { SwarmFailure, SwarmTally } from './shared/swarm-tally';
export { VmPool } from './host/pool';
export { RemoteVm } from './host/remote-vm';
export { maxPoolThreads, type ManyRunsOptions, type ManyRunsResult, type OneShotOptions, type PoolOptions, type PooledRunOptions, type PooledVmOptions } from './host/pool-options';
export { createVm, Vm } from './workers/vm';
export { DEFAULT_MAX_OUTPUT, type BackendKind, type Irqchip, type JitMode, type JitStats, type LoadOptions, type MemoryRead, type MemoryWrite, type Outcome, type RunOptions, type RunResult, type VmOptions } from './shared/vm-types';
export { GuestProgram, type GuestCall, type GuestIoLayout, type GuestProgramOptions } from './shared/guest-program';
export type { Arm64Start } from './shared/arm64-start';
export type { NativeDeviceSpec } from './workers/backend';
export { EventRingReader } from './host/event-ring-reader';
export type { EventSummary } from './shared/event-ring';
export { EventBatchView, type EventDirection, type EventKind, type VmEvent } from './shared/event-batch';
export type { AccessKind, Device, DeviceOptions, DeviceRange, DoorbellHandler, DoorbellSpec } from './shared/devices';
export { hostInfo, kvmStatus, type HostInfo, type KvmStatus } from './shared/info';
export { RunQueue, type QueueManyOptions, type QueueManyResult, type QueueRunOptions, type RunQueueOptions } from './queue/run-queue';
export { QueueWorker, type QueueWorkerCounts, type QueueWorkerOptions } from './queue/queue-worker';
export type { QueueRunResult } from './queue/protocol';
export { parseImage, type ImageSegment, type LoadedImage } from './shared/image';
export { ARM64_GIC, CONSOLE_MMIO, CONSOLE_PORT, INTERRUPT_ACK, X86_INTERRUPT_VECTOR, X86_LAPIC, MAX_MEM, parseSize, platforms, type ArchPlatform, type GuestArch, type X86Mode } from './shared/platform';
export {
  BackendUnavailableError,
  ConfigError,
  ErrorCodes,
  FemtovmError,
  GuestError,
  ImageError,
  KvmError,
  PoolError,
  QueueError,
  VmStateError,
  type AccessDetails,
  type ErrorCode,
} from './shared/errors';
