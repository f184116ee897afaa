// The vCPU run loop: KVM_RUN until something needs the caller. Exits for native devices (the console,
// accesses the user chose to ignore) are handled here without returning; an access for a JavaScript
// device returns once, its details written into a caller-owned exit record (no allocation per exit).
// Writes KVM coalesced instead of exiting are drained from its ring in order before whatever follows
// them and handled the same way; the interrupt acknowledge lowers the vCPU's interrupt line; on x86
// the loop injects that line's vector between runs (arch::InjectIrq).
#pragma once
#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "coalesced_ring.h"
#include "event_ring.h"
#include "kvm_vcpu.h"

namespace femtovm {

// Why Resume() returned. Values are shared with src/shared/addon.ts.
enum class RunExit : int32_t {
  kUserAccess = 1,   // an access to a JavaScript device: handle it, then Resume()
  kHalted = 2,       // x86 HLT
  kSystemOff = 3,    // PSCI SYSTEM_OFF
  kSystemReset = 4,  // PSCI SYSTEM_RESET
  kStopped = 5,      // Kick(kStop)
  kTimeout = 6,      // the deadline passed
  kMaxExits = 7,     // the exit budget is spent
  kStopByte = 8,     // the console printed the stop byte
  kUnhandled = 9,    // an access no device claims (details in the exit record)
  kGuestError = 10,  // FAIL_ENTRY, INTERNAL_ERROR, SHUTDOWN, an unknown exit, or KVM_RUN failing
  kRingFull = 11,    // the event ring is full: wait for the consumer, then Resume() (nothing is lost)
  kRingWake = 12,    // half the ring waits for the consumer: wake it, then Resume()
  kCoalescedRead = 13,  // a read of a coalesced (write-only) range (details in the exit record)
};

enum class AccessKind : int32_t { kMmio = 1, kPio = 2 };

// The platform's console: byte stores to this MMIO address, byte OUTs to this port.
constexpr uint64_t kConsoleMmio = 0x996;
constexpr uint64_t kConsolePort = 0x3f8;
// Any MMIO write here acknowledges the interrupt vm.interrupt() raised: the line goes low.
constexpr uint64_t kInterruptAck = 0x9f8;

// The exit record, laid out in a caller-owned buffer: doubles first, then the access data bytes.
// Field indices are shared with src/shared/addon.ts.
enum ExitField : int {
  kFieldKind = 0,         // AccessKind
  kFieldAddress = 1,      // guest-physical address or port
  kFieldSize = 2,         // bytes per access (1, 2, 4, 8)
  kFieldIsWrite = 3,      // 1 write, 0 read
  kFieldCount = 4,        // PIO string repeat count (1 for MMIO)
  kFieldExits = 5,        // exits so far in this run
  kFieldExitReason = 6,   // kGuestError: KVM exit reason, or -1 when KVM_RUN itself failed
  kFieldErrorDetail = 7,  // kGuestError: hardware entry failure reason / internal suberror
  kFieldErrno = 8,        // kGuestError with KVM_RUN failing: errno
  kFieldPc = 9,           // a one-shot run that failed (native/one_shot.h): the PC, read before its VM went
  kFieldAddressLo = 10,   // the address's low and high 32 bits: exact where kFieldAddress (a double) is not, >= 2^53
  kFieldAddressHi = 11,
  kExitFieldCount = 12,
};
constexpr size_t kExitDataOffset = 128;  // bytes; data of the access follows the fields
constexpr size_t kExitDataMax = 4096;    // the largest PIO string KVM hands over
constexpr size_t kExitRecordSize = kExitDataOffset + kExitDataMax;

struct AccessRange {
  AccessKind kind;
  uint64_t start;
  uint64_t end;  // exclusive
};

// Devices answered in C++ without leaving the loop (besides the console).
enum class NativeDeviceType : int32_t {
  kConstant = 1,  // reads return `value` (little-endian, truncated to the access size); writes are dropped
  kCounter = 2,   // reads return a free-running nanosecond counter (CLOCK_MONOTONIC); writes are dropped
  kPmTimer = 3,   // reads return the ACPI PM timer: 24 bits counting at 3.579545 MHz, as QEMU's; writes dropped
  kInterrupt = 4, // writes raise the vCPU's interrupt line, as vm.interrupt() does (a self-interrupt); reads 0
};

struct NativeDevice {
  AccessRange range;
  NativeDeviceType type;
  uint64_t value;
};

struct RunLimits {
  uint64_t max_exits = 0;  // 0: none
  int stop_byte = -1;      // -1: none
  bool has_deadline = false;
  std::chrono::steady_clock::time_point deadline;
  bool ignore_unhandled = false;  // unclaimed accesses: writes dropped, reads return 0
  uint64_t max_output = 0;        // console bytes kept; past it they are counted, not kept
  int console_fd = -1;            // -1: none; else the console is also written here as printed (console_stream.h)

  // A run's limits; a timeout (ms, 0: none) counts from now, so make them just before the run begins.
  static RunLimits Of(uint64_t max_exits, int stop_byte, double timeout_ms, bool ignore_unhandled, uint64_t max_output) {
    RunLimits limits;
    limits.max_exits = max_exits;
    limits.max_output = max_output;
    limits.stop_byte = stop_byte;
    if (timeout_ms > 0) {
      limits.has_deadline = true;
      limits.deadline = std::chrono::steady_clock::now() + std::chrono::microseconds(static_cast<int64_t>(timeout_ms * 1000.0));
    }
    limits.ignore_unhandled = ignore_unhandled;
    return limits;
  }
};

class VcpuLoop {
 public:
  explicit VcpuLoop(KvmVcpu &vcpu) : vcpu_(vcpu) {}

  void SetExitRecord(uint8_t *record) { record_ = record; }
  void SetUserRanges(std::vector<AccessRange> ranges) { user_ranges_ = std::move(ranges); }
  void AddNativeDevice(const NativeDevice &device) { native_devices_.push_back(device); }
  // Writes to `range` reach the loop through KVM's coalesced ring (KvmVm::AddCoalescedZone registered
  // it; `ring_page` is the ring inside the vCPU mapping) and go where an exit's would; reads of it are
  // an error (kCoalescedRead).
  void AddCoalescedRange(const AccessRange &range, uint8_t *ring_page);
  // Every access from now on is also recorded in the ring (a SharedArrayBuffer the caller keeps alive).
  void AttachEventRing(uint8_t *buffer);

  void Begin(const RunLimits &limits);  // starts a run: owns the vCPU, arms the deadline
  RunExit Resume();                     // enters (or re-enters) the guest
  void End();                           // ends the run (idempotent); an exit not yet handled waits for the next
  // Forgets what the guest did but the loop has not yet handled (an exit, coalesced writes): the
  // vCPU's state is being replaced (a snapshot's restore).
  void Discard();
  bool running() const { return running_; }
  bool exit_pending() const { return exit_pending_; }

  uint64_t exits() const { return exits_; }
  // Console bytes kept since the last take, and how many more were printed past the run's max_output.
  std::string TakeConsole() {
    console_dropped_ = 0;
    return std::move(console_);
  }
  uint64_t console_dropped() const { return console_dropped_; }

 private:
  struct Access {
    AccessKind kind;
    uint64_t address;
    uint32_t size;
    bool is_write;
    uint32_t count;  // PIO string repeat count (1 for MMIO)
    uint8_t *data;   // inside kvm_run
  };
  Access CurrentAccess() const;
  static bool IsConsoleWrite(const Access &a);
  static bool IsInterruptAck(const Access &a);
  bool HandleAccess(const Access &a, RunExit *result);
  bool DrainCoalesced(RunExit *result);  // true when the caller must see a write (or the ring is full, or a stop)
  bool TakeStop(RunExit *result);
  bool Coalesced(const Access &a) const;
  bool Native(const Access &a);  // true when a native device handled it
  bool ConsoleByte(uint8_t byte);  // false when it is the stop byte
  bool StreamConsole(const uint8_t *data, size_t len);  // false when the reader is gone
  void Record(const Access &a);
  void DescribeAccess(const Access &a);  // into the exit record
  RunExit GuestError(int exit_reason, uint64_t detail, int err);
  double *fields() { return reinterpret_cast<double *>(record_); }

  KvmVcpu &vcpu_;
  uint8_t *record_ = nullptr;
  std::vector<AccessRange> user_ranges_;
  std::vector<NativeDevice> native_devices_;
  std::vector<AccessRange> coalesced_ranges_;
  CoalescedRing coalesced_;
  EventRing ring_;
  // An exit taken from KVM_RUN but not yet handled (the event ring was full, or coalesced writes before
  // it went to the caller); it outlives the run, as KVM's pending access does.
  bool exit_pending_ = false;
  int failed_run_errno_ = 0;   // KVM_RUN failed: the run's end once the writes before it are drained
  bool powered_off_ = false;   // the last run ended with PSCI SYSTEM_OFF/RESET
  Access pending_read_access_{};
  RunLimits limits_;
  bool running_ = false;
  uint64_t exits_ = 0;
  uint8_t *pending_read_ = nullptr;  // where KVM wants the data of a read a JS device answers
  size_t pending_read_len_ = 0;
  uint64_t pc_ = 0;  // of the exit being handled, when events are recorded
  std::string console_;
  uint64_t console_dropped_ = 0;  // printed past limits_.max_output: a guest cannot grow console_ without bound
};

}  // namespace femtovm
