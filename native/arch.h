// The one interface behind which arch-specific KVM code lives. Exactly one implementation is
// compiled: KVM runs guests of the host's own arch (arch_arm64.cc on arm64, arch_x86_64.cc on x86-64).
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace femtovm {

class KvmVm;
class KvmVcpu;
enum class Irqchip : int;  // kvm_vm.h

namespace arch {
// A register's value: 128 bits hold the widest ones (arm64 v0-v31).
using RegisterValue = unsigned __int128;
}  // namespace arch

struct BootParams {
  uint64_t entry;       // first instruction
  uint64_t stack_top;   // initial stack pointer
  bool x86_long_mode;   // x86-64: 64-bit long mode instead of 16-bit real mode
  uint64_t x86_tables;  // x86-64 long mode: guest-physical page for the GDT and page tables (7 pages)
  // arm64: set by name after the vCPU's init (the start state's EL1 system registers), and read-only
  // memory mapped beside RAM at rom_addr (the translation tables they point at); empty: none.
  std::vector<std::pair<std::string, arch::RegisterValue>> start_registers;
  uint64_t rom_addr;
  std::vector<uint8_t> rom;
};

namespace arch {

// Everything of a vCPU's state a guest can change and KVM lets userspace read back and set: for
// snapshots, so a reset VM is indistinguishable from a fresh one. Defined per arch.
struct ArchState;
struct ArchStateDeleter {
  void operator()(ArchState *state) const;
};
using ArchStatePtr = std::unique_ptr<ArchState, ArchStateDeleter>;

// The guest arch this build's KVM runs: "aarch64" or "x86_64".
extern const char *const kName;

// Per-VM setup before any vCPU exists.
void SetupVm(KvmVm &vm);
// The in-kernel interrupt controller `irqchip` asks for (none for Irqchip::kUser), before any vCPU
// exists; SetupVcpu finishes it. Throws CoreError ERR_KVM_CAPABILITY naming what this KVM lacks.
void SetupIrqchip(KvmVm &vm, Irqchip irqchip);
// Arch init of a new vCPU and its boot state (registers, modes, tables written into guest RAM).
void SetupVcpu(KvmVm &vm, KvmVcpu &vcpu, const BootParams &boot);

// Registers by name (lower case, as in the arch manuals); false when the name is not a register here.
bool GetRegister(KvmVcpu &vcpu, const std::string &name, RegisterValue *value);
bool SetRegister(KvmVcpu &vcpu, const std::string &name, RegisterValue value);
const std::vector<std::string> &RegisterNames();
// A register's width in bits (what SetRegister takes without losing bits); 0 for an unknown name.
unsigned RegisterBits(const std::string &name);

// The PC of the instruction that caused the current exit, for event records. EnableExitPc is called
// once first, so an arch can have KVM hand the PC over on every exit (x86 sync regs) instead of
// an ioctl per exit.
void EnableExitPc(KvmVcpu &vcpu);
uint64_t ExitPc(KvmVcpu &vcpu);

// The interrupt line changed (KvmVcpu::RaiseIrq/LowerIrq, any thread). arm64: KVM_IRQ_LINE for the
// vCPU's IRQ input, or the vGIC's SPI (kSpiIntid) with an in-kernel irqchip. x86: nothing, InjectIrq
// does the work between runs; with an in-kernel LAPIC, a raise sends it an MSI (KVM_SIGNAL_MSI).
void SetIrqLine(KvmVcpu &vcpu, bool high);
// The GSI of the in-kernel irqchip an irqfd (kvm_irqfd.h) raises vm.interrupt()'s interrupt through,
// routed so that an irqfd's edge is one interrupt; after SetupVcpu. arm64: the SPI (GSI = INTID - 32
// in KVM's default routing), made edge-triggered in the vGIC. x86: an MSI route to the LAPIC carrying
// the vector KVM_SIGNAL_MSI sends. Throws CoreError ERR_KVM_CAPABILITY / ERR_KVM_CREATE.
uint32_t IrqfdGsi(KvmVm &vm);
// Before each KVM_RUN on the vCPU's thread. x86: a raised line's vector (kIrqVector) goes in with
// KVM_INTERRUPT when the guest can take it, else KVM is asked to exit when it can (an interrupt
// window exit). arm64: nothing.
// Returns false (errno set) when KVM refuses.
bool InjectIrq(KvmVcpu &vcpu);
// Whether the line reaches the guest only through InjectIrq (x86 without an in-kernel LAPIC), so
// raising it must nudge a running vCPU out of KVM_RUN; otherwise KVM wakes the vCPU itself.
bool IrqInjectedByLoop(KvmVcpu &vcpu);
// Whether a halt exit waits for an interrupt rather than ending the run: x86 HLT with IF set (an
// in-kernel LAPIC keeps every HLT inside KVM: no exit).
bool HaltWaitsForIrq(KvmVcpu &vcpu);

// Makes a vCPU that the guest powered off (PSCI SYSTEM_OFF/RESET on arm64) runnable again, so a VM
// that ended can be run again, as on the WebAssembly backend. x86 has nothing to do.
void PowerOn(KvmVcpu &vcpu);

// The whole vCPU state, and putting it back. Throw CoreError ERR_KVM_REGISTER on failure.
ArchStatePtr SaveState(KvmVm &vm, KvmVcpu &vcpu);
void RestoreState(KvmVcpu &vcpu, const ArchState &state);

}  // namespace arch
}  // namespace femtovm
