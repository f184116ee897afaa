// Ctrl-C for a run on the caller's own thread (`femtovm run`): while armed, SIGINT stops the run
// instead of ending the process. The thread running the guest serves no JavaScript meanwhile, so
// Node's own SIGINT listener could not run; and a signal handler may not take the locks a kick
// takes. So the handler only writes a byte to a pipe (async-signal-safe), and a thread of this
// class reads it and does the rest: sets the caller's stop word (the WebAssembly loop looks at it
// between slices; the caller reads it to say the run was interrupted) and kicks the vCPU, if any.
#pragma once
#include <signal.h>

#include <cstdint>
#include <thread>

namespace femtovm {

class SigintStop {
 public:
  // Arms: SIGINT stores `value` into `*word` and kicks vCPU `vcpu_id` (0: none, the wasm backend).
  // One at a time per process; throws CoreError ERR_VM_BUSY when another is armed.
  SigintStop(int32_t *word, int32_t value, double vcpu_id);
  // Disarms: the handler that was there before comes back.
  ~SigintStop();
  SigintStop(const SigintStop &) = delete;
  SigintStop &operator=(const SigintStop &) = delete;

 private:
  void Serve();  // the thread: one stop per SIGINT, until disarmed

  int32_t *word_;
  int32_t value_;
  double vcpu_id_;
  struct sigaction previous_ = {};
  std::thread thread_;
};

}  // namespace femtovm
