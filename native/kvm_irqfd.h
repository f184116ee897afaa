// The guest's interrupt through an irqfd (KVM_IRQFD): an eventfd bound to a GSI of the VM's in-kernel
// irqchip, so a write to it from any thread makes KVM inject the interrupt itself, with no ioctl on the
// VM fd and no part for the vCPU's loop. It is how VMMs deliver interrupts from devices emulated off
// the vCPU thread (vhost, Firecracker's and Cloud Hypervisor's virtio devices).
//
// An irqfd is an edge: KVM raises and lowers the GSI at once. So each signal is one interrupt, several
// before the guest takes it are one, and nothing needs lowering: the guest's end of interrupt (EOI) is
// its only acknowledge. arch::IrqfdGsi routes the GSI so an edge arrives as one.
#pragma once
#include "kvm_vm.h"

namespace femtovm {

class KvmIrqfd {
 public:
  // Binds a new eventfd to the interrupt vm.interrupt() raises (after the vCPU's setup: arm64's vGIC
  // takes its configuration once initialised). Throws CoreError ERR_INVALID_OPTION on a VM without an
  // in-kernel irqchip, ERR_KVM_CAPABILITY naming KVM_CAP_IRQFD (or the routing's capability) where
  // KVM lacks it, ERR_KVM_CREATE when KVM refuses.
  explicit KvmIrqfd(KvmVm &vm);
  // Closes the eventfd: KVM unbinds an irqfd whose eventfd hangs up, and the VM's own teardown would too.
  ~KvmIrqfd();
  KvmIrqfd(const KvmIrqfd &) = delete;
  KvmIrqfd &operator=(const KvmIrqfd &) = delete;

  // One interrupt (thread-safe: a write to the eventfd).
  void Signal() const;

 private:
  int fd_ = -1;
};

}  // namespace femtovm
