// A KVM vCPU fd, its mmap'd kvm_run, and the kick that makes a blocked KVM_RUN return. The run loop
// that drives it lives in vcpu_loop.cc.
#pragma once
#include <linux/kvm.h>
#include <pthread.h>

#include <atomic>
#include <condition_variable>
#include <mutex>

#include "kvm_irqfd.h"
#include "kvm_vm.h"

namespace femtovm {

// Why a run was asked to stop from outside the vCPU thread (0: not asked).
enum class StopRequest : int { kNone = 0, kStop = 1, kTimeout = 2 };

class KvmVcpu {
 public:
  KvmVcpu(KvmVm &vm, unsigned long index);  // KVM_CREATE_VCPU + mmap kvm_run; throws CoreError
  ~KvmVcpu();
  KvmVcpu(const KvmVcpu &) = delete;
  KvmVcpu &operator=(const KvmVcpu &) = delete;

  int fd() const { return fd_; }
  kvm_run *run() const { return run_; }
  // Process-wide id: any thread (the main thread, for a vCPU on a worker) can kick it by id.
  double id() const { return id_; }
  static bool KickById(double id, StopRequest why);
  static bool InterruptById(double id);  // RaiseIrq

  // The calling thread owns the vCPU until EndRun: kicks are delivered to it.
  void BeginRun();
  void EndRun();
  // Thread-safe. Asks the running vCPU to leave KVM_RUN: sets immediate_exit (so a kick that lands
  // just before KVM_RUN is not lost), then signals the vCPU thread (so a KVM_RUN in progress returns
  // EINTR). Returns false, doing nothing, when no run is in progress.
  bool Kick(StopRequest why);
  // Thread-safe. Makes a running vCPU leave KVM_RUN for the loop to look at something (coalesced writes
  // to drain, an interrupt to inject) and go on: a kick without a stop request.
  void Nudge();
  // On the vCPU's thread, after KVM_RUN returned EINTR with no stop requested: immediate_exit off.
  void ClearNudge() { __atomic_store_n(&run_->immediate_exit, 0, __ATOMIC_RELAXED); }
  // The interrupt line (level), raised from any thread by interrupt() and lowered by the guest's
  // acknowledge. arm64: the vCPU's IRQ input, set in the kernel (KVM_IRQ_LINE) and waking WFI there;
  // x86: the run loop injects the vector with KVM_INTERRUPT once the guest can take it (see arch.h).
  // `on_vcpu_thread`: raised by the run loop itself (a native device), which injects before its next
  // KVM_RUN anyway: no nudge. With an irqfd, an edge instead: each raise signals it (kvm_irqfd.h).
  void RaiseIrq(bool on_vcpu_thread = false);
  // Raises go through `irqfd` from here on (set before the vCPU's id is handed out; it outlives the vCPU).
  void set_irqfd(const KvmIrqfd *irqfd) { irqfd_ = irqfd; }
  void LowerIrq();  // on the vCPU's thread
  bool irq_line() const { return irq_line_.load(std::memory_order_acquire); }
  // x86: whether the raised line's vector went in already (once per raise).
  bool irq_injected() const { return irq_injected_; }
  void set_irq_injected() { irq_injected_ = true; }
  // Blocks the vCPU's thread (a guest halted with interrupts enabled) until the line is raised and
  // not yet injected, or a stop is requested.
  void WaitForIrq();
  int vm_fd() const { return vm_fd_; }
  Irqchip irqchip() const { return irqchip_; }

  // The pending request, consumed by the run loop (clears immediate_exit).
  StopRequest TakeStopRequest();
  bool StopRequested() const { return stop_.load(std::memory_order_acquire) != StopRequest::kNone; }

 private:
  int fd_ = -1;
  kvm_run *run_ = nullptr;
  size_t run_size_ = 0;
  std::mutex kick_mutex_;  // held while signalling, so the thread cannot leave the run meanwhile
  bool in_run_ = false;
  pthread_t thread_{};
  std::atomic<StopRequest> stop_{StopRequest::kNone};
  std::condition_variable wake_;  // with kick_mutex_: WaitForIrq
  std::atomic<bool> irq_line_{false};
  bool irq_injected_ = false;
  int vm_fd_ = -1;
  Irqchip irqchip_ = Irqchip::kUser;
  const KvmIrqfd *irqfd_ = nullptr;
  double id_ = 0;
};

}  // namespace femtovm
