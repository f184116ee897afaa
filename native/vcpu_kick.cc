#include "vcpu_kick.h"

#include <signal.h>

#include "kvm_vcpu.h"

namespace femtovm {

int KickSignal() { return SIGRTMIN + 4; }

void InstallKickHandler() {
  static std::once_flag once;
  std::call_once(once, [] {
    struct sigaction action = {};
    action.sa_handler = [](int) {};  // the interruption is the point; immediate_exit carries the state
    sigemptyset(&action.sa_mask);
    action.sa_flags = 0;  // no SA_RESTART: KVM_RUN must return EINTR
    sigaction(KickSignal(), &action, nullptr);
  });
}

Watchdog &Watchdog::Instance() {
  static Watchdog *instance = new Watchdog();  // never destroyed: its thread lives as long as the process
  return *instance;
}

void Watchdog::Arm(KvmVcpu *vcpu, Clock::time_point deadline) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (!started_) {
    std::thread([this] { Loop(); }).detach();
    started_ = true;
  }
  deadlines_[vcpu] = deadline;
  changed_.notify_one();
}

void Watchdog::Disarm(KvmVcpu *vcpu) {
  std::lock_guard<std::mutex> lock(mutex_);
  deadlines_.erase(vcpu);
}

void Watchdog::Loop() {
  std::unique_lock<std::mutex> lock(mutex_);
  for (;;) {
    if (deadlines_.empty()) {
      changed_.wait(lock);
      continue;
    }
    auto next = deadlines_.begin();
    for (auto it = deadlines_.begin(); it != deadlines_.end(); ++it)
      if (it->second < next->second) next = it;
    if (Clock::now() < next->second) {
      changed_.wait_until(lock, next->second);
      continue;
    }
    // Kicked under the lock: Disarm (called before a vCPU is destroyed) waits for it.
    next->first->Kick(StopRequest::kTimeout);
    deadlines_.erase(next);
  }
}

}  // namespace femtovm
