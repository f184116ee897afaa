#include "kvm_irqfd.h"

#include <linux/kvm.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cerrno>

#include "arch.h"
#include "doorbell.h"
#include "errors.h"

namespace femtovm {

KvmIrqfd::KvmIrqfd(KvmVm &vm) {
  // Without a controller in KVM there is no GSI to bind: the VMM drives the vCPU's line itself.
  if (vm.irqchip() == Irqchip::kUser) throw CoreError{"ERR_INVALID_OPTION", "an irqfd needs an in-kernel irqchip ('kernel' or 'split')", 0, nullptr};
  vm.RequireCapability(KVM_CAP_IRQFD, "KVM_CAP_IRQFD");
  kvm_irqfd irqfd = {};
  irqfd.gsi = arch::IrqfdGsi(vm);
  fd_ = NewEventfd();
  irqfd.fd = static_cast<uint32_t>(fd_);
  if (ioctl(vm.fd(), KVM_IRQFD, &irqfd) < 0) {
    CoreError e = SyscallError("ERR_KVM_CREATE", "KVM_IRQFD");
    close(fd_);
    throw e;
  }
}

KvmIrqfd::~KvmIrqfd() { close(fd_); }

// The eventfd is non-blocking: a write fails only once 2^64 - 2 signals are pending, which KVM,
// reading the count at each signal, never lets happen.
void KvmIrqfd::Signal() const { RingEventfd(fd_, 1); }

}  // namespace femtovm
