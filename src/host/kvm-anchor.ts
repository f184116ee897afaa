/**
 * One idle KVM vCPU that a pool holds while it runs KVM VMs. When a vCPU is created or destroyed and
 * no other vCPU exists on the system, KVM flips global static keys (x86: from kvm_create_lapic and
 * kvm_arch_vcpu_destroy), and each flip patches kernel text with an IPI to every CPU. A pool creating
 * VMs one after another paid that twice per VM: with a vCPU alive elsewhere, create+run+destroy of
 * hello took ~0.65 instead of ~1.05 ms here (kvm_pvm, C and femtovm alike). A VM without a vCPU does
 * not help; any process's vCPU does. This one costs an idle VM (its fds, ~200 KiB of kernel memory)
 * until release().
 */
import { chooseBackend, hostGuestArch } from '../shared/info';
import type { GuestArch } from '../shared/platform';
import { createVm, type Vm } from '../workers/vm';
import type { VmOptions } from '../shared/vm-types';

function runsOnKvm(arch: GuestArch, options: VmOptions): boolean {
  try {
    return chooseBackend(arch, options.backend ?? 'auto') === 'kvm';
  } catch {
    return false; // a setup no backend runs: its task fails with the reason
  }
}

export class KvmAnchor {
  private vm: Vm | undefined;
  private tried = false;

  /** Opens the anchor the first time `options` would run on KVM. Never throws: the VM's own creation reports an unusable KVM. */
  holdFor(options: VmOptions): void {
    if (this.tried) return;
    const arch = options.arch ?? hostGuestArch();
    if (arch === undefined || !runsOnKvm(arch, options)) return;
    this.tried = true;
    try {
      this.vm = createVm({ arch, backend: 'kvm' });
    } catch {
      // No usable KVM here: the tasks' own VMs say why.
    }
  }

  release(): void {
    this.vm?.close();
    this.vm = undefined;
    this.tried = false;
  }
}
