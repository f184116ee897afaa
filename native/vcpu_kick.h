// Making a vCPU leave KVM_RUN from another thread: a real-time signal with a no-op handler (installed
// once per process, without SA_RESTART, so KVM_RUN returns EINTR), and one watchdog thread per process
// that kicks vCPUs whose run passed its deadline (a guest spinning with no exits still times out).
#pragma once
#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <thread>

namespace femtovm {

class KvmVcpu;

// SIGRTMIN+4: not used by glibc, libuv or V8.
int KickSignal();
void InstallKickHandler();

class Watchdog {
 public:
  using Clock = std::chrono::steady_clock;
  static Watchdog &Instance();
  void Arm(KvmVcpu *vcpu, Clock::time_point deadline);
  void Disarm(KvmVcpu *vcpu);

 private:
  Watchdog() = default;
  void Loop();
  std::mutex mutex_;
  std::condition_variable changed_;
  std::map<KvmVcpu *, Clock::time_point> deadlines_;
  bool started_ = false;
};

}  // namespace femtovm
