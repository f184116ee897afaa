// AArch64 guests on arm64 hosts: the vCPU is initialised for the preferred target with PSCI 0.2 (so
// SYSTEM_OFF reaches us as KVM_EXIT_SYSTEM_EVENT) and starts at EL1h with DAIF masked.
#if defined(__aarch64__)
#include <linux/kvm.h>
#include <sys/ioctl.h>

#include <cerrno>
#include <cstddef>
#include <mutex>

#include "arch.h"
#include "kvm_abi.h"
#include "kvm_vcpu.h"

namespace femtovm {
namespace arch {

const char *const kName = "aarch64";

namespace {

constexpr uint64_t kPstateEl1hDaifMasked = 0x3c5;  // M=EL1h, D/A/I/F set

// The in-kernel GICv3 (docs/platform.md): distributor and the one vCPU's redistributor (2 × 64 KiB)
// above the largest RAM, and the SPI vm.interrupt() raises.
constexpr uint64_t kGicdBase = 0x80000000, kGicrBase = 0x80010000;
constexpr uint32_t kSpiIntid = 32;
// GICD_ICFGR2 holds the trigger of INTIDs 32-47, two bits each: 0b10 in INTID 32's bits is edge.
constexpr uint64_t kGicdIcfgrOfSpi = 0xc00 + 4 * (kSpiIntid / 16);
constexpr uint32_t kIcfgrEdge = 0b10 << (2 * (kSpiIntid % 16));

constexpr uint64_t CoreReg(size_t offset_bytes, uint64_t size = KVM_REG_SIZE_U64) {
  return KVM_REG_ARM64 | size | KVM_REG_ARM_CORE | (offset_bytes / sizeof(uint32_t));
}
#define CORE(field) CoreReg(offsetof(struct kvm_regs, field))

size_t RegSize(uint64_t id) { return size_t{1} << ((id & KVM_REG_SIZE_MASK) >> KVM_REG_SIZE_SHIFT); }

struct RegisterEntry {
  std::string name;
  uint64_t id;  // its size too: KVM_REG_SIZE_U32/U64/U128
};

// x0-x30, then the named core and system registers bare-metal code touches, then the FP/SIMD state
// compiled code uses (v0-v31 as 128-bit values, fpsr, fpcr). "sp" is SP_EL1, the stack pointer of
// EL1h where guests run.
const std::vector<RegisterEntry> &Registers() {
  static const std::vector<RegisterEntry> table = [] {
    static const char *const kX[] = {"x0",  "x1",  "x2",  "x3",  "x4",  "x5",  "x6",  "x7",  "x8",  "x9",  "x10",
                                     "x11", "x12", "x13", "x14", "x15", "x16", "x17", "x18", "x19", "x20", "x21",
                                     "x22", "x23", "x24", "x25", "x26", "x27", "x28", "x29", "x30"};
    std::vector<RegisterEntry> t;
    for (size_t i = 0; i < 31; i++) t.push_back({kX[i], CORE(regs.regs) + i * 2});
    t.insert(t.end(), {
                          {"sp", CORE(sp_el1)},
                          {"pc", CORE(regs.pc)},
                          {"pstate", CORE(regs.pstate)},
                          {"sp_el0", CORE(regs.sp)},
                          {"sp_el1", CORE(sp_el1)},
                          {"elr_el1", CORE(elr_el1)},
                          {"spsr_el1", CORE(spsr[KVM_SPSR_EL1])},
                          {"midr_el1", ARM64_SYS_REG(3, 0, 0, 0, 0)},
                          {"mpidr_el1", ARM64_SYS_REG(3, 0, 0, 0, 5)},
                          {"sctlr_el1", ARM64_SYS_REG(3, 0, 1, 0, 0)},
                          {"cpacr_el1", ARM64_SYS_REG(3, 0, 1, 0, 2)},
                          {"ttbr0_el1", ARM64_SYS_REG(3, 0, 2, 0, 0)},
                          {"tcr_el1", ARM64_SYS_REG(3, 0, 2, 0, 2)},
                          {"mair_el1", ARM64_SYS_REG(3, 0, 10, 2, 0)},
                          {"esr_el1", ARM64_SYS_REG(3, 0, 5, 2, 0)},
                          {"far_el1", ARM64_SYS_REG(3, 0, 6, 0, 0)},
                          {"vbar_el1", ARM64_SYS_REG(3, 0, 12, 0, 0)},
                          {"tpidr_el1", ARM64_SYS_REG(3, 0, 13, 0, 4)},
                          {"tpidr_el0", ARM64_SYS_REG(3, 3, 13, 0, 2)},
                      });
    for (size_t i = 0; i < 32; i++)
      t.push_back({"v" + std::to_string(i), CoreReg(offsetof(struct kvm_regs, fp_regs.vregs) + i * 16, KVM_REG_SIZE_U128)});
    t.push_back({"fpsr", CoreReg(offsetof(struct kvm_regs, fp_regs.fpsr), KVM_REG_SIZE_U32)});
    t.push_back({"fpcr", CoreReg(offsetof(struct kvm_regs, fp_regs.fpcr), KVM_REG_SIZE_U32)});
    return t;
  }();
  return table;
}
#undef CORE

const RegisterEntry *Find(const std::string &name) {
  for (const RegisterEntry &r : Registers())
    if (name == r.name) return &r;
  return nullptr;
}

// KVM reads and writes RegSize(id) bytes at addr: the low bytes of a RegisterValue (little-endian).
void SetOneReg(KvmVcpu &vcpu, uint64_t id, RegisterValue value) {
  kvm_one_reg reg = {id, reinterpret_cast<uint64_t>(&value)};
  if (ioctl(vcpu.fd(), KVM_SET_ONE_REG, &reg) < 0) throw SyscallError("ERR_KVM_REGISTER", "KVM_SET_ONE_REG");
}

RegisterValue GetOneReg(KvmVcpu &vcpu, uint64_t id) {
  RegisterValue value = 0;
  kvm_one_reg reg = {id, reinterpret_cast<uint64_t>(&value)};
  if (ioctl(vcpu.fd(), KVM_GET_ONE_REG, &reg) < 0) throw SyscallError("ERR_KVM_REGISTER", "KVM_GET_ONE_REG");
  return value;
}

}  // namespace

void SetupVm(KvmVm &) {}

namespace {
void VgicAttr(int fd, uint32_t group, uint64_t attr, const void *value, const char *what) {
  kvm_device_attr a = {};
  a.group = group;
  a.attr = attr;
  a.addr = reinterpret_cast<uint64_t>(value);
  if (ioctl(fd, KVM_SET_DEVICE_ATTR, &a) < 0) throw SyscallError("ERR_KVM_CREATE", what);
}
}  // namespace

void SetupIrqchip(KvmVm &vm, Irqchip irqchip) {
  if (irqchip == Irqchip::kUser) return;
  // The split irqchip is x86's (a LAPIC in KVM, the rest in the VMM): arm64 KVM lacks it.
  if (irqchip == Irqchip::kSplit) vm.RequireCapability(KVM_CAP_SPLIT_IRQCHIP, "KVM_CAP_SPLIT_IRQCHIP");
  vm.RequireCapability(KVM_CAP_DEVICE_CTRL, "KVM_CAP_DEVICE_CTRL");
  kvm_create_device device = {};
  device.type = KVM_DEV_TYPE_ARM_VGIC_V3;
  if (ioctl(vm.fd(), KVM_CREATE_DEVICE, &device) < 0) {
    if (errno == ENODEV) throw CoreError{"ERR_KVM_CAPABILITY", "this KVM lacks KVM_DEV_TYPE_ARM_VGIC_V3 (an in-kernel GICv3)", ENODEV, "KVM_CREATE_DEVICE"};
    throw SyscallError("ERR_KVM_CREATE", "KVM_CREATE_DEVICE KVM_DEV_TYPE_ARM_VGIC_V3");
  }
  int fd = static_cast<int>(device.fd);
  vm.set_irqchip(irqchip, fd);  // the VM closes it from here on
  VgicAttr(fd, KVM_DEV_ARM_VGIC_GRP_ADDR, KVM_VGIC_V3_ADDR_TYPE_DIST, &kGicdBase, "KVM_SET_DEVICE_ATTR (GICD address)");
  VgicAttr(fd, KVM_DEV_ARM_VGIC_GRP_ADDR, KVM_VGIC_V3_ADDR_TYPE_REDIST, &kGicrBase, "KVM_SET_DEVICE_ATTR (GICR address)");
}

void SetupVcpu(KvmVm &vm, KvmVcpu &vcpu, const BootParams &boot) {
  kvm_vcpu_init init = {};
  if (ioctl(vm.fd(), KVM_ARM_PREFERRED_TARGET, &init) < 0)
    throw SyscallError("ERR_KVM_CREATE", "KVM_ARM_PREFERRED_TARGET");
  init.features[0] |= 1u << KVM_ARM_VCPU_PSCI_0_2;
  if (ioctl(vcpu.fd(), KVM_ARM_VCPU_INIT, &init) < 0) throw SyscallError("ERR_KVM_CREATE", "KVM_ARM_VCPU_INIT");
  SetRegister(vcpu, "pstate", kPstateEl1hDaifMasked);
  SetRegister(vcpu, "pc", boot.entry);
  SetRegister(vcpu, "sp", boot.stack_top);
  // The start state (src/host/arm64-start.ts): the tables first, then the registers that point at them.
  if (!boot.rom.empty()) vm.AddRom(boot.rom_addr, boot.rom);
  for (const auto &[name, value] : boot.start_registers) {
    if (!SetRegister(vcpu, name, value)) throw CoreError{"ERR_KVM_REGISTER", "unknown start register", 0, nullptr};
  }
  // The vGIC initialises once its vCPUs exist.
  if (vm.irqchip_fd() >= 0) VgicAttr(vm.irqchip_fd(), KVM_DEV_ARM_VGIC_GRP_CTRL, KVM_DEV_ARM_VGIC_CTRL_INIT, nullptr, "KVM_SET_DEVICE_ATTR (vGIC init)");
}

bool GetRegister(KvmVcpu &vcpu, const std::string &name, RegisterValue *value) {
  const RegisterEntry *r = Find(name);
  if (r == nullptr) return false;
  *value = GetOneReg(vcpu, r->id);
  return true;
}

bool SetRegister(KvmVcpu &vcpu, const std::string &name, RegisterValue value) {
  const RegisterEntry *r = Find(name);
  if (r == nullptr) return false;
  SetOneReg(vcpu, r->id, value);
  return true;
}

unsigned RegisterBits(const std::string &name) {
  const RegisterEntry *r = Find(name);
  return r == nullptr ? 0 : static_cast<unsigned>(RegSize(r->id) * 8);
}

void SetIrqLine(KvmVcpu &vcpu, bool high) {
  kvm_irq_level irq = {};
  irq.irq = vcpu.irqchip() == Irqchip::kUser
                ? (KVM_ARM_IRQ_TYPE_CPU << KVM_ARM_IRQ_TYPE_SHIFT) | (0 << KVM_ARM_IRQ_VCPU_SHIFT) | KVM_ARM_IRQ_CPU_IRQ  // vCPU 0
                : (KVM_ARM_IRQ_TYPE_SPI << KVM_ARM_IRQ_TYPE_SHIFT) | kSpiIntid;
  irq.level = high ? 1 : 0;
  ioctl(vcpu.vm_fd(), KVM_IRQ_LINE, &irq);  // cannot fail: vCPU 0 without a GIC, or an SPI the vGIC has
}

uint32_t IrqfdGsi(KvmVm &vm) {
  // KVM's SPIs start level-triggered, and an irqfd raises and lowers its GSI at once: a level SPI would
  // be low again before the vCPU looked. Edge-triggered, the pulse latches it pending until taken.
  // (The distributor's registers are the VMM's to set once the vGIC is initialised.)
  uint32_t icfgr = kIcfgrEdge;
  VgicAttr(vm.irqchip_fd(), KVM_DEV_ARM_VGIC_GRP_DIST_REGS, kGicdIcfgrOfSpi, &icfgr, "KVM_SET_DEVICE_ATTR (GICD_ICFGR: the SPI edge-triggered)");
  return kSpiIntid - 32;
}

bool InjectIrq(KvmVcpu &) { return true; }
bool IrqInjectedByLoop(KvmVcpu &) { return false; }

bool HaltWaitsForIrq(KvmVcpu &) { return false; }  // WFI waits inside KVM

void EnableExitPc(KvmVcpu &) {}

void PowerOn(KvmVcpu &vcpu) {
  kvm_mp_state runnable = {KVM_MP_STATE_RUNNABLE};
  if (ioctl(vcpu.fd(), KVM_SET_MP_STATE, &runnable) < 0) throw SyscallError("ERR_KVM_REGISTER", "KVM_SET_MP_STATE");
}

// arm64 has no sync regs: one KVM_GET_ONE_REG per recorded exit.
uint64_t ExitPc(KvmVcpu &vcpu) {
  uint64_t pc = 0;
  kvm_one_reg reg = {CoreReg(offsetof(struct kvm_regs, regs.pc)), reinterpret_cast<uint64_t>(&pc)};
  ioctl(vcpu.fd(), KVM_GET_ONE_REG, &reg);  // on failure the record says pc 0 rather than failing the run
  return pc;
}

// ---- snapshots: every register KVM_GET_REG_LIST names (core, FP/SIMD, system, timer, firmware),
// minus the few it will not take back (found once per process by writing back what was read).

struct ArchState {
  std::vector<uint64_t> ids;
  std::vector<uint8_t> values;  // each register's bytes, in the order of ids
  kvm_mp_state mp_state;        // after PSCI SYSTEM_OFF the vCPU is powered off: KVM_RUN would block
};

void ArchStateDeleter::operator()(ArchState *state) const { delete state; }

namespace {

std::vector<uint64_t> SaveableRegs(KvmVcpu &vcpu) {
  static std::mutex mutex;
  static std::vector<uint64_t> saveable;
  static bool probed = false;
  std::lock_guard<std::mutex> lock(mutex);
  if (probed) return saveable;
  abi::RegListHeader probe = {};
  ioctl(vcpu.fd(), abi::kGetRegList, &probe);  // E2BIG, with n filled in
  std::vector<uint64_t> list(1 + probe.n);  // n, then the ids
  list[0] = probe.n;
  if (ioctl(vcpu.fd(), abi::kGetRegList, list.data()) < 0) throw SyscallError("ERR_KVM_REGISTER", "KVM_GET_REG_LIST");
  for (uint64_t i = 1; i <= list[0]; i++) {
    uint64_t id = list[i];
    uint8_t value[256];
    if (RegSize(id) > sizeof value) continue;
    kvm_one_reg reg = {id, reinterpret_cast<uint64_t>(value)};
    if (ioctl(vcpu.fd(), KVM_GET_ONE_REG, &reg) == 0 && ioctl(vcpu.fd(), KVM_SET_ONE_REG, &reg) == 0)
      saveable.push_back(id);
  }
  probed = true;
  return saveable;
}

}  // namespace

ArchStatePtr SaveState(KvmVm &, KvmVcpu &vcpu) {
  ArchStatePtr state(new ArchState());
  if (ioctl(vcpu.fd(), KVM_GET_MP_STATE, &state->mp_state) < 0) throw SyscallError("ERR_KVM_REGISTER", "KVM_GET_MP_STATE");
  state->ids = SaveableRegs(vcpu);
  size_t total = 0;
  for (uint64_t id : state->ids) total += RegSize(id);
  state->values.resize(total);
  size_t offset = 0;
  for (uint64_t id : state->ids) {
    kvm_one_reg reg = {id, reinterpret_cast<uint64_t>(state->values.data() + offset)};
    if (ioctl(vcpu.fd(), KVM_GET_ONE_REG, &reg) < 0) throw SyscallError("ERR_KVM_REGISTER", "KVM_GET_ONE_REG");
    offset += RegSize(id);
  }
  return state;
}

void RestoreState(KvmVcpu &vcpu, const ArchState &state) {
  if (ioctl(vcpu.fd(), KVM_SET_MP_STATE, &state.mp_state) < 0) throw SyscallError("ERR_KVM_REGISTER", "KVM_SET_MP_STATE");
  size_t offset = 0;
  for (uint64_t id : state.ids) {
    kvm_one_reg reg = {id, reinterpret_cast<uint64_t>(state.values.data() + offset)};
    if (ioctl(vcpu.fd(), KVM_SET_ONE_REG, &reg) < 0) throw SyscallError("ERR_KVM_REGISTER", "KVM_SET_ONE_REG");
    offset += RegSize(id);
  }
}

const std::vector<std::string> &RegisterNames() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> all;
    for (const RegisterEntry &r : Registers()) all.emplace_back(r.name);
    return all;
  }();
  return names;
}

}  // namespace arch
}  // namespace femtovm
#endif  // __aarch64__
