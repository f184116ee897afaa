// `femtovm run` on the main thread with KVM: on the host where its KVM runs the arch, and in the labs
// (`npm run test:lab -- --arch x86_64|aarch64 dist/test/run-in-thread.kvm.test.js`).
import type { GuestArch } from '../src/index';
import { runInThreadTests } from './run-in-thread';
import { kvmSkipReason } from './support';

for (const arch of ['x86_64', 'aarch64'] as GuestArch[]) runInThreadTests(arch, 'kvm', kvmSkipReason(arch));
