#include "native_constants.h"

#include <initializer_list>
#include <utility>

#include "event_ring.h"
#include "vcpu_loop.h"

namespace femtovm {
namespace {

// A table of named numbers, under the names the TypeScript side gives them.
Napi::Object Table(Napi::Env env, std::initializer_list<std::pair<const char*, double>> entries) {
  Napi::Object table = Napi::Object::New(env);
  for (const auto& [name, value] : entries) table.Set(name, value);
  return table;
}

template <typename E>
double N(E value) {
  return static_cast<double>(value);
}

}  // namespace

Napi::Object NativeConstants(Napi::Env env) {
  Napi::Object c = Napi::Object::New(env);
  c.Set("RunExit", Table(env, {{"UserAccess", N(RunExit::kUserAccess)}, {"Halted", N(RunExit::kHalted)},
                               {"SystemOff", N(RunExit::kSystemOff)}, {"SystemReset", N(RunExit::kSystemReset)},
                               {"Stopped", N(RunExit::kStopped)}, {"Timeout", N(RunExit::kTimeout)},
                               {"MaxExits", N(RunExit::kMaxExits)}, {"StopByte", N(RunExit::kStopByte)},
                               {"Unhandled", N(RunExit::kUnhandled)}, {"GuestError", N(RunExit::kGuestError)},
                               {"RingFull", N(RunExit::kRingFull)}, {"RingWake", N(RunExit::kRingWake)},
                               {"CoalescedRead", N(RunExit::kCoalescedRead)}}));
  c.Set("ExitField", Table(env, {{"Kind", kFieldKind}, {"Address", kFieldAddress}, {"Size", kFieldSize},
                                 {"IsWrite", kFieldIsWrite}, {"Count", kFieldCount}, {"Exits", kFieldExits},
                                 {"ExitReason", kFieldExitReason}, {"ErrorDetail", kFieldErrorDetail},
                                 {"Errno", kFieldErrno}, {"Pc", kFieldPc},
                                 {"AddressLo", kFieldAddressLo}, {"AddressHi", kFieldAddressHi}}));
  c.Set("ExitRecord", Table(env, {{"size", N(kExitRecordSize)}, {"dataOffset", N(kExitDataOffset)}}));
  c.Set("AccessKind", Table(env, {{"mmio", N(AccessKind::kMmio)}, {"pio", N(AccessKind::kPio)}}));
  c.Set("NativeDeviceType", Table(env, {{"constant", N(NativeDeviceType::kConstant)}, {"counter", N(NativeDeviceType::kCounter)}}));
  c.Set("Console", Table(env, {{"mmio", N(kConsoleMmio)}, {"port", N(kConsolePort)}}));
  c.Set("Interrupt", Table(env, {{"ack", N(kInterruptAck)}}));
  c.Set("RingWord", Table(env, {{"Write", kRingWrite}, {"Capacity", kRingCapacity}, {"Closed", kRingClosed}, {"Read", kRingRead}}));
  c.Set("RingLayout", Table(env, {{"headerBytes", N(kRingHeaderBytes)}, {"recordBytes", N(kRingRecordBytes)}, {"statsOffset", N(kRingStatsOffset)}}));
  c.Set("RingStat", Table(env, {{"Stalls", kStatStalls}, {"StalledNs", kStatStalledNs}, {"Count", kRingStatCount}}));
  c.Set("EventKind", Table(env, {{"mmioRead", kEventMmioRead}, {"mmioWrite", kEventMmioWrite}, {"pioRead", kEventPioRead}, {"pioWrite", kEventPioWrite}}));
  return c;
}

}  // namespace femtovm
