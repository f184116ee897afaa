#include "kvm_vm.h"

#include <linux/kvm.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "arch.h"

namespace femtovm {

KvmVm::KvmVm() : system_(KvmSystem::Get()) {
  // KVM_CREATE_VM fails with EINTR when any signal is pending while it registers with the process's
  // memory (a profiler's SIGPROF, a kick meant for another vCPU): nothing was created, so retry.
  do fd_ = ioctl(system_->fd(), KVM_CREATE_VM, 0UL);
  while (fd_ < 0 && errno == EINTR);
  if (fd_ < 0) throw SyscallError("ERR_KVM_CREATE", "KVM_CREATE_VM");
  try {
    arch::SetupVm(*this);
  } catch (...) {
    close(fd_);
    throw;
  }
}

void Mapping::Unmap() {
  if (!mapped_) return;
  munmap(host, size);
  mapped_ = false;
}

// Closing the VM fd drops KVM's references to the slots; the mappings go with their last owner.
KvmVm::~KvmVm() { close(fd_); }

namespace {
// An anonymous mapping of `size` bytes registered as memory slot `slot`.
std::shared_ptr<Mapping> MapSlot(int vm_fd, uint32_t slot, uint64_t guest_addr, uint64_t size, uint32_t flags) {
  void *host = mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (host == MAP_FAILED) throw SyscallError("ERR_MEMORY", "mmap guest memory");
  auto mapping = std::make_shared<Mapping>(static_cast<uint8_t *>(host), size);
  kvm_userspace_memory_region region = {};
  region.slot = slot;
  region.flags = flags;
  region.guest_phys_addr = guest_addr;
  region.memory_size = size;
  region.userspace_addr = reinterpret_cast<uint64_t>(host);
  if (ioctl(vm_fd, KVM_SET_USER_MEMORY_REGION, &region) < 0) throw SyscallError("ERR_MEMORY", "KVM_SET_USER_MEMORY_REGION");
  return mapping;
}
}  // namespace

const MemoryRegion &KvmVm::AddRegion(uint64_t guest_addr, uint64_t size) {
  if (rom_) throw CoreError{"ERR_MEMORY", "RAM regions go before the ROM", 0, nullptr};
  uint32_t slot = static_cast<uint32_t>(regions_.size());
  regions_.push_back(MemoryRegion{slot, guest_addr, MapSlot(fd_, slot, guest_addr, size, 0)});
  return regions_.back();
}

void KvmVm::AddRom(uint64_t guest_addr, const std::vector<uint8_t> &bytes) {
  std::shared_ptr<Mapping> rom = MapSlot(fd_, static_cast<uint32_t>(regions_.size()), guest_addr, bytes.size(), KVM_MEM_READONLY);
  std::memcpy(rom->host, bytes.data(), bytes.size());
  rom_ = rom;
}

void KvmVm::EnableDirtyLog(uint32_t slot) {
  const MemoryRegion &r = regions_.at(slot);
  kvm_userspace_memory_region region = {};
  region.slot = slot;
  region.flags = KVM_MEM_LOG_DIRTY_PAGES;
  region.guest_phys_addr = r.guest_addr;
  region.memory_size = r.mapping->size;
  region.userspace_addr = reinterpret_cast<uint64_t>(r.mapping->host);
  if (ioctl(fd_, KVM_SET_USER_MEMORY_REGION, &region) < 0) throw SyscallError("ERR_MEMORY", "KVM_SET_USER_MEMORY_REGION (dirty log)");
}

uint8_t *KvmVm::Translate(uint64_t guest_addr, uint64_t len) const {
  for (const MemoryRegion &r : regions_) {
    uint64_t size = r.mapping->size;
    if (guest_addr >= r.guest_addr && len <= size && guest_addr - r.guest_addr <= size - len)
      return r.mapping->host + (guest_addr - r.guest_addr);
  }
  return nullptr;
}

int KvmVm::AddCoalescedZone(bool pio, uint64_t addr, uint64_t size) {
  int page_offset = system_->CheckExtension(KVM_CAP_COALESCED_MMIO);
  if (page_offset <= 0) throw CoreError{"ERR_KVM_CAPABILITY", "this KVM lacks KVM_CAP_COALESCED_MMIO", 0, nullptr};
  if (pio && system_->CheckExtension(KVM_CAP_COALESCED_PIO) <= 0)
    throw CoreError{"ERR_KVM_CAPABILITY", "this KVM lacks KVM_CAP_COALESCED_PIO", 0, nullptr};
  kvm_coalesced_mmio_zone zone = {};
  zone.addr = addr;
  zone.size = static_cast<uint32_t>(size);
  zone.pio = pio ? 1 : 0;
  if (ioctl(fd_, KVM_REGISTER_COALESCED_MMIO, &zone) < 0) throw SyscallError("ERR_KVM_CREATE", "KVM_REGISTER_COALESCED_MMIO");
  return page_offset;
}

void KvmVm::AddIoeventfd(int fd, bool pio, uint64_t addr, uint32_t len, const uint64_t *match) {
  if (system_->CheckExtension(KVM_CAP_IOEVENTFD) <= 0) throw CoreError{"ERR_KVM_CAPABILITY", "this KVM lacks KVM_CAP_IOEVENTFD", 0, nullptr};
  kvm_ioeventfd io = {};
  io.addr = addr;
  io.len = len;
  io.fd = fd;
  io.flags = (pio ? KVM_IOEVENTFD_FLAG_PIO : 0) | (match != nullptr ? KVM_IOEVENTFD_FLAG_DATAMATCH : 0);
  if (match != nullptr) io.datamatch = *match;
  if (ioctl(fd_, KVM_IOEVENTFD, &io) < 0) throw SyscallError("ERR_KVM_CREATE", "KVM_IOEVENTFD");
}

}  // namespace femtovm
