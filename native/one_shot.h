// A VM created, loaded, run to its end and destroyed in one call, from a setup made once: what a
// swarm lane does for every run with `reuse: false`. The same parts as KvmMachine (KvmVm, KvmVcpu,
// arch::SetupVcpu, VcpuLoop), without a JavaScript object, RAM views and property reads per VM: in a
// Node process those cost ~50-100 µs of a ~0.7 ms VM (measured: create+run+destroy of hello from C++
// in Node ran as fast as C's loop, 1.4-1.5 k VMs/s, against 1.2-1.4 k through KvmMachine).
#pragma once
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "arch.h"
#include "vcpu_loop.h"

namespace femtovm {

struct OneShotSetup {
  std::vector<std::pair<uint64_t, uint64_t>> regions;  // guest address, size
  BootParams boot;
  struct Segment {
    uint64_t guest_addr;
    std::vector<uint8_t> bytes;  // the rest of the segment is RAM's fresh zeros
  };
  std::vector<Segment> segments;
  std::vector<std::pair<std::string, arch::RegisterValue>> registers;  // set after boot setup, PC included
  std::string pc_register;
  bool ignore_unhandled = false;
};

struct OneShotLimits {
  uint64_t max_exits;  // 0: none
  int stop_byte;       // -1: none
  double timeout_ms;   // 0: none; counts from the run's start, as for any VM, not from its creation
};

// Runs one fresh VM of `setup` under `limits`. Exit details go into `record` (ExitField layout;
// kFieldPc set when the run failed); `vcpu_id` receives the vCPU's id before it runs, for
// KvmVcpu::KickById. Throws CoreError when the VM cannot be created.
RunExit RunOneShot(const OneShotSetup &setup, const OneShotLimits &limits, uint8_t *record, double *vcpu_id);

}  // namespace femtovm
