// A KVM VM fd and its guest RAM: each region is an anonymous mapping registered with
// KVM_SET_USER_MEMORY_REGION. JavaScript sees a region through an ArrayBuffer over the same memory.
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "kvm_system.h"

namespace femtovm {

// An anonymous mapping, unmapped when its last owner lets go: the VM and any JS ArrayBuffer over it
// share it, so a buffer that outlives its VM never points at unmapped memory. A VM that closes with
// every such buffer detached unmaps it at once (Unmap), instead of when the collector gets to them.
struct Mapping {
  Mapping(uint8_t *host, uint64_t size) : host(host), size(size) {}
  ~Mapping() { Unmap(); }
  Mapping(const Mapping &) = delete;
  Mapping &operator=(const Mapping &) = delete;
  void Unmap();  // idempotent; only once nothing can reach the memory
  uint8_t *const host;
  const uint64_t size;

 private:
  bool mapped_ = true;
};

struct MemoryRegion {
  uint32_t slot;
  uint64_t guest_addr;
  std::shared_ptr<Mapping> mapping;
};

class KvmVm {
 public:
  KvmVm();  // KVM_CREATE_VM (+ arch setup); throws CoreError
  ~KvmVm();
  KvmVm(const KvmVm &) = delete;
  KvmVm &operator=(const KvmVm &) = delete;

  int fd() const { return fd_; }
  KvmSystem &system() const { return *system_; }

  // Maps `size` bytes (page-aligned) at `guest_addr` as guest RAM; returns the region.
  const MemoryRegion &AddRegion(uint64_t guest_addr, uint64_t size);
  const std::vector<MemoryRegion> &regions() const { return regions_; }
  // Maps `bytes` (a whole number of pages) read-only at `guest_addr`, after every RAM region: the
  // guest reads them, its writes exit as MMIO. Not RAM: no view, no snapshot, no Translate().
  void AddRom(uint64_t guest_addr, const std::vector<uint8_t> &bytes);
  // Has KVM log which pages of the region the guest writes (KVM_MEM_LOG_DIRTY_PAGES).
  void EnableDirtyLog(uint32_t slot);
  // Host pointer for [guest_addr, guest_addr + len) inside one region, or nullptr.
  uint8_t *Translate(uint64_t guest_addr, uint64_t len) const;
  // Has KVM append guest writes to [addr, addr + size) (ports when `pio`) to its coalesced ring
  // instead of exiting (KVM_REGISTER_COALESCED_MMIO). Returns the ring's page offset in the vCPU
  // mapping. Throws CoreError ERR_KVM_CAPABILITY naming the capability this KVM lacks.
  int AddCoalescedZone(bool pio, uint64_t addr, uint64_t size);
  // A guest write of `len` bytes to `addr` (a port when `pio`, matching `match` when given) signals
  // the eventfd `fd` inside KVM, with no exit (KVM_IOEVENTFD). Throws CoreError ERR_KVM_CAPABILITY
  // when KVM lacks KVM_CAP_IOEVENTFD, ERR_KVM_CREATE when it refuses the doorbell.
  void AddIoeventfd(int fd, bool pio, uint64_t addr, uint32_t len, const uint64_t *match);

 private:
  std::shared_ptr<KvmSystem> system_;
  int fd_ = -1;
  std::vector<MemoryRegion> regions_;
  std::shared_ptr<Mapping> rom_;
};

}  // namespace femtovm
