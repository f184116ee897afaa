/** `npm start`: the hello guest on every backend this host has, a line per run. */
import { join } from 'node:path';

import { packageRoot } from '../shared/addon';
import { FemtovmError } from '../shared/errors';
import { hostInfo } from '../shared/info';
import type { GuestArch } from '../shared/platform';
import { createVm } from '../workers/vm';

const hello: Record<GuestArch, string> = { aarch64: 'guests/aarch64/hello.bin', x86_64: 'guests/x86_64/hello.bin' };

export function runDemo(): number {
  const info = hostInfo();
  let ran = 0;
  let failed = 0;
  for (const arch of ['x86_64', 'aarch64'] as const) {
    const backends = info.backends[arch];
    if (backends.length === 0) {
      const why = info.kvm.usable ? `KVM here runs ${info.kvm.arch} guests only` : `KVM is not usable here (${info.kvm.code}: ${info.kvm.reason})`;
      console.log(`${arch.padEnd(8)} -      skipped: ${why}; see it on real KVM: npm run lab -- --arch ${arch} femtovm run ${hello[arch]}`);
      continue;
    }
    for (const backend of backends) {
      ran++;
      const vm = createVm({ arch, backend });
      try {
        vm.load(join(packageRoot(), hello[arch]));
        const r = vm.run({ timeoutMs: 5000 });
        console.log(`${arch.padEnd(8)} ${backend.padEnd(6)} ${JSON.stringify(r.output.toString())} ${r.outcome} after ${r.exits} exits in ${r.durationMs.toFixed(2)} ms`);
      } catch (error) {
        if (!(error instanceof FemtovmError)) throw error;
        failed++;
        console.log(`${arch.padEnd(8)} ${backend.padEnd(6)} failed: ${error.code}: ${error.message}`);
      } finally {
        vm.close();
      }
    }
  }
  if (ran === 0) console.log('no backend on this host can run a guest yet; `femtovm info` says why');
  return failed === 0 ? 0 : 1;
}
