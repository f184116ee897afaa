#include "kvm_vcpu.h"

#include <signal.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <map>

#include "arch.h"
#include "vcpu_kick.h"

namespace femtovm {

namespace {
// Live vCPUs by id. Ids are never reused, so a kick for a vCPU that is gone finds nothing.
std::mutex g_registry_mutex;
std::map<double, KvmVcpu *> g_registry;
double g_next_id = 1;
}  // namespace

bool KvmVcpu::KickById(double id, StopRequest why) {
  std::lock_guard<std::mutex> lock(g_registry_mutex);  // the vCPU cannot be destroyed meanwhile
  auto it = g_registry.find(id);
  return it != g_registry.end() && it->second->Kick(why);
}

bool KvmVcpu::InterruptById(double id) {
  std::lock_guard<std::mutex> lock(g_registry_mutex);
  auto it = g_registry.find(id);
  if (it == g_registry.end()) return false;
  it->second->RaiseIrq();
  return true;
}

KvmVcpu::KvmVcpu(KvmVm &vm, unsigned long index) : vm_fd_(vm.fd()), irqchip_(vm.irqchip()) {
  InstallKickHandler();
  fd_ = ioctl(vm.fd(), KVM_CREATE_VCPU, index);
  if (fd_ < 0) throw SyscallError("ERR_KVM_CREATE", "KVM_CREATE_VCPU");
  run_size_ = static_cast<size_t>(vm.system().vcpu_mmap_size());
  void *run = mmap(nullptr, run_size_, PROT_READ | PROT_WRITE, MAP_SHARED, fd_, 0);
  if (run == MAP_FAILED) {
    CoreError e = SyscallError("ERR_KVM_CREATE", "mmap kvm_run");
    close(fd_);
    throw e;
  }
  run_ = static_cast<kvm_run *>(run);
  std::lock_guard<std::mutex> lock(g_registry_mutex);
  id_ = g_next_id++;
  g_registry[id_] = this;
}

KvmVcpu::~KvmVcpu() {
  {
    std::lock_guard<std::mutex> lock(g_registry_mutex);
    g_registry.erase(id_);
  }
  Watchdog::Instance().Disarm(this);
  {
    std::lock_guard<std::mutex> lock(kick_mutex_);
    in_run_ = false;  // a thread torn down mid-run must never be signalled again
  }
  munmap(run_, run_size_);
  close(fd_);
}

void KvmVcpu::BeginRun() {
  std::lock_guard<std::mutex> lock(kick_mutex_);
  thread_ = pthread_self();
  in_run_ = true;
}

void KvmVcpu::EndRun() {
  std::lock_guard<std::mutex> lock(kick_mutex_);
  in_run_ = false;
  stop_.store(StopRequest::kNone, std::memory_order_relaxed);
  __atomic_store_n(&run_->immediate_exit, 0, __ATOMIC_RELAXED);
}

bool KvmVcpu::Kick(StopRequest why) {
  std::lock_guard<std::mutex> lock(kick_mutex_);
  if (!in_run_) return false;
  StopRequest none = StopRequest::kNone;
  stop_.compare_exchange_strong(none, why, std::memory_order_release);  // the first reason wins
  __atomic_store_n(&run_->immediate_exit, 1, __ATOMIC_RELEASE);
  pthread_kill(thread_, KickSignal());
  wake_.notify_all();
  return true;
}

void KvmVcpu::RaiseIrq(bool on_vcpu_thread) {
  if (irqfd_ != nullptr) {  // KVM injects it wherever the vCPU is: no line to hold, no one to wake
    irqfd_->Signal();
    return;
  }
  std::lock_guard<std::mutex> lock(kick_mutex_);
  if (irq_line_.exchange(true, std::memory_order_acq_rel)) return;  // already high: level, not counted
  arch::SetIrqLine(*this, true);
  wake_.notify_all();
  if (on_vcpu_thread || !in_run_ || !arch::IrqInjectedByLoop(*this)) return;
  __atomic_store_n(&run_->immediate_exit, 1, __ATOMIC_RELEASE);  // x86 injects between runs
  pthread_kill(thread_, KickSignal());
}

void KvmVcpu::LowerIrq() {
  std::lock_guard<std::mutex> lock(kick_mutex_);
  if (!irq_line_.exchange(false, std::memory_order_acq_rel)) return;
  irq_injected_ = false;
  arch::SetIrqLine(*this, false);
}

void KvmVcpu::WaitForIrq() {
  std::unique_lock<std::mutex> lock(kick_mutex_);
  wake_.wait(lock, [this] { return (irq_line() && !irq_injected_) || StopRequested(); });
}

void KvmVcpu::Nudge() {
  std::lock_guard<std::mutex> lock(kick_mutex_);
  if (!in_run_) return;
  __atomic_store_n(&run_->immediate_exit, 1, __ATOMIC_RELEASE);
  pthread_kill(thread_, KickSignal());
}

StopRequest KvmVcpu::TakeStopRequest() {
  std::lock_guard<std::mutex> lock(kick_mutex_);
  StopRequest why = stop_.exchange(StopRequest::kNone, std::memory_order_acq_rel);
  __atomic_store_n(&run_->immediate_exit, 0, __ATOMIC_RELAXED);
  return why;
}

}  // namespace femtovm
