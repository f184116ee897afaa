// x86-64 guests on x86-64 hosts: 16-bit real mode as in the classic LWN example, or 64-bit long mode
// with a flat GDT and identity-mapped page tables that the VMM writes into guest RAM.
#if defined(__x86_64__)
#include <linux/kvm.h>
#include <sys/ioctl.h>

#include <cstddef>
#include <algorithm>
#include <iterator>
#include <cstring>
#include <mutex>

#include "arch.h"
#include "kvm_abi.h"
#include "kvm_vcpu.h"

namespace femtovm {
namespace arch {

const char *const kName = "x86_64";

namespace {

constexpr uint64_t kPageSize = 0x1000;
// Layout of the 7 pages at BootParams::x86_tables: GDT, PML4, PDPT, then 4 page directories of
// 2 MiB pages identity-mapping the first 4 GiB (RAM and every MMIO address a guest may use).
constexpr uint64_t kGdtPage = 0, kPml4Page = 1, kPdptPage = 2, kPdPage = 3, kPdCount = 4;
constexpr uint64_t kTablePages = kPdPage + kPdCount;
constexpr uint64_t kPresent = 1, kWritable = 2, kHugePage = 0x80;
constexpr uint16_t kCodeSelector = 0x08, kDataSelector = 0x10;
constexpr uint64_t kCr0Pe = 1, kCr0Mp = 1 << 1, kCr0Et = 1 << 4, kCr0Ne = 1 << 5, kCr0Pg = 1ULL << 31;
constexpr uint64_t kCr4Pae = 1 << 5, kCr4Osfxsr = 1 << 9, kCr4Osxmmexcpt = 1 << 10;
constexpr uint32_t kMxcsrDefault = 0x1f80;  // every SSE exception masked, round to nearest
constexpr uint16_t kFcwDefault = 0x37f;     // x87 as FNINIT leaves it
constexpr uint64_t kEferLme = 1 << 8, kEferLma = 1 << 10;
// The vector vm.interrupt() raises (docs/platform.md): the first one past the CPU's exceptions.
constexpr uint32_t kIrqVector = 0x20;
// With an in-kernel LAPIC: the MSI that delivers it (fixed, edge, to APIC id 0), the redirection
// entries of a split irqchip's user-space IOAPIC (KVM_CAP_SPLIT_IRQCHIP's argument: an IOAPIC's 24
// pins), and the spurious-interrupt vector register whose bit 8 software-enables the LAPIC.
constexpr uint32_t kMsiAddress = 0xfee00000;
constexpr uint64_t kSplitIrqchipRoutes = 24;
// The irqfd's GSI: the first past the IOAPIC's pins, which a split irqchip reserves for its IOAPIC
// (an MSI route among them would make the guest's EOI exit to user space as an IOAPIC EOI).
constexpr uint32_t kIrqfdGsi = kSplitIrqchipRoutes;
constexpr size_t kApicSvr = 0xf0;
constexpr uint32_t kApicSoftwareEnable = 1 << 8;

// GDT descriptors: base 0, limit 4 GiB, present, DPL 0. Code: execute/read, L=1. Data: read/write.
constexpr uint64_t kGdt[] = {0, 0x00af9b000000ffffULL, 0x00cf93000000ffffULL};

template <typename T>
void Get(KvmVcpu &vcpu, unsigned long request, T *value, const char *what) {
  if (ioctl(vcpu.fd(), request, value) < 0) throw SyscallError("ERR_KVM_REGISTER", what);
}

template <typename T>
void Set(KvmVcpu &vcpu, unsigned long request, const T *value, const char *what) {
  if (ioctl(vcpu.fd(), request, value) < 0) throw SyscallError("ERR_KVM_REGISTER", what);
}

kvm_segment FlatSegment(uint16_t selector, bool code) {
  kvm_segment s = {};
  s.limit = 0xffffffff;
  s.selector = selector;
  s.type = code ? 11 : 3;  // execute/read/accessed : read/write/accessed
  s.present = 1;
  s.s = 1;
  s.l = code ? 1 : 0;
  s.db = code ? 0 : 1;
  s.g = 1;
  return s;
}

void SetupLongMode(KvmVm &vm, kvm_sregs *sregs, uint64_t tables) {
  uint8_t *host = vm.Translate(tables, kTablePages * kPageSize);
  if (host == nullptr)
    throw CoreError{"ERR_MEMORY", "long-mode tables do not fit in guest RAM", 0, nullptr};
  std::memset(host, 0, kTablePages * kPageSize);
  auto page = [&](uint64_t index) { return reinterpret_cast<uint64_t *>(host + index * kPageSize); };
  auto gpa = [&](uint64_t index) { return tables + index * kPageSize; };
  std::memcpy(page(kGdtPage), kGdt, sizeof kGdt);
  page(kPml4Page)[0] = gpa(kPdptPage) | kPresent | kWritable;
  for (uint64_t d = 0; d < kPdCount; d++) {
    page(kPdptPage)[d] = gpa(kPdPage + d) | kPresent | kWritable;
    for (uint64_t i = 0; i < 512; i++)
      page(kPdPage + d)[i] = ((d * 512 + i) << 21) | kPresent | kWritable | kHugePage;
  }
  sregs->gdt.base = gpa(kGdtPage);
  sregs->gdt.limit = sizeof kGdt - 1;
  sregs->cr3 = gpa(kPml4Page);
  // SSE on (CR0.MP, EM clear, CR4.OSFXSR and OSXMMEXCPT), so compiled code's SSE runs.
  sregs->cr4 = kCr4Pae | kCr4Osfxsr | kCr4Osxmmexcpt;
  sregs->cr0 = kCr0Pe | kCr0Mp | kCr0Et | kCr0Ne | kCr0Pg;
  sregs->efer = kEferLme | kEferLma;
  sregs->cs = FlatSegment(kCodeSelector, true);
  sregs->ds = sregs->es = sregs->fs = sregs->gs = sregs->ss = FlatSegment(kDataSelector, false);
}

// General registers by their offset in struct kvm_regs.
struct RegsEntry {
  const char *name;
  size_t offset;
};
#define REG(n) {#n, offsetof(kvm_regs, n)}
constexpr RegsEntry kRegs[] = {REG(rax), REG(rbx), REG(rcx), REG(rdx), REG(rsi), REG(rdi),
                               REG(rsp), REG(rbp), REG(r8),  REG(r9),  REG(r10), REG(r11),
                               REG(r12), REG(r13), REG(r14), REG(r15), REG(rip), REG(rflags)};
#undef REG

// Special registers: control registers, EFER, and segment selectors.
constexpr unsigned kSelectorBits = 16;
struct SregsEntry {
  const char *name;
  unsigned bits;
  uint64_t (*get)(const kvm_sregs &);
  void (*set)(kvm_sregs &, uint64_t);
};
#define CR(n) {#n, 64, [](const kvm_sregs &s) -> uint64_t { return s.n; }, [](kvm_sregs &s, uint64_t v) { s.n = v; }}
#define SEL(n) \
  {#n, kSelectorBits, [](const kvm_sregs &s) -> uint64_t { return s.n.selector; }, \
   [](kvm_sregs &s, uint64_t v) { s.n.selector = static_cast<uint16_t>(v); }}
constexpr SregsEntry kSregs[] = {CR(cr0), CR(cr2), CR(cr3), CR(cr4), CR(cr8), CR(efer), SEL(cs),
                                 SEL(ds), SEL(es), SEL(fs), SEL(gs), SEL(ss)};
#undef CR
#undef SEL


constexpr uint64_t kSyncRestored = KVM_SYNC_X86_REGS | KVM_SYNC_X86_SREGS | KVM_SYNC_X86_EVENTS;

// Whether KVM takes registers, segments and events through kvm_run's sync area (KVM_CAP_SYNC_REGS),
// applying them at the next KVM_RUN: that saves an ioctl for each (5-7 µs apiece on a nested KVM).
bool HasSyncRegs() {
  static const bool has = (static_cast<uint64_t>(KvmSystem::Get()->CheckExtension(KVM_CAP_SYNC_REGS)) & kSyncRestored) == kSyncRestored;
  return has;
}

// The general registers waiting in the sync area for the next KVM_RUN, or nullptr when none wait.
kvm_regs *PendingRegs(KvmVcpu &vcpu) {
  kvm_run *run = vcpu.run();
  return (run->kvm_dirty_regs & KVM_SYNC_X86_REGS) != 0 ? &run->s.regs.regs : nullptr;
}

// Sets the general registers: in the sync area where KVM has one (so the PC a load sets next, and any
// register set before the run, cost no ioctl either), else with KVM_SET_REGS.
void SetRegs(KvmVcpu &vcpu, const kvm_regs &regs) {
  if (!HasSyncRegs()) return Set(vcpu, KVM_SET_REGS, &regs, "KVM_SET_REGS");
  vcpu.run()->s.regs.regs = regs;
  vcpu.run()->kvm_dirty_regs |= KVM_SYNC_X86_REGS;
}

// Before an ioctl reads or writes vCPU state, whatever waits in the sync area goes to KVM first, so
// the ioctl never sees, or is overwritten by, older state. Segments before registers: the segments
// decide the mode the registers are read in.
void ApplySyncedState(KvmVcpu &vcpu) {
  kvm_run *run = vcpu.run();
  uint64_t pending = run->kvm_dirty_regs & kSyncRestored;
  if (pending == 0) return;
  run->kvm_dirty_regs &= ~kSyncRestored;
  if (pending & KVM_SYNC_X86_SREGS) Set(vcpu, KVM_SET_SREGS, &run->s.regs.sregs, "KVM_SET_SREGS");
  if (pending & KVM_SYNC_X86_REGS) Set(vcpu, KVM_SET_REGS, &run->s.regs.regs, "KVM_SET_REGS");
  if (pending & KVM_SYNC_X86_EVENTS) Set(vcpu, KVM_SET_VCPU_EVENTS, &run->s.regs.events, "KVM_SET_VCPU_EVENTS");
}

}  // namespace

void SetupVm(KvmVm &vm) {
  // Intel VMX without unrestricted guest needs a TSS for real mode; harmless elsewhere. The address
  // is far above any RAM femtovm maps.
  if (ioctl(vm.fd(), KVM_SET_TSS_ADDR, 0xfffbd000UL) < 0) throw SyscallError("ERR_KVM_CREATE", "KVM_SET_TSS_ADDR");
}

void SetupIrqchip(KvmVm &vm, Irqchip irqchip) {
  if (irqchip == Irqchip::kUser) return;
  vm.RequireCapability(KVM_CAP_SIGNAL_MSI, "KVM_CAP_SIGNAL_MSI");  // how vm.interrupt() reaches the LAPIC
  if (irqchip == Irqchip::kKernel) {
    vm.RequireCapability(KVM_CAP_IRQCHIP, "KVM_CAP_IRQCHIP");
    if (ioctl(vm.fd(), KVM_CREATE_IRQCHIP, 0) < 0) throw SyscallError("ERR_KVM_CREATE", "KVM_CREATE_IRQCHIP");
  } else {
    vm.RequireCapability(KVM_CAP_SPLIT_IRQCHIP, "KVM_CAP_SPLIT_IRQCHIP");
    kvm_enable_cap cap = {};
    cap.cap = KVM_CAP_SPLIT_IRQCHIP;
    cap.args[0] = kSplitIrqchipRoutes;
    if (ioctl(vm.fd(), KVM_ENABLE_CAP, &cap) < 0) throw SyscallError("ERR_KVM_CREATE", "KVM_ENABLE_CAP KVM_CAP_SPLIT_IRQCHIP");
  }
  vm.set_irqchip(irqchip, -1);
}

namespace {
// The LAPIC starts software-enabled (as firmware leaves it), so an interrupt raised before the guest
// runs is accepted and waits in the IRR rather than being dropped.
void EnableLapic(KvmVcpu &vcpu) {
  kvm_lapic_state lapic;
  Get(vcpu, KVM_GET_LAPIC, &lapic, "KVM_GET_LAPIC");
  uint32_t svr;
  std::memcpy(&svr, lapic.regs + kApicSvr, sizeof svr);
  svr |= kApicSoftwareEnable;
  std::memcpy(lapic.regs + kApicSvr, &svr, sizeof svr);
  Set(vcpu, KVM_SET_LAPIC, &lapic, "KVM_SET_LAPIC");
}
}  // namespace

void SetupVcpu(KvmVm &vm, KvmVcpu &vcpu, const BootParams &boot) {
  if (vm.irqchip() != Irqchip::kUser) EnableLapic(vcpu);
  kvm_sregs sregs;
  Get(vcpu, KVM_GET_SREGS, &sregs, "KVM_GET_SREGS");
  kvm_regs regs = {};
  regs.rflags = 0x2;  // bit 1 is reserved and must be set
  regs.rip = boot.entry;
  if (boot.x86_long_mode) {
    SetupLongMode(vm, &sregs, boot.x86_tables);
    regs.rsp = boot.stack_top;
    kvm_fpu fpu = {};
    fpu.fcw = kFcwDefault;
    fpu.mxcsr = kMxcsrDefault;
    Set(vcpu, KVM_SET_FPU, &fpu, "KVM_SET_FPU");
  } else {
    // Real mode: every segment at base 0; SP 0 wraps, so the first push lands at 0xfffe.
    for (kvm_segment *s : {&sregs.cs, &sregs.ds, &sregs.es, &sregs.fs, &sregs.gs, &sregs.ss}) {
      s->base = 0;
      s->selector = 0;
    }
    regs.rsp = 0;
  }
  Set(vcpu, KVM_SET_SREGS, &sregs, "KVM_SET_SREGS");
  SetRegs(vcpu, regs);
}

namespace {
// The general registers as the vCPU will run with them: those waiting in the sync area, else fetched
// into `scratch` (after anything else waiting there has gone to KVM).
kvm_regs *CurrentRegs(KvmVcpu &vcpu, kvm_regs *scratch) {
  if (kvm_regs *pending = PendingRegs(vcpu)) return pending;
  ApplySyncedState(vcpu);
  Get(vcpu, KVM_GET_REGS, scratch, "KVM_GET_REGS");
  return scratch;
}

kvm_sregs CurrentSregs(KvmVcpu &vcpu) {
  ApplySyncedState(vcpu);
  kvm_sregs sregs;
  Get(vcpu, KVM_GET_SREGS, &sregs, "KVM_GET_SREGS");
  return sregs;
}
}  // namespace

bool GetRegister(KvmVcpu &vcpu, const std::string &name, RegisterValue *value) {
  for (const RegsEntry &r : kRegs) {
    if (name != r.name) continue;
    kvm_regs scratch;
    uint64_t v;
    std::memcpy(&v, reinterpret_cast<const uint8_t *>(CurrentRegs(vcpu, &scratch)) + r.offset, sizeof v);
    *value = v;
    return true;
  }
  for (const SregsEntry &r : kSregs) {
    if (name != r.name) continue;
    *value = r.get(CurrentSregs(vcpu));
    return true;
  }
  return false;
}

bool SetRegister(KvmVcpu &vcpu, const std::string &name, RegisterValue value) {
  for (const RegsEntry &r : kRegs) {
    if (name != r.name) continue;
    kvm_regs scratch;
    kvm_regs *regs = CurrentRegs(vcpu, &scratch);
    uint64_t v = static_cast<uint64_t>(value);
    std::memcpy(reinterpret_cast<uint8_t *>(regs) + r.offset, &v, sizeof v);
    if (regs == &scratch) SetRegs(vcpu, scratch);  // else it waits in the sync area for KVM_RUN
    return true;
  }
  for (const SregsEntry &r : kSregs) {
    if (name != r.name) continue;
    kvm_sregs sregs = CurrentSregs(vcpu);
    r.set(sregs, static_cast<uint64_t>(value));
    Set(vcpu, KVM_SET_SREGS, &sregs, "KVM_SET_SREGS");
    return true;
  }
  return false;
}

unsigned RegisterBits(const std::string &name) {
  for (const RegsEntry &r : kRegs)
    if (name == r.name) return 64;
  for (const SregsEntry &r : kSregs)
    if (name == r.name) return r.bits;
  return 0;
}

void SetIrqLine(KvmVcpu &vcpu, bool high) {
  if (!high || vcpu.irqchip() == Irqchip::kUser) return;
  kvm_msi msi = {};
  msi.address_lo = kMsiAddress;
  msi.data = kIrqVector;
  ioctl(vcpu.vm_fd(), KVM_SIGNAL_MSI, &msi);  // an MSI to a LAPIC that exists cannot fail
}

uint32_t IrqfdGsi(KvmVm &vm) {
  vm.RequireCapability(KVM_CAP_IRQ_ROUTING, "KVM_CAP_IRQ_ROUTING");
  // The table holds this route alone: femtovm raises no PIC or IOAPIC pin, so KVM's default routes
  // for them (full irqchip) can go.
  struct {
    abi::IrqRoutingHeader header;
    kvm_irq_routing_entry entry;
  } routing = {};
  routing.header.nr = 1;
  routing.entry.gsi = kIrqfdGsi;
  routing.entry.type = KVM_IRQ_ROUTING_MSI;
  routing.entry.u.msi.address_lo = kMsiAddress;
  routing.entry.u.msi.data = kIrqVector;
  if (ioctl(vm.fd(), abi::kSetGsiRouting, &routing) < 0) throw SyscallError("ERR_KVM_CREATE", "KVM_SET_GSI_ROUTING");
  return kIrqfdGsi;
}

bool IrqInjectedByLoop(KvmVcpu &vcpu) { return vcpu.irqchip() == Irqchip::kUser; }

bool InjectIrq(KvmVcpu &vcpu) {
  if (vcpu.irqchip() != Irqchip::kUser) return true;
  kvm_run *run = vcpu.run();
  run->request_interrupt_window = 0;
  if (!vcpu.irq_line() || vcpu.irq_injected()) return true;
  if (!run->ready_for_interrupt_injection || !run->if_flag) {
    run->request_interrupt_window = 1;  // KVM exits (KVM_EXIT_IRQ_WINDOW_OPEN) once the guest can take it
    return true;
  }
  kvm_interrupt irq = {kIrqVector};
  if (ioctl(vcpu.fd(), KVM_INTERRUPT, &irq) < 0) return false;
  vcpu.set_irq_injected();
  return true;
}

bool HaltWaitsForIrq(KvmVcpu &vcpu) { return vcpu.run()->if_flag != 0; }

void PowerOn(KvmVcpu &) {}

void EnableExitPc(KvmVcpu &vcpu) { vcpu.run()->kvm_valid_regs |= KVM_SYNC_X86_REGS; }

uint64_t ExitPc(KvmVcpu &vcpu) { return vcpu.run()->s.regs.regs.rip; }

// ---- snapshots: registers, segments and control registers, x87/SSE/AVX (XSAVE), XCR0, debug
// registers, pending events, and every MSR KVM lets userspace both read and write.

// Optional parts are saved when KVM has the capability. The XSAVE area is KVM_CAP_XSAVE2's size when
// that is larger than struct kvm_xsave (hosts with AMX); without XSAVE, the legacy FPU state.
struct ArchState {
  kvm_regs regs;
  kvm_sregs sregs;
  kvm_fpu fpu;
  bool has_xcrs, has_debugregs, has_events, has_sync_regs;
  kvm_xcrs xcrs;
  kvm_debugregs debugregs;
  kvm_vcpu_events events;
  std::vector<uint8_t> msrs;   // a struct kvm_msrs with its entries
  std::vector<uint8_t> xsave;  // empty without XSAVE
};

void ArchStateDeleter::operator()(ArchState *state) const { delete state; }

namespace {

// A struct kvm_msrs of `count` entries (C layout: the entries right after the 8-byte header).
struct MsrBufferView {
  abi::MsrsHeader *header;
  kvm_msr_entry *entries;
};
MsrBufferView MsrBuffer(std::vector<uint8_t> &buffer, size_t count) {
  buffer.assign(sizeof(abi::MsrsHeader) + count * sizeof(kvm_msr_entry), 0);
  auto *header = reinterpret_cast<abi::MsrsHeader *>(buffer.data());
  header->nmsrs = static_cast<uint32_t>(count);
  return {header, reinterpret_cast<kvm_msr_entry *>(buffer.data() + sizeof(abi::MsrsHeader))};
}

// The architectural MSRs a guest can change, for a KVM whose KVM_GET_MSR_INDEX_LIST fails (a
// paravirtual one): TSC, SYSENTER_CS/ESP/EIP, MISC_ENABLE, PAT, STAR, LSTAR, CSTAR, SFMASK,
// FS.base, GS.base, KernelGSbase, TSC_AUX.
constexpr uint32_t kArchitecturalMsrs[] = {0x10,       0x174,      0x175,      0x176,      0x1a0,      0x277,      0xc0000081,
                                           0xc0000082, 0xc0000083, 0xc0000084, 0xc0000100, 0xc0000101, 0xc0000102, 0xc0000103};

std::vector<uint32_t> ListedMsrs(KvmVm &vm) {
  abi::MsrListHeader probe = {};
  ioctl(vm.system().fd(), abi::kGetMsrIndexList, &probe);  // E2BIG, with the count filled in
  std::vector<uint32_t> list(1 + probe.nmsrs);
  list[0] = probe.nmsrs;
  if (probe.nmsrs == 0 || ioctl(vm.system().fd(), abi::kGetMsrIndexList, list.data()) < 0)
    return std::vector<uint32_t>(std::begin(kArchitecturalMsrs), std::end(kArchitecturalMsrs));
  return std::vector<uint32_t>(list.begin() + 1, list.begin() + 1 + list[0]);
}

// The MSRs to save, found once per process: those KVM lists, minus any it refuses to read or to
// write back with the value it just read.
std::vector<uint32_t> SaveableMsrs(KvmVm &vm, KvmVcpu &vcpu) {
  static std::mutex mutex;
  static std::vector<uint32_t> saveable;
  static bool probed = false;
  std::lock_guard<std::mutex> lock(mutex);
  if (probed) return saveable;
  std::vector<uint8_t> buffer;
  for (uint32_t index : ListedMsrs(vm)) {
    MsrBufferView one = MsrBuffer(buffer, 1);
    one.entries[0].index = index;
    if (ioctl(vcpu.fd(), abi::kGetMsrs, one.header) == 1 && ioctl(vcpu.fd(), abi::kSetMsrs, one.header) == 1)
      saveable.push_back(index);
  }
  probed = true;
  return saveable;
}

}  // namespace

ArchStatePtr SaveState(KvmVm &vm, KvmVcpu &vcpu) {
  ApplySyncedState(vcpu);
  ArchStatePtr state(new ArchState());
  const KvmSystem &kvm = vm.system();
  if (kvm.CheckExtension(KVM_CAP_XSAVE) > 0)
    state->xsave.assign(std::max<size_t>(sizeof(abi::Xsave), kvm.CheckExtension(KVM_CAP_XSAVE2)), 0);
  state->has_xcrs = kvm.CheckExtension(KVM_CAP_XCRS) > 0;
  state->has_debugregs = kvm.CheckExtension(KVM_CAP_DEBUGREGS) > 0;
  state->has_events = kvm.CheckExtension(KVM_CAP_VCPU_EVENTS) > 0;
  state->has_sync_regs = HasSyncRegs();
  Get(vcpu, KVM_GET_REGS, &state->regs, "KVM_GET_REGS");
  Get(vcpu, KVM_GET_SREGS, &state->sregs, "KVM_GET_SREGS");
  if (state->xsave.size() > sizeof(abi::Xsave)) Get(vcpu, abi::kGetXsave2, state->xsave.data(), "KVM_GET_XSAVE2");
  else if (!state->xsave.empty()) Get(vcpu, abi::kGetXsave, state->xsave.data(), "KVM_GET_XSAVE");
  else Get(vcpu, KVM_GET_FPU, &state->fpu, "KVM_GET_FPU");
  if (state->has_xcrs) Get(vcpu, KVM_GET_XCRS, &state->xcrs, "KVM_GET_XCRS");
  if (state->has_debugregs) Get(vcpu, KVM_GET_DEBUGREGS, &state->debugregs, "KVM_GET_DEBUGREGS");
  if (state->has_events) Get(vcpu, KVM_GET_VCPU_EVENTS, &state->events, "KVM_GET_VCPU_EVENTS");
  std::vector<uint32_t> indices = SaveableMsrs(vm, vcpu);
  MsrBufferView msrs = MsrBuffer(state->msrs, indices.size());
  for (size_t i = 0; i < indices.size(); i++) msrs.entries[i].index = indices[i];
  if (!indices.empty() && ioctl(vcpu.fd(), abi::kGetMsrs, msrs.header) != static_cast<int>(indices.size()))
    throw SyscallError("ERR_KVM_REGISTER", "KVM_GET_MSRS");
  return state;
}

void RestoreState(KvmVcpu &vcpu, const ArchState &state) {
  // MSRs first: EFER among them must agree with the segments that SET_SREGS loads.
  auto *msrs = reinterpret_cast<const abi::MsrsHeader *>(state.msrs.data());
  if (msrs->nmsrs > 0 && ioctl(vcpu.fd(), abi::kSetMsrs, msrs) != static_cast<int>(msrs->nmsrs))
    throw SyscallError("ERR_KVM_REGISTER", "KVM_SET_MSRS");
  if (state.has_sync_regs && state.has_events) {
    kvm_run *run = vcpu.run();
    run->s.regs.regs = state.regs;
    run->s.regs.sregs = state.sregs;
    run->s.regs.events = state.events;
    run->kvm_dirty_regs |= kSyncRestored;
  } else {
    Set(vcpu, KVM_SET_SREGS, &state.sregs, "KVM_SET_SREGS");
    Set(vcpu, KVM_SET_REGS, &state.regs, "KVM_SET_REGS");
    if (state.has_events) Set(vcpu, KVM_SET_VCPU_EVENTS, &state.events, "KVM_SET_VCPU_EVENTS");
  }
  if (state.has_xcrs) Set(vcpu, KVM_SET_XCRS, &state.xcrs, "KVM_SET_XCRS");
  if (!state.xsave.empty()) Set(vcpu, abi::kSetXsave, state.xsave.data(), "KVM_SET_XSAVE");
  else Set(vcpu, KVM_SET_FPU, &state.fpu, "KVM_SET_FPU");
  if (state.has_debugregs) Set(vcpu, KVM_SET_DEBUGREGS, &state.debugregs, "KVM_SET_DEBUGREGS");
}

const std::vector<std::string> &RegisterNames() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> all;
    for (const RegsEntry &r : kRegs) all.emplace_back(r.name);
    for (const SregsEntry &r : kSregs) all.emplace_back(r.name);
    return all;
  }();
  return names;
}

}  // namespace arch
}  // namespace femtovm
#endif  // __x86_64__
