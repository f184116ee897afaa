// KVM structures that end in a flexible array member, declared with their C layout. Linux's uapi
// headers declare them through __DECLARE_FLEX_ARRAY, whose empty struct takes a byte in C++: the
// C++ sizes differ from C's, and so do the ioctl numbers derived from them (KVM answers EINVAL).
#pragma once
#include <linux/kvm.h>

#include <cstdint>

namespace femtovm::abi {

struct MsrsHeader {  // struct kvm_msrs: struct kvm_msr_entry entries[] follow
  uint32_t nmsrs;
  uint32_t pad;
};
struct MsrListHeader {  // struct kvm_msr_list: uint32_t indices[] follow
  uint32_t nmsrs;
};
struct Xsave {  // struct kvm_xsave (the legacy 4 KiB area)
  uint32_t region[1024];
};
struct RegListHeader {  // struct kvm_reg_list: uint64_t reg[] follow
  uint64_t n;
};
struct IrqRoutingHeader {  // struct kvm_irq_routing: struct kvm_irq_routing_entry entries[] follow
  uint32_t nr;
  uint32_t flags;
};

static_assert(sizeof(MsrsHeader) == 8 && sizeof(MsrListHeader) == 4 && sizeof(Xsave) == 4096 && sizeof(RegListHeader) == 8 &&
                  sizeof(IrqRoutingHeader) == 8,
              "C layouts");

constexpr unsigned long kGetMsrIndexList = _IOWR(KVMIO, 0x02, MsrListHeader);
constexpr unsigned long kGetMsrs = _IOWR(KVMIO, 0x88, MsrsHeader);
constexpr unsigned long kSetMsrs = _IOW(KVMIO, 0x89, MsrsHeader);
constexpr unsigned long kGetXsave = _IOR(KVMIO, 0xa4, Xsave);
constexpr unsigned long kSetXsave = _IOW(KVMIO, 0xa5, Xsave);
constexpr unsigned long kGetXsave2 = _IOR(KVMIO, 0xcf, Xsave);
constexpr unsigned long kGetRegList = _IOWR(KVMIO, 0xb0, RegListHeader);
constexpr unsigned long kSetGsiRouting = _IOW(KVMIO, 0x6a, IrqRoutingHeader);

}  // namespace femtovm::abi

namespace femtovm::abi {

// struct kvm_coalesced_mmio_ring: a page of the vCPU mapping (at KVM_CAP_COALESCED_MMIO's page
// offset), shared by every vCPU of the VM. KVM appends at `last`; user space consumes at `first`.
struct CoalescedEntry {  // struct kvm_coalesced_mmio
  uint64_t phys_addr;
  uint32_t len;
  uint32_t pio;
  uint8_t data[8];
};
struct CoalescedRingHeader {
  uint32_t first;
  uint32_t last;
};
constexpr uint32_t kCoalescedPageSize = 4096;
constexpr uint32_t kCoalescedMax = (kCoalescedPageSize - sizeof(CoalescedRingHeader)) / sizeof(CoalescedEntry);
static_assert(sizeof(CoalescedEntry) == 24 && sizeof(CoalescedRingHeader) == 8, "C layouts");

}  // namespace femtovm::abi
