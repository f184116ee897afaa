/**
 * femtovm: a minimal virtual machine monitor for Node.js.
 *
 *   import { createVm } from 'femtovm';
 *   const vm = createVm({ arch: 'x86_64' });
 *   vm.load('guests/x86_64/hello.bin');
 *   console.log(vm.run().output.toString()); // "Hello\n"
 *   vm.close();
 */
export type { SwarmFailure, SwarmTally } from './host/swarm-tally';
export { RemoteVm, VmPool, type ManyRunsOptions, type ManyRunsResult, type OneShotOptions, type PoolOptions, type PooledRunOptions, type PooledVmOptions } from './host/pool';
export { createVm, Vm, type LoadOptions, type RunOptions, type RunResult, type VmOptions } from './host/vm';
export type { BackendKind, NativeDeviceSpec, Outcome } from './host/backend';
export { EventRingReader, type EventSummary } from './host/event-ring';
export { EventBatchView, type EventDirection, type EventKind, type VmEvent } from './host/event-batch';
export type { AccessKind, Device, DeviceRange } from './host/devices';
export { hostInfo, kvmStatus, type HostInfo, type KvmStatus } from './host/info';
export { parseImage, type ImageSegment, type LoadedImage } from './host/image';
export { CONSOLE_MMIO, CONSOLE_PORT, MAX_MEM, parseSize, platforms, type ArchPlatform, type GuestArch, type X86Mode } from './host/platform';
export {
  BackendUnavailableError,
  ConfigError,
  ErrorCodes,
  FemtovmError,
  GuestError,
  ImageError,
  KvmError,
  PoolError,
  VmStateError,
  type AccessDetails,
  type ErrorCode,
} from './host/errors';
