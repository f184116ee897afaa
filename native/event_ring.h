// The per-VM event ring: a SharedArrayBuffer the vCPU loop writes one fixed-size record into for every
// MMIO/PIO access, and the main thread drains. Lossless and ordered: when the ring is full the writer
// does not overwrite; the loop returns kRingFull and the worker waits for the consumer (backpressure).
// The consumer sleeps between batches; the loop returns kRingWake when half the ring waits for it, for
// the worker to wake it (a V8 waiter can only be woken from JavaScript).
// Layout shared with src/shared/event-ring.ts.
#pragma once
#include <atomic>
#include <cstddef>
#include <cstdint>

namespace femtovm {

// Header: int32 words at the start of the buffer. The words each side writes sit on their own cache
// lines, 128 bytes apart (adjacent-line prefetchers pair lines): the consumer's stores never take the
// line the producer writes on every exit away from it.
enum RingHeader : int {
  kRingWrite = 0,     // records written (wraps at 2^32); producer line
  kRingCapacity = 2,  // records the ring holds (a power of two)
  kRingClosed = 3,    // 1 once the producer side will write no more (set from JS)
  kRingRead = 32,     // records consumed (written by the consumer); consumer line
  kRingHeaderWords = 64,
};
constexpr size_t kRingHeaderBytes = kRingHeaderWords * 4;
constexpr size_t kRingRecordBytes = 64;

// Event kinds (bits): access kind and direction.
enum EventKind : uint32_t { kEventMmioRead = 1, kEventMmioWrite = 2, kEventPioRead = 3, kEventPioWrite = 4 };

// The producer's tallies for the VM's event summary: doubles on the producer's line, after its
// words. Events recorded by kind (index kind - 1); then the waits for space, which the JavaScript
// half of the loop counts (src/shared/event-ring.ts).
constexpr size_t kRingStatsOffset = 16;  // bytes
enum RingStat : int { kStatStalls = 4, kStatStalledNs = 5, kRingStatCount = 6 };
static_assert(kRingStatsOffset + kRingStatCount * 8 <= kRingRead * 4, "the tallies stay on the producer's line");

struct EventRecord {  // 64 bytes, little-endian, read by JS through Float64Array/Uint32Array views
  double seq;         // 0-based, contiguous
  double time_ns;     // CLOCK_MONOTONIC
  double address;     // exact below 2^53; address_lo/hi always are
  double pc;
  uint32_t kind;
  uint32_t size;
  uint32_t data_lo;
  uint32_t data_hi;
  uint32_t address_lo;
  uint32_t address_hi;
  uint32_t reserved[2];
};
static_assert(sizeof(EventRecord) == kRingRecordBytes, "record layout is shared with JS");

// Takes a cache line for writing ahead of time: the consumer read this slot's last record and holds
// its line, and a store that must first take it back from the other core stalls the next KVM_RUN.
inline void PrefetchForWrite(const void *p) {
#if defined(__x86_64__)
  asm volatile("prefetchw %0" : : "m"(*static_cast<const char *>(p)));
#else
  __builtin_prefetch(p, 1, 3);
#endif
}

class EventRing {
 public:
  void Attach(uint8_t *buffer) {
    header_ = reinterpret_cast<int32_t *>(buffer);
    records_ = reinterpret_cast<EventRecord *>(buffer + kRingHeaderBytes);
    stats_ = reinterpret_cast<double *>(buffer + kRingStatsOffset);
    capacity_ = static_cast<uint32_t>(header_[kRingCapacity]);
    written_ = Load(kRingWrite);
    free_until_ = Load(kRingRead) + capacity_;
    checked_ = written_;
    PrefetchForWrite(&records_[written_ & (capacity_ - 1)]);
  }
  bool attached() const { return header_ != nullptr; }
  // Reads the consumer's index only when the slots known to be free run out: once per ring's worth
  // of records, instead of pulling the consumer's cache line over on every exit.
  bool Full() {
    if (written_ != free_until_) return false;
    free_until_ = Load(kRingRead) + capacity_;
    return written_ == free_until_;
  }
  // The next record to fill, its seq set; Publish() makes it visible. Call only when !Full().
  EventRecord &Next() {
    EventRecord &r = records_[written_ & (capacity_ - 1)];
    r.seq = static_cast<double>(seq_);
    return r;
  }
  // Whether to wake the consumer: half a ring waits for it (it only sleeps once it has taken every
  // record, so that much arrived while it slept). Its read index is looked at once per eighth of a
  // ring, not on every exit.
  bool WakeDue() {
    if (written_ - checked_ < capacity_ / 8) return false;
    checked_ = written_;
    return written_ - Load(kRingRead) >= capacity_ / 2;
  }
  // Publishes the record Next() handed out, counting it by kind.
  void Publish(EventKind kind) {
    stats_[kind - 1] += 1;
    seq_++;
    written_++;
    __atomic_store_n(&header_[kRingWrite], static_cast<int32_t>(written_), __ATOMIC_RELEASE);
    PrefetchForWrite(&records_[written_ & (capacity_ - 1)]);  // while the guest runs to its next exit
  }

 private:
  uint32_t Load(int word) const { return static_cast<uint32_t>(__atomic_load_n(&header_[word], __ATOMIC_ACQUIRE)); }
  int32_t *header_ = nullptr;
  EventRecord *records_ = nullptr;
  double *stats_ = nullptr;
  uint32_t capacity_ = 0;
  uint32_t written_ = 0;     // records written: the producer's own copy of kRingWrite
  uint32_t free_until_ = 0;  // written_ may reach this without looking at kRingRead again
  uint32_t checked_ = 0;     // written_ when WakeDue() last looked at kRingRead
  uint64_t seq_ = 0;
};

}  // namespace femtovm
