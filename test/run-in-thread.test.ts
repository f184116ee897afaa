// `femtovm run` on the main thread with the WebAssembly backend (any host); the KVM cases are in
// run-in-thread.kvm.test.ts. The shared cases are in run-in-thread.ts.
import { inLab } from './adversarial/hostile';
import { runInThreadTests, sigintStopTests } from './run-in-thread';

runInThreadTests('aarch64', 'wasm', inLab ? 'the WebAssembly backend is tested on the host, not in the lab' : undefined);
sigintStopTests();
