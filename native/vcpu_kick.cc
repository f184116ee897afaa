#include "vcpu_kick.h"

#include <signal.h>

#include "coalesced_ring.h"
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
  Start();
  deadlines_[vcpu] = deadline;
  changed_.notify_one();
}

void Watchdog::ArmDrain(KvmVcpu *vcpu, const CoalescedRing *ring) {
  std::lock_guard<std::mutex> lock(mutex_);
  Start();
  if (draining_.empty()) next_drain_ = Clock::now() + kDrainPeriod;
  draining_[vcpu] = ring;
  changed_.notify_one();
}

void Watchdog::Disarm(KvmVcpu *vcpu) {
  std::lock_guard<std::mutex> lock(mutex_);
  deadlines_.erase(vcpu);
  draining_.erase(vcpu);
}

void Watchdog::Start() {
  if (started_) return;
  std::thread([this] { Loop(); }).detach();
  started_ = true;
}

// Kicks and nudges happen under the lock: Disarm (called before a vCPU is destroyed) waits for them.
void Watchdog::Loop() {
  std::unique_lock<std::mutex> lock(mutex_);
  for (;;) {
    if (deadlines_.empty() && draining_.empty()) {
      changed_.wait(lock);
      continue;
    }
    auto next = deadlines_.begin();
    for (auto it = deadlines_.begin(); it != deadlines_.end(); ++it)
      if (it->second < next->second) next = it;
    Clock::time_point now = Clock::now();
    if (!draining_.empty() && now >= next_drain_) {
      for (const auto &[vcpu, ring] : draining_)
        if (ring->Pending()) vcpu->Nudge();
      next_drain_ = now + kDrainPeriod;
    }
    if (next != deadlines_.end() && now >= next->second) {
      next->first->Kick(StopRequest::kTimeout);
      deadlines_.erase(next);
      continue;
    }
    Clock::time_point wake = next != deadlines_.end() ? next->second : Clock::time_point::max();
    if (!draining_.empty() && next_drain_ < wake) wake = next_drain_;
    changed_.wait_until(lock, wake);
  }
}

}  // namespace femtovm
