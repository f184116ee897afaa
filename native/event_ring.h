// The per-VM event ring: a SharedArrayBuffer the vCPU loop writes one fixed-size record into for every
// MMIO/PIO access, and the main thread drains. Lossless and ordered: when the ring is full the writer
// does not overwrite; the loop returns kRingFull and the worker waits for the consumer (backpressure).
// Layout shared with src/host/event-ring.ts.
#pragma once
#include <atomic>
#include <cstddef>
#include <cstdint>

namespace femtovm {

// Header: int32 words at the start of the buffer.
enum RingHeader : int {
  kRingWrite = 0,     // records written (wraps at 2^32)
  kRingRead = 1,      // records consumed (written by the consumer)
  kRingCapacity = 2,  // records the ring holds (a power of two)
  kRingClosed = 3,    // 1 once the producer side will write no more (set from JS)
  kRingHeaderWords = 16,
};
constexpr size_t kRingHeaderBytes = kRingHeaderWords * 4;
constexpr size_t kRingRecordBytes = 64;

// Event kinds (bits): access kind and direction.
enum EventKind : uint32_t { kEventMmioRead = 1, kEventMmioWrite = 2, kEventPioRead = 3, kEventPioWrite = 4 };

struct EventRecord {  // 64 bytes, little-endian, read by JS through Float64Array/Uint32Array views
  double seq;         // 0-based, contiguous
  double time_ns;     // CLOCK_MONOTONIC
  double address;
  double pc;
  uint32_t kind;
  uint32_t size;
  uint32_t data_lo;
  uint32_t data_hi;
  uint32_t reserved[4];
};
static_assert(sizeof(EventRecord) == kRingRecordBytes, "record layout is shared with JS");

class EventRing {
 public:
  void Attach(uint8_t *buffer) {
    header_ = reinterpret_cast<int32_t *>(buffer);
    records_ = reinterpret_cast<EventRecord *>(buffer + kRingHeaderBytes);
    capacity_ = static_cast<uint32_t>(header_[kRingCapacity]);
  }
  bool attached() const { return header_ != nullptr; }
  bool Full() const { return Written() - Load(kRingRead) >= capacity_; }
  // The next record to fill, its seq set; Publish() makes it visible. Call only when !Full().
  EventRecord &Next() {
    EventRecord &r = records_[Written() & (capacity_ - 1)];
    r.seq = static_cast<double>(seq_);
    return r;
  }
  void Publish() {
    seq_++;
    __atomic_store_n(&header_[kRingWrite], static_cast<int32_t>(Written() + 1), __ATOMIC_RELEASE);
  }

 private:
  uint32_t Written() const { return static_cast<uint32_t>(__atomic_load_n(&header_[kRingWrite], __ATOMIC_RELAXED)); }
  uint32_t Load(int word) const { return static_cast<uint32_t>(__atomic_load_n(&header_[word], __ATOMIC_ACQUIRE)); }
  int32_t *header_ = nullptr;
  EventRecord *records_ = nullptr;
  uint32_t capacity_ = 0;
  uint64_t seq_ = 0;
};

}  // namespace femtovm
