// KVM's coalesced MMIO/PIO ring: writes to a registered zone are appended here by the kernel instead
// of exiting to user space. The vCPU loop drains it, in order, before it handles the next exit (the
// writes happened before it), when a run ends, and when the watchdog finds it non-empty while the
// guest runs without exits (it nudges the vCPU out of KVM_RUN).
#pragma once
#include <cstdint>

#include "kvm_abi.h"

namespace femtovm {

class CoalescedRing {
 public:
  void Attach(uint8_t *page) {
    header_ = reinterpret_cast<abi::CoalescedRingHeader *>(page);
    entries_ = reinterpret_cast<abi::CoalescedEntry *>(page + sizeof(abi::CoalescedRingHeader));
  }
  bool attached() const { return header_ != nullptr; }
  // Thread-safe (the watchdog asks from its own thread): something waits to be drained.
  bool Pending() const {
    return header_ != nullptr &&
           __atomic_load_n(&header_->first, __ATOMIC_RELAXED) != __atomic_load_n(&header_->last, __ATOMIC_ACQUIRE);
  }
  // The oldest write; call only when Pending().
  const abi::CoalescedEntry &Front() const { return entries_[header_->first]; }
  // Drops every write waiting (the vCPU is being restored to a snapshot).
  void Clear() {
    if (header_ != nullptr) __atomic_store_n(&header_->first, __atomic_load_n(&header_->last, __ATOMIC_ACQUIRE), __ATOMIC_RELEASE);
  }
  // Gives the oldest write's slot back to KVM.
  void Pop() { __atomic_store_n(&header_->first, (header_->first + 1) % abi::kCoalescedMax, __ATOMIC_RELEASE); }

 private:
  abi::CoalescedRingHeader *header_ = nullptr;
  abi::CoalescedEntry *entries_ = nullptr;
};

}  // namespace femtovm
