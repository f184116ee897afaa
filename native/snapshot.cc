#include "snapshot.h"

#include <linux/kvm.h>
#include <sys/ioctl.h>

#include <cerrno>
#include <cstring>

namespace femtovm {

namespace {
constexpr uint64_t kPage = 4096;

// Reads and clears the slot's dirty bitmap (one bit per page).
std::vector<uint64_t> DirtyLog(KvmVm &vm, uint32_t slot, uint64_t size) {
  std::vector<uint64_t> bitmap((size / kPage + 63) / 64, 0);
  kvm_dirty_log log = {};
  log.slot = slot;
  log.dirty_bitmap = bitmap.data();
  if (ioctl(vm.fd(), KVM_GET_DIRTY_LOG, &log) < 0) throw SyscallError("ERR_MEMORY", "KVM_GET_DIRTY_LOG");
  return bitmap;
}
// A run that ended on an MMIO/PIO exit (a stop, a limit) leaves KVM waiting to complete that access
// at the next KVM_RUN, which would then write into the restored state. KVM_RUN with immediate_exit
// completes it without entering the guest (as QEMU does before reading or writing vCPU state).
void CompletePendingAccess(KvmVcpu &vcpu) {
  kvm_run *run = vcpu.run();
  if (run->exit_reason != KVM_EXIT_MMIO && run->exit_reason != KVM_EXIT_IO) return;
  run->immediate_exit = 1;
  int r = ioctl(vcpu.fd(), KVM_RUN, 0);
  int err = errno;
  run->immediate_exit = 0;
  if (r == 0 || err != EINTR) throw SyscallError("ERR_KVM_REGISTER", "KVM_RUN (completing an access)", err);
  run->exit_reason = KVM_EXIT_INTR;
}
}  // namespace

Snapshot::Snapshot(KvmVm &vm, KvmVcpu &vcpu) : vcpu_state_((CompletePendingAccess(vcpu), arch::SaveState(vm, vcpu))) {
  for (const MemoryRegion &r : vm.regions()) {
    uint64_t size = r.mapping->size;
    vm.EnableDirtyLog(r.slot);
    DirtyLog(vm, r.slot, size);  // start clean: only what the guest writes from now on
    regions_.push_back(RegionCopy{r.slot, std::vector<uint8_t>(r.mapping->host, r.mapping->host + size)});
  }
}

uint64_t Snapshot::Restore(KvmVm &vm, KvmVcpu &vcpu, bool host_wrote) {
  CompletePendingAccess(vcpu);  // before RAM: completing a read may still store to the guest
  uint64_t pages = 0;
  for (RegionCopy &copy : regions_) {
    const MemoryRegion &r = vm.regions().at(copy.slot);
    uint8_t *host = r.mapping->host;
    uint64_t size = copy.bytes.size();
    std::vector<uint64_t> dirty = DirtyLog(vm, copy.slot, size);  // also clears it for the next run
    for (uint64_t page = 0; page < size / kPage; page++) {
      if (!host_wrote && !(dirty[page / 64] >> (page % 64) & 1)) continue;
      std::memcpy(host + page * kPage, copy.bytes.data() + page * kPage, kPage);
      pages++;
    }
  }
  arch::RestoreState(vcpu, *vcpu_state_);
  return pages;
}

}  // namespace femtovm
