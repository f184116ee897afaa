// Making a vCPU leave KVM_RUN from another thread: a real-time signal with a no-op handler (installed
// once per process, without SA_RESTART, so KVM_RUN returns EINTR), and one watchdog thread per process
// that kicks vCPUs whose run passed its deadline (a guest spinning with no exits still times out) and
// nudges those whose coalesced ring holds writes while the guest runs without exits.
#pragma once
#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <thread>

namespace femtovm {

class KvmVcpu;
class CoalescedRing;

// SIGRTMIN+4: not used by glibc, libuv or V8.
int KickSignal();
void InstallKickHandler();

class Watchdog {
 public:
  using Clock = std::chrono::steady_clock;
  static Watchdog &Instance();
  // How long coalesced writes may wait in the ring while the guest makes no exit.
  static constexpr std::chrono::milliseconds kDrainPeriod{10};
  void Arm(KvmVcpu *vcpu, Clock::time_point deadline);
  // Every kDrainPeriod, nudges the vCPU out of KVM_RUN when `ring` holds writes.
  void ArmDrain(KvmVcpu *vcpu, const CoalescedRing *ring);
  void Disarm(KvmVcpu *vcpu);  // both

 private:
  Watchdog() = default;
  void Start();  // with mutex_ held
  void Loop();
  std::mutex mutex_;
  std::condition_variable changed_;
  std::map<KvmVcpu *, Clock::time_point> deadlines_;
  std::map<KvmVcpu *, const CoalescedRing *> draining_;
  Clock::time_point next_drain_;
  bool started_ = false;
};

}  // namespace femtovm
