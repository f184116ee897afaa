#include "one_shot.h"

#include <cstring>

#include "kvm_vcpu.h"
#include "kvm_vm.h"

namespace femtovm {

RunExit RunOneShot(const OneShotSetup &setup, const OneShotLimits &limits, uint8_t *record, double *vcpu_id) {
  KvmVm vm;
  for (const auto &[guest_addr, size] : setup.regions) vm.AddRegion(guest_addr, size);
  KvmVcpu vcpu(vm, 0);
  arch::SetupVcpu(vm, vcpu, setup.boot);
  for (const OneShotSetup::Segment &s : setup.segments) {
    std::memcpy(vm.Translate(s.guest_addr, s.bytes.size()), s.bytes.data(), s.bytes.size());  // checked when the setup was made
  }
  for (const auto &[name, value] : setup.registers) arch::SetRegister(vcpu, name, value);
  double id = vcpu.id();
  __atomic_store(vcpu_id, &id, __ATOMIC_RELEASE);
  VcpuLoop loop(vcpu);
  loop.SetExitRecord(record);
  loop.Begin(RunLimits::Of(limits.max_exits, limits.stop_byte, limits.timeout_ms, setup.ignore_unhandled, 0));  // its output is not kept
  RunExit exit = loop.Resume();
  if (exit == RunExit::kGuestError || exit == RunExit::kUnhandled) {
    arch::RegisterValue pc = 0;
    arch::GetRegister(vcpu, setup.pc_register, &pc);
    reinterpret_cast<double *>(record)[kFieldPc] = static_cast<double>(pc);
  }
  loop.End();
  return exit;
}

}  // namespace femtovm
