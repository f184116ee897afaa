#include "sigint_stop.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <atomic>
#include <mutex>

#include "errors.h"
#include "kvm_vcpu.h"

namespace femtovm {

namespace {
// One pipe for the process's life: the handler may still be writing to it as a SigintStop ends, so
// it is never closed (and never reused for another fd). The read end is non-blocking, so arming can
// drain a byte a late signal left.
int g_pipe[2] = {-1, -1};
std::atomic<bool> g_armed{false};

constexpr char kSignal = 'i';
constexpr char kDisarm = 'q';

void OnSigint(int) {
  int saved = errno;
  ssize_t ignored = write(g_pipe[1], &kSignal, 1);
  (void)ignored;  // a full pipe already holds a stop to serve
  errno = saved;
}
}  // namespace

SigintStop::SigintStop(int32_t *word, int32_t value, double vcpu_id) : word_(word), value_(value), vcpu_id_(vcpu_id) {
  static std::once_flag once;
  static int pipe_errno = 0;
  std::call_once(once, [] {
    if (pipe2(g_pipe, O_CLOEXEC | O_NONBLOCK) < 0) pipe_errno = errno;
  });
  if (pipe_errno != 0) throw SyscallError("ERR_KVM_CREATE", "pipe2 (Ctrl-C stop)", pipe_errno);
  bool expected = false;
  if (!g_armed.compare_exchange_strong(expected, true)) throw CoreError{"ERR_VM_BUSY", "a Ctrl-C stop is armed already (one per process)"};
  char stale[64];
  while (read(g_pipe[0], stale, sizeof stale) > 0) {
  }
  struct sigaction action = {};
  action.sa_handler = OnSigint;
  sigemptyset(&action.sa_mask);
  action.sa_flags = 0;  // no SA_RESTART: a system call the signal lands in returns EINTR, as a kick's does
  sigaction(SIGINT, &action, &previous_);
  thread_ = std::thread([this] { Serve(); });
}

SigintStop::~SigintStop() {
  sigaction(SIGINT, &previous_, nullptr);
  ssize_t ignored = write(g_pipe[1], &kDisarm, 1);
  (void)ignored;
  thread_.join();
  g_armed.store(false);
}

void SigintStop::Serve() {
  for (;;) {
    pollfd p{g_pipe[0], POLLIN, 0};
    if (poll(&p, 1, -1) < 0) continue;  // EINTR
    char bytes[64];
    ssize_t n = read(g_pipe[0], bytes, sizeof bytes);
    for (ssize_t i = 0; i < n; i++) {
      if (bytes[i] == kDisarm) return;
      __atomic_store_n(word_, value_, __ATOMIC_SEQ_CST);
      if (vcpu_id_ != 0) KvmVcpu::KickById(vcpu_id_, StopRequest::kStop);
    }
  }
}

}  // namespace femtovm
