// A VM snapshot: a copy of guest RAM and the whole vCPU state, and the cheap way back to it. RAM is
// restored page by page from KVM's dirty log (KVM_MEM_LOG_DIRTY_PAGES + KVM_GET_DIRTY_LOG) for large
// regions; for small ones copying the whole region is cheaper than asking KVM which pages changed.
#pragma once
#include <cstdint>
#include <vector>

#include "arch.h"
#include "kvm_vcpu.h"

namespace femtovm {

class Snapshot {
 public:
  // Regions up to this size are copied whole on restore (measured: a 64 KiB memcpy costs less than
  // a KVM_GET_DIRTY_LOG round trip on a nested host).
  static constexpr uint64_t kCopyWholeBelow = 256 * 1024;

  Snapshot(KvmVm &vm, KvmVcpu &vcpu);  // throws CoreError
  // Puts RAM and the vCPU back as they were. `host_wrote`: the VMM wrote guest RAM itself since
  // (KVM's dirty log sees only the guest's writes), so every page is copied. Returns pages copied.
  uint64_t Restore(KvmVm &vm, KvmVcpu &vcpu, bool host_wrote);

 private:
  struct RegionCopy {
    uint32_t slot;
    bool dirty_log;  // restored from the dirty log, not copied whole
    std::vector<uint8_t> bytes;
  };
  std::vector<RegionCopy> regions_;
  arch::ArchStatePtr vcpu_state_;
};

}  // namespace femtovm
