#include "vcpu_loop.h"

#include <errno.h>
#include <sys/ioctl.h>

#include <cstring>

#include "vcpu_kick.h"

namespace femtovm {

namespace {
// The native console (docs/platform.md): byte stores to this MMIO address, byte `out`s to this port.
constexpr uint64_t kConsoleMmio = 0x996;
constexpr uint64_t kConsolePort = 0x3f8;
}  // namespace

void VcpuLoop::Begin(const RunLimits &limits) {
  limits_ = limits;
  exits_ = 0;
  pending_read_ = nullptr;
  running_ = true;
  vcpu_.BeginRun();
  if (limits.has_deadline) Watchdog::Instance().Arm(&vcpu_, limits.deadline);
}

void VcpuLoop::End() {
  if (!running_) return;
  running_ = false;
  pending_read_ = nullptr;
  Watchdog::Instance().Disarm(&vcpu_);
  vcpu_.EndRun();
}

RunExit VcpuLoop::Resume() {
  kvm_run *run = vcpu_.run();
  if (pending_read_ != nullptr) {  // a JS device answered the read: hand its bytes to KVM
    std::memcpy(pending_read_, record_ + kExitDataOffset, pending_read_len_);
    pending_read_ = nullptr;
  }
  for (;;) {
    if (vcpu_.StopRequested()) {
      StopRequest why = vcpu_.TakeStopRequest();
      if (why == StopRequest::kTimeout) return RunExit::kTimeout;
      if (why == StopRequest::kStop) return RunExit::kStopped;
    }
    if (limits_.max_exits != 0 && exits_ >= limits_.max_exits) return RunExit::kMaxExits;
    if (ioctl(vcpu_.fd(), KVM_RUN, 0) < 0) {
      if (errno == EINTR || errno == EAGAIN) continue;  // a kick (checked above) or a stray signal
      return GuestError(-1, 0, errno);
    }
    fields()[kFieldExits] = static_cast<double>(++exits_);
    RunExit result;
    switch (run->exit_reason) {
      case KVM_EXIT_MMIO:
        if (HandleMmio(&result)) return result;
        break;
      case KVM_EXIT_IO:
        if (HandleIo(&result)) return result;
        break;
      case KVM_EXIT_HLT:
        return RunExit::kHalted;
      case KVM_EXIT_SYSTEM_EVENT:
        if (run->system_event.type == KVM_SYSTEM_EVENT_SHUTDOWN) return RunExit::kSystemOff;
        if (run->system_event.type == KVM_SYSTEM_EVENT_RESET) return RunExit::kSystemReset;
        return GuestError(static_cast<int>(run->exit_reason), run->system_event.type, 0);
      case KVM_EXIT_FAIL_ENTRY:
        return GuestError(KVM_EXIT_FAIL_ENTRY, run->fail_entry.hardware_entry_failure_reason, 0);
      case KVM_EXIT_INTERNAL_ERROR:
        return GuestError(KVM_EXIT_INTERNAL_ERROR, run->internal.suberror, 0);
      default:  // KVM_EXIT_SHUTDOWN (triple fault) and anything femtovm does not model
        return GuestError(static_cast<int>(run->exit_reason), 0, 0);
    }
  }
}

bool VcpuLoop::HandleMmio(RunExit *result) {
  kvm_run *run = vcpu_.run();
  uint64_t address = run->mmio.phys_addr;
  if (address == kConsoleMmio && run->mmio.is_write && run->mmio.len == 1) {
    if (ConsoleByte(run->mmio.data[0])) return false;
    *result = RunExit::kStopByte;
    return true;
  }
  return Dispatch(AccessKind::kMmio, address, run->mmio.len, run->mmio.is_write != 0, 1, run->mmio.data, result);
}

bool VcpuLoop::HandleIo(RunExit *result) {
  kvm_run *run = vcpu_.run();
  uint8_t *data = reinterpret_cast<uint8_t *>(run) + run->io.data_offset;
  bool is_write = run->io.direction == KVM_EXIT_IO_OUT;
  if (run->io.port == kConsolePort && is_write && run->io.size == 1) {
    for (uint32_t i = 0; i < run->io.count; i++) {
      if (!ConsoleByte(data[i])) {
        *result = RunExit::kStopByte;
        return true;
      }
    }
    return false;
  }
  return Dispatch(AccessKind::kPio, run->io.port, run->io.size, is_write, run->io.count, data, result);
}

// Returns true when the caller must see this access (a JS device, or an unhandled access).
bool VcpuLoop::Dispatch(AccessKind kind, uint64_t address, uint32_t size, bool is_write, uint32_t count, uint8_t *data,
                        RunExit *result) {
  size_t len = static_cast<size_t>(size) * count;
  bool user = false;
  for (const AccessRange &r : user_ranges_)
    if (r.kind == kind && address >= r.start && address < r.end) user = true;
  if (!user && limits_.ignore_unhandled) {
    if (!is_write) std::memset(data, 0, len);
    return false;
  }
  double *f = fields();
  f[kFieldKind] = static_cast<double>(kind);
  f[kFieldAddress] = static_cast<double>(address);
  f[kFieldSize] = size;
  f[kFieldIsWrite] = is_write ? 1 : 0;
  f[kFieldCount] = count;
  if (is_write) {
    std::memcpy(record_ + kExitDataOffset, data, len);
  } else {
    std::memset(record_ + kExitDataOffset, 0, len);
    pending_read_ = data;
    pending_read_len_ = len;
  }
  *result = user ? RunExit::kUserAccess : RunExit::kUnhandled;
  return true;
}

bool VcpuLoop::ConsoleByte(uint8_t byte) {
  console_.push_back(static_cast<char>(byte));
  return static_cast<int>(byte) != limits_.stop_byte;
}

RunExit VcpuLoop::GuestError(int exit_reason, uint64_t detail, int err) {
  double *f = fields();
  f[kFieldExitReason] = exit_reason;
  f[kFieldErrorDetail] = static_cast<double>(detail);
  f[kFieldErrno] = err;
  return RunExit::kGuestError;
}

}  // namespace femtovm
