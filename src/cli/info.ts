/** `femtovm info`: what this host can run. */
import type { Command } from 'commander';

import { hostInfo } from '../shared/info';

/** Adds `info`. */
export function registerInfo(program: Command): void {
  program
    .command('info')
    .description('say what this host can run: its arch, whether /dev/kvm is usable (and why not), the backends per guest arch')
    .option('--json', 'print JSON')
    .action((flags: { json?: boolean }) => {
      const info = hostInfo();
      if (flags.json) {
        process.stdout.write(`${JSON.stringify(info, null, 2)}\n`);
        return;
      }
      const kvm = info.kvm.usable ? `usable (runs ${info.kvm.arch} guests)` : `not usable: ${info.kvm.code}: ${info.kvm.reason}`;
      process.stdout.write(`host arch: ${info.hostArch}\n/dev/kvm:  ${kvm}\n`);
      for (const [arch, backends] of Object.entries(info.backends)) {
        process.stdout.write(`${arch.padEnd(8)} guests: ${backends.length ? backends.join(', ') : `none here (run them in the lab: npm run lab -- --arch ${arch} femtovm run ...)`}\n`);
      }
    });
}
