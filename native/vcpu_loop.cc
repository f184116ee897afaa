#include "vcpu_loop.h"

#include <errno.h>
#include <sys/ioctl.h>
#include <time.h>

#include <cstring>

#include "arch.h"
#include "console_stream.h"
#include "vcpu_kick.h"

namespace femtovm {

namespace {
// The native console (docs/platform.md): byte stores to this MMIO address, byte `out`s to this port.

uint64_t MonotonicNs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000000ULL + static_cast<uint64_t>(ts.tv_nsec);
}

// The ACPI PM timer: 3.579545 MHz, 24 bits wide (QEMU's acpi_pm_tmr_get computes it the same way).
uint64_t PmTimer() {
  constexpr unsigned __int128 kHz = 3579545;
  return static_cast<uint64_t>(MonotonicNs() * kHz / 1000000000u) & 0xffffff;
}

bool IsAccessExit(uint32_t reason) { return reason == KVM_EXIT_MMIO || reason == KVM_EXIT_IO; }
}  // namespace

void VcpuLoop::AttachEventRing(uint8_t *buffer) {
  ring_.Attach(buffer);
  arch::EnableExitPc(vcpu_);
}

void VcpuLoop::AddCoalescedRange(const AccessRange &range, uint8_t *ring_page) {
  coalesced_ranges_.push_back(range);
  coalesced_.Attach(ring_page);
}

void VcpuLoop::Begin(const RunLimits &limits) {
  if (powered_off_) {  // before anything else: it may throw, and then the run has not begun
    arch::PowerOn(vcpu_);
    powered_off_ = false;
  }
  limits_ = limits;
  exits_ = 0;
  if (record_ != nullptr) fields()[kFieldExits] = 0;  // a run may end before its first exit (one left pending)
  pending_read_ = nullptr;
  running_ = true;
  vcpu_.BeginRun();
  if (limits.has_deadline) Watchdog::Instance().Arm(&vcpu_, limits.deadline);
  if (coalesced_.attached()) Watchdog::Instance().ArmDrain(&vcpu_, &coalesced_);
}

void VcpuLoop::Discard() {
  exit_pending_ = false;
  failed_run_errno_ = 0;
  coalesced_.Clear();
}

void VcpuLoop::End() {
  if (!running_) return;
  running_ = false;
  pending_read_ = nullptr;  // an exit taken from KVM but not handled stays pending, as the writes before it do
  Watchdog::Instance().Disarm(&vcpu_);
  vcpu_.EndRun();
}

RunExit VcpuLoop::Resume() {
  kvm_run *run = vcpu_.run();
  if (pending_read_ != nullptr) {  // a JS device answered the read: hand its bytes to KVM
    std::memcpy(pending_read_, record_ + kExitDataOffset, pending_read_len_);
    pending_read_ = nullptr;
    if (ring_.attached()) Record(pending_read_access_);  // its slot was checked free before returning
  }
  RunExit result;
  for (;;) {
    // Coalesced writes happened before whatever comes next: a pending exit, a stop, the run's end.
    if (coalesced_.Pending() && DrainCoalesced(&result)) return result;
    if (TakeStop(&result)) return result;  // also while an exit waits for ring space: a stuck consumer cannot block stop
    if (!exit_pending_) {
      if (ring_.attached() && ring_.WakeDue()) return RunExit::kRingWake;  // native code cannot wake a V8 waiter
      if (limits_.max_exits != 0 && exits_ >= limits_.max_exits) return RunExit::kMaxExits;
      if (!arch::InjectIrq(vcpu_)) return GuestError(-1, 0, errno);
      if (ioctl(vcpu_.fd(), KVM_RUN, 0) < 0) {
        if (errno != EINTR && errno != EAGAIN) {
          failed_run_errno_ = errno;  // the run's end, after the writes before it (not an exit: not counted)
        } else {
          // A kick (its request is taken above), a nudge (the work it asks for is looked at above and
          // before the next KVM_RUN), or a stray signal.
          if (!vcpu_.StopRequested()) vcpu_.ClearNudge();
          continue;
        }
      } else {
        fields()[kFieldExits] = static_cast<double>(++exits_);
      }
      exit_pending_ = true;
      if (coalesced_.Pending() && DrainCoalesced(&result)) return result;
    }
    if (failed_run_errno_ != 0) {
      int err = failed_run_errno_;
      Discard();  // KVM_RUN failing ends the guest: nothing after it runs
      return GuestError(-1, 0, err);
    }
    if (ring_.attached() && IsAccessExit(run->exit_reason)) {
      if (ring_.Full()) return RunExit::kRingFull;  // the exit stays pending: nothing is lost
      pc_ = arch::ExitPc(vcpu_);
    }
    exit_pending_ = false;
    switch (run->exit_reason) {
      case KVM_EXIT_MMIO:
      case KVM_EXIT_IO:
        if (HandleAccess(CurrentAccess(), &result)) return result;
        break;
      case KVM_EXIT_HLT:
        if (!arch::HaltWaitsForIrq(vcpu_)) return RunExit::kHalted;
        vcpu_.WaitForIrq();  // halted with interrupts enabled: until interrupt() or a stop
        break;
      case KVM_EXIT_IRQ_WINDOW_OPEN:  // the guest can take the raised line's vector now
        break;
      case KVM_EXIT_SYSTEM_EVENT:
        if (run->system_event.type == KVM_SYSTEM_EVENT_SHUTDOWN || run->system_event.type == KVM_SYSTEM_EVENT_RESET) {
          powered_off_ = true;
          return run->system_event.type == KVM_SYSTEM_EVENT_SHUTDOWN ? RunExit::kSystemOff : RunExit::kSystemReset;
        }
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

// A byte the guest prints: a one-byte write to the console's MMIO address or port.
bool VcpuLoop::IsConsoleWrite(const Access &a) {
  return a.is_write && a.size == 1 && (a.kind == AccessKind::kMmio ? a.address == kConsoleMmio : a.address == kConsolePort);
}

bool VcpuLoop::IsInterruptAck(const Access &a) { return a.is_write && a.kind == AccessKind::kMmio && a.address == kInterruptAck; }

VcpuLoop::Access VcpuLoop::CurrentAccess() const {
  kvm_run *run = vcpu_.run();
  if (run->exit_reason == KVM_EXIT_MMIO)
    return Access{AccessKind::kMmio, run->mmio.phys_addr, run->mmio.len, run->mmio.is_write != 0, 1, run->mmio.data};
  return Access{AccessKind::kPio,  run->io.port, run->io.size, run->io.direction == KVM_EXIT_IO_OUT, run->io.count,
                reinterpret_cast<uint8_t *>(run) + run->io.data_offset};
}

// Drains the coalesced ring in order, each write going where an exit's would. Returns true, leaving the
// rest for the next Resume(), when the caller must see a write (a JS device, the stop byte) or the
// event ring has no room for its record.
bool VcpuLoop::DrainCoalesced(RunExit *result) {
  while (coalesced_.Pending()) {
    if (ring_.attached() && ring_.Full()) {
      // A stop wins over a consumer that does not read: the rest, and any exit after them, wait for the next run.
      if (!TakeStop(result)) *result = RunExit::kRingFull;
      return true;
    }
    const abi::CoalescedEntry &e = coalesced_.Front();
    uint8_t data[8];
    std::memcpy(data, e.data, sizeof data);
    Access a{e.pio ? AccessKind::kPio : AccessKind::kMmio, e.phys_addr, e.len, true, 1, data};
    pc_ = 0;  // no exit, so no PC: the records of coalesced writes say 0 on every backend
    bool caller = HandleAccess(a, result);
    coalesced_.Pop();
    if (caller) return true;
  }
  return false;
}

// Takes a stop or time-limit request, if there is one, as the run's end.
bool VcpuLoop::TakeStop(RunExit *result) {
  if (!vcpu_.StopRequested()) return false;
  StopRequest why = vcpu_.TakeStopRequest();
  if (why == StopRequest::kTimeout) *result = RunExit::kTimeout;
  else if (why == StopRequest::kStop) *result = RunExit::kStopped;
  else return false;
  return true;
}

bool VcpuLoop::Coalesced(const Access &a) const {
  for (const AccessRange &r : coalesced_ranges_)
    if (r.kind == a.kind && a.address >= r.start && a.address < r.end) return true;
  return false;
}

// Returns true when the caller must see this access (a JS device, an unhandled access, the stop byte).
// The access rules, the same on both backends (src/workers/access-rules.ts, src/shared/platform.ts): the console, then the
// devices, then the unhandled-access policy; the stop byte ends the run after the console prints it.
bool VcpuLoop::HandleAccess(const Access &a, RunExit *result) {
  if (!a.is_write && !coalesced_ranges_.empty() && Coalesced(a)) {
    DescribeAccess(a);
    *result = RunExit::kCoalescedRead;
    return true;
  }
  if (IsInterruptAck(a)) {
    vcpu_.LowerIrq();  // before the record: whoever sees the acknowledge may raise the line again
    if (ring_.attached()) Record(a);
    return false;
  }
  if (IsConsoleWrite(a)) {
    if (ring_.attached()) Record(a);
    uint32_t printed = 0;
    bool stop_byte = false;
    while (printed < a.count && !stop_byte) stop_byte = !ConsoleByte(a.data[printed++]);
    if (limits_.console_fd >= 0 && !StreamConsole(a.data, printed)) {
      *result = RunExit::kStopped;  // the reader is gone (`| head -1`): nothing to print for
      return true;
    }
    if (stop_byte) *result = RunExit::kStopByte;
    return stop_byte;
  }
  if (Native(a)) {
    if (ring_.attached()) Record(a);
    return false;
  }
  size_t len = static_cast<size_t>(a.size) * a.count;
  bool user = false;
  for (const AccessRange &r : user_ranges_)
    if (r.kind == a.kind && a.address >= r.start && a.address < r.end) user = true;
  if (!user && limits_.ignore_unhandled) {
    if (!a.is_write) std::memset(a.data, 0, len);
    if (ring_.attached()) Record(a);
    return false;
  }
  DescribeAccess(a);
  if (a.is_write) {
    std::memcpy(record_ + kExitDataOffset, a.data, len);
    if (user && ring_.attached()) Record(a);
  } else {
    std::memset(record_ + kExitDataOffset, 0, len);
    pending_read_ = a.data;
    pending_read_len_ = len;
    pending_read_access_ = a;  // recorded once the device has answered
  }
  *result = user ? RunExit::kUserAccess : RunExit::kUnhandled;
  return true;
}

void VcpuLoop::DescribeAccess(const Access &a) {
  double *f = fields();
  f[kFieldKind] = static_cast<double>(a.kind);
  f[kFieldAddress] = static_cast<double>(a.address);
  f[kFieldAddressLo] = static_cast<double>(static_cast<uint32_t>(a.address));
  f[kFieldAddressHi] = static_cast<double>(static_cast<uint32_t>(a.address >> 32));
  f[kFieldSize] = a.size;
  f[kFieldIsWrite] = a.is_write ? 1 : 0;
  f[kFieldCount] = a.count;
}

bool VcpuLoop::Native(const Access &a) {
  for (const NativeDevice &d : native_devices_) {
    if (d.range.kind != a.kind || a.address < d.range.start || a.address >= d.range.end) continue;
    if (a.is_write && d.type == NativeDeviceType::kInterrupt) vcpu_.RaiseIrq(true);
    if (!a.is_write) {
      uint64_t value = d.type == NativeDeviceType::kCounter  ? MonotonicNs()
                       : d.type == NativeDeviceType::kPmTimer ? PmTimer()
                       : d.type == NativeDeviceType::kInterrupt ? 0
                                                                : d.value;
      for (uint32_t i = 0; i < a.count; i++) std::memcpy(a.data + i * a.size, &value, a.size);  // little-endian host
    }
    return true;
  }
  return false;
}

bool VcpuLoop::ConsoleByte(uint8_t byte) {
  if (console_.size() < limits_.max_output) console_.push_back(static_cast<char>(byte));
  else console_dropped_++;
  return static_cast<int>(byte) != limits_.stop_byte;
}

// Writes the bytes just printed to the run's console fd. A reader that does not drain holds the
// vCPU here, in slices: a stop or the time limit (a kick) ends the wait, and the bytes not yet
// written are dropped with the run.
bool VcpuLoop::StreamConsole(const uint8_t *data, size_t len) {
  while (len > 0 && !vcpu_.StopRequested()) {
    ssize_t n = WriteConsole(limits_.console_fd, data, len, kConsoleWaitMs);
    if (n < 0) return false;
    data += n;
    len -= static_cast<size_t>(n);
  }
  return true;
}

// One record per access (a PIO string is one record carrying its first element).
void VcpuLoop::Record(const Access &a) {
  EventRecord &r = ring_.Next();
  r.time_ns = static_cast<double>(MonotonicNs());
  r.address = static_cast<double>(a.address);
  r.address_lo = static_cast<uint32_t>(a.address);
  r.address_hi = static_cast<uint32_t>(a.address >> 32);
  r.pc = static_cast<double>(pc_);
  EventKind kind = a.kind == AccessKind::kMmio ? (a.is_write ? kEventMmioWrite : kEventMmioRead)
                                              : (a.is_write ? kEventPioWrite : kEventPioRead);
  r.kind = kind;
  r.size = a.size;
  uint64_t data = 0;
  std::memcpy(&data, a.data, a.size <= 8 ? a.size : 8);
  r.data_lo = static_cast<uint32_t>(data);
  r.data_hi = static_cast<uint32_t>(data >> 32);
  ring_.Publish(kind);
}

RunExit VcpuLoop::GuestError(int exit_reason, uint64_t detail, int err) {
  double *f = fields();
  f[kFieldExitReason] = exit_reason;
  f[kFieldErrorDetail] = static_cast<double>(detail);
  f[kFieldErrno] = err;
  return RunExit::kGuestError;
}

}  // namespace femtovm
