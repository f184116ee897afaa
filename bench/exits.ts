/**
 * The exits suite: µs per guest exit on femtovm's KVM loop against the C baseline loop, on the same
 * guest, the same KVM, in the same run. Rounds alternate baseline and femtovm (A B A B) so drift on a
 * noisy host hits both; the ratio is taken round by round and its median reported.
 */
import { createVm, type GuestArch } from '../src/index';
import { packageRoot } from '../src/host/addon';
import { join } from 'node:path';
import { baselineBinary, runBaseline } from './baseline';
import { median } from '../src/host/stats';

export interface ExitsRow {
  guest: string;
  variant: string;
  baselineUs: number;
  femtovmUs: number;
  ratio: number;
  goal: number;
}

interface Variant {
  name: string;
  goal: number;
  /** Adds the variant's device (none: femtovm handles the exit natively, like the C loop). */
  device?: 'js';
}

const variants: Variant[] = [
  { name: 'native-handled', goal: 1.02 },
  { name: 'JS device', goal: 1.05, device: 'js' },
];

/** One femtovm run of `image` with `count` loop iterations: µs per exit. */
function femtovmRun(arch: GuestArch, image: string, count: number, variant: Variant): number {
  const vm = createVm({ arch, backend: 'kvm', unhandled: 'ignore' });
  try {
    vm.load(image);
    vm.setRegister(arch === 'x86_64' ? 'rcx' : 'x0', count);
    if (variant.device === 'js') {
      const kind = image.includes('pio') ? 'pio' : 'mmio';
      vm.addDevice({ kind, base: kind === 'pio' ? 0x80 : 0x900, size: 4 }, { write: () => {} });
    }
    const r = vm.run();
    return (r.durationMs * 1000) / r.exits;
  } finally {
    vm.close();
  }
}

export function exitsSuite(arch: GuestArch, options: { rounds: number; count: number; log: (line: string) => void }): ExitsRow[] {
  const binary = baselineBinary();
  const guests = arch === 'x86_64' ? ['mmio-loop', 'pio-loop'] : ['mmio-loop'];
  const rows: ExitsRow[] = [];
  for (const name of guests) {
    const image = join(packageRoot(), 'guests', arch, `${name}.bin`);
    for (const variant of variants) {
      femtovmRun(arch, image, 1000, variant); // warm-up: JIT, page faults
      runBaseline(binary, image, 1000);
      const baseline: number[] = [];
      const femtovm: number[] = [];
      for (let round = 0; round < options.rounds; round++) {
        baseline.push(runBaseline(binary, image, options.count).usPerExit);
        femtovm.push(femtovmRun(arch, image, options.count, variant));
        options.log(`  ${name} ${variant.name} round ${round + 1}/${options.rounds}: C ${baseline.at(-1)!.toFixed(3)} µs, femtovm ${femtovm.at(-1)!.toFixed(3)} µs`);
      }
      const ratios = baseline.map((b, i) => femtovm[i]! / b);
      rows.push({ guest: name, variant: variant.name, baselineUs: median(baseline), femtovmUs: median(femtovm), ratio: median(ratios), goal: variant.goal });
    }
  }
  return rows;
}
