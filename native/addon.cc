// JavaScript bindings: KvmMachine (one VM, its RAM regions and its one vCPU) and kvmStatus().
// The TypeScript layer (src/workers/kvm-backend.ts) adds names, checks and typed errors on top.
#include <napi.h>
#include <unistd.h>

#include <chrono>
#include <memory>
#include <map>
#include <mutex>
#include <set>
#include <vector>

#include "arch.h"
#include "console_stream.h"
#include "doorbell.h"
#include "kvm_vcpu.h"
#include "native_constants.h"
#include "one_shot.h"
#include "sigint_stop.h"
#include "snapshot.h"
#include "vcpu_loop.h"

namespace femtovm {
namespace {

uint64_t Uint64(Napi::Value v) { return static_cast<uint64_t>(v.As<Napi::Number>().Int64Value()); }

// { regions: [{ guestAddr, size }] } of a machine's options.
std::vector<std::pair<uint64_t, uint64_t>> RegionsOf(Napi::Object options) {
  std::vector<std::pair<uint64_t, uint64_t>> regions;
  Napi::Array list = options.Get("regions").As<Napi::Array>();
  for (uint32_t i = 0; i < list.Length(); i++) {
    Napi::Object r = list.Get(i).As<Napi::Object>();
    regions.emplace_back(Uint64(r.Get("guestAddr")), Uint64(r.Get("size")));
  }
  return regions;
}

// [[name, bigint]] as name/value pairs.
// A register value from JS. Vm.setRegister has checked it against RegisterBits: whole, >= 0, and fits.
arch::RegisterValue RegisterValueOf(Napi::Value value) {
  int sign = 0;
  size_t count = 2;
  uint64_t words[2] = {0, 0};
  value.As<Napi::BigInt>().ToWords(&sign, &count, words);
  return (static_cast<arch::RegisterValue>(words[1]) << 64) | words[0];
}

std::vector<std::pair<std::string, arch::RegisterValue>> RegisterPairsOf(Napi::Array list) {
  std::vector<std::pair<std::string, arch::RegisterValue>> pairs;
  for (uint32_t i = 0; i < list.Length(); i++) {
    Napi::Array pair = list.Get(i).As<Napi::Array>();
    pairs.emplace_back(pair.Get(0u).As<Napi::String>().Utf8Value(), RegisterValueOf(pair.Get(1u)));
  }
  return pairs;
}

// { entry, stackTop, x86LongMode, x86Tables, startRegisters, rom: { guestAddr, bytes } } of a machine's options.
BootParams BootOf(Napi::Object options) {
  Napi::Object rom = options.Get("rom").As<Napi::Object>();
  Napi::Uint8Array bytes = rom.Get("bytes").As<Napi::Uint8Array>();
  return BootParams{Uint64(options.Get("entry")), Uint64(options.Get("stackTop")),
                    options.Get("x86LongMode").ToBoolean().Value(), Uint64(options.Get("x86Tables")),
                    RegisterPairsOf(options.Get("startRegisters").As<Napi::Array>()), Uint64(rom.Get("guestAddr")),
                    std::vector<uint8_t>(bytes.Data(), bytes.Data() + bytes.ByteLength())};
}

class KvmMachine : public Napi::ObjectWrap<KvmMachine> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "KvmMachine",
                       {
                           InstanceMethod<&KvmMachine::Memory>("memory"),
                           InstanceMethod<&KvmMachine::GetRegister>("getRegister"),
                           InstanceMethod<&KvmMachine::SetRegister>("setRegister"),
                           InstanceMethod<&KvmMachine::SetExitRecord>("setExitRecord"),
                           InstanceMethod<&KvmMachine::SetUserRanges>("setUserRanges"),
                           InstanceMethod<&KvmMachine::AddNativeDevice>("addNativeDevice"),
                           InstanceMethod<&KvmMachine::AddCoalescedRange>("addCoalescedRange"),
                           InstanceMethod<&KvmMachine::AddDoorbell>("addDoorbell"),
                           InstanceMethod<&KvmMachine::SetEventRing>("setEventRing"),
                           InstanceAccessor<&KvmMachine::VcpuId>("vcpuId"),
                           InstanceMethod<&KvmMachine::Begin>("begin"),
                           InstanceMethod<&KvmMachine::Resume>("resume"),
                           InstanceMethod<&KvmMachine::End>("end"),
                           InstanceMethod<&KvmMachine::TakeConsole>("takeConsole"),
                           InstanceMethod<&KvmMachine::ConsoleDropped>("consoleDropped"),
                           InstanceMethod<&KvmMachine::Kick>("kick"),
                           InstanceMethod<&KvmMachine::Interrupt>("interrupt"),
                           InstanceMethod<&KvmMachine::TakeSnapshot>("snapshot"),
                           InstanceMethod<&KvmMachine::Restore>("restore"),
                           InstanceMethod<&KvmMachine::Close>("close"),
                       });
  }

  // new KvmMachine({ regions: [{ guestAddr, size }], irqchip: Irqchip, irqfd: boolean, ...BootOf's fields })
  explicit KvmMachine(const Napi::CallbackInfo &info) : Napi::ObjectWrap<KvmMachine>(info) {
    Napi::Env env = info.Env();
    LiveMachines(env).insert(this);
    Napi::Object options = info[0].As<Napi::Object>();
    try {
      vm_ = std::make_unique<KvmVm>();
      for (const auto &[guest_addr, size] : RegionsOf(options)) vm_->AddRegion(guest_addr, size);
      arch::SetupIrqchip(*vm_, static_cast<Irqchip>(options.Get("irqchip").As<Napi::Number>().Int32Value()));
      vcpu_ = std::make_unique<KvmVcpu>(*vm_, 0);
      arch::SetupVcpu(*vm_, *vcpu_, BootOf(options));
      if (options.Get("irqfd").ToBoolean().Value()) {
        irqfd_ = std::make_unique<KvmIrqfd>(*vm_);
        vcpu_->set_irqfd(irqfd_.get());
      }
      loop_ = std::make_unique<VcpuLoop>(*vcpu_);
    } catch (const CoreError &e) {
      // Thrown, not returned: a C++ exception out of an ObjectWrap constructor would free this object
      // while its JS wrapper still points at it (heap corruption at the wrapper's finalizer). The
      // half-made machine is released here; the wrapper, never handed to JS, is finalized normally.
      Release();
      ToJsError(env, e).ThrowAsJavaScriptException();
    }
  }

  ~KvmMachine() override {
    if (live_ != nullptr) live_->erase(this);
    Release();
  }

  // When a thread's environment ends (a worker terminated with VMs still open, such as a pool's warm
  // VMs), finalizers may never run: release every machine of that environment then.
  static void ReleaseAll(std::set<KvmMachine *> *live) {
    for (KvmMachine *machine : *live) {
      machine->Release();
      machine->live_ = nullptr;
    }
    delete live;
  }

 private:
  // The machines of one environment (one per thread that loaded the addon), created on first use.
  std::set<KvmMachine *> &LiveMachines(Napi::Env env) {
    static std::mutex mutex;
    static std::map<napi_env, std::set<KvmMachine *> *> by_env;
    std::lock_guard<std::mutex> lock(mutex);
    std::set<KvmMachine *> *&live = by_env[env];
    if (live == nullptr) {
      live = new std::set<KvmMachine *>();
      env.AddCleanupHook([e = static_cast<napi_env>(env)] {
        Napi::HandleScope scope(Napi::Env{e});  // Release() detaches the RAM buffers: that needs handles
        std::set<KvmMachine *> *set;
        {
          std::lock_guard<std::mutex> lock(mutex);
          set = by_env[e];
          by_env.erase(e);
        }
        ReleaseAll(set);
      });
    }
    live_ = live;
    return *live;
  }

  void Release() {
    if (loop_) loop_->End();
    bool views_detached = true;
    for (Napi::Reference<Napi::ArrayBuffer> &ref : buffers_) {
      if (ref.IsEmpty()) continue;
      Napi::ArrayBuffer buffer = ref.Value();
      if (!buffer.IsDetached()) buffer.Detach();
      views_detached = views_detached && buffer.IsDetached();
    }
    buffers_.clear();
    std::vector<std::shared_ptr<Mapping>> ram;
    if (vm_) {
      for (const MemoryRegion &r : vm_->regions()) ram.push_back(r.mapping);
    }
    exit_record_.Reset();
    event_ring_.Reset();
    for (int fd : eventfds_) close(fd);  // KVM holds its own reference until the VM goes
    eventfds_.clear();
    loop_.reset();
    snapshot_.reset();
    vcpu_.reset();
    irqfd_.reset();  // after the vCPU, whose raises signal it
    vm_.reset();
    // Guest RAM goes with the VM, not when the collector finalizes the (detached) buffers over it.
    if (views_detached) {
      for (const std::shared_ptr<Mapping> &mapping : ram) mapping->Unmap();
    }
  }

  void CheckOpen(Napi::Env env) {
    if (!vm_) {
      Napi::Error e = Napi::Error::New(env, "the VM is closed");
      e.Set("code", Napi::String::New(env, "ERR_VM_CLOSED"));
      throw e;
    }
  }

  // An ArrayBuffer over guest RAM region `index`: no copy; it keeps the mapping alive, and close()
  // detaches it so no view reads a VM that is gone.
  Napi::Value Memory(const Napi::CallbackInfo &info) {
    CheckOpen(info.Env());
    uint32_t index = info[0].As<Napi::Number>().Uint32Value();
    const MemoryRegion &region = vm_->regions().at(index);
    auto *owner = new std::shared_ptr<Mapping>(region.mapping);
    Napi::ArrayBuffer buffer = Napi::ArrayBuffer::New(
        info.Env(), region.mapping->host, region.mapping->size,
        [](Napi::Env, void *, std::shared_ptr<Mapping> *hint) { delete hint; }, owner);
    buffers_.push_back(Napi::Persistent(buffer));
    return buffer;
  }

  Napi::Value GetRegister(const Napi::CallbackInfo &info) {
    Napi::Env env = info.Env();
    CheckOpen(env);
    std::string name = info[0].As<Napi::String>().Utf8Value();
    arch::RegisterValue value = 0;
    try {
      if (!arch::GetRegister(*vcpu_, name, &value)) return env.Undefined();
    } catch (const CoreError &e) {
      throw ToJsError(env, e);
    }
    const uint64_t words[2] = {static_cast<uint64_t>(value), static_cast<uint64_t>(value >> 64)};
    return Napi::BigInt::New(env, 0, 2, words);
  }

  Napi::Value SetRegister(const Napi::CallbackInfo &info) {
    Napi::Env env = info.Env();
    CheckOpen(env);
    std::string name = info[0].As<Napi::String>().Utf8Value();
    const arch::RegisterValue value = RegisterValueOf(info[1]);
    try {
      return Napi::Boolean::New(env, arch::SetRegister(*vcpu_, name, value));
    } catch (const CoreError &e) {
      throw ToJsError(env, e);
    }
  }

  // The caller-owned exit record (kExitRecordSize bytes), written on every exit that returns to JS.
  void SetExitRecord(const Napi::CallbackInfo &info) {
    CheckOpen(info.Env());
    Napi::ArrayBuffer buffer = info[0].As<Napi::ArrayBuffer>();
    if (buffer.ByteLength() < kExitRecordSize) throw Napi::RangeError::New(info.Env(), "exit record too small");
    exit_record_ = Napi::Persistent(buffer);
    loop_->SetExitRecord(static_cast<uint8_t *>(buffer.Data()));
  }

  // Flat [kind, start, end, kind, start, end, ...]: accesses that go to JavaScript devices.
  void SetUserRanges(const Napi::CallbackInfo &info) {
    CheckOpen(info.Env());
    Napi::Float64Array flat = info[0].As<Napi::Float64Array>();
    std::vector<AccessRange> ranges;
    for (size_t i = 0; i + 2 < flat.ElementLength(); i += 3)
      ranges.push_back({static_cast<AccessKind>(flat[i]), static_cast<uint64_t>(flat[i + 1]),
                        static_cast<uint64_t>(flat[i + 2])});
    loop_->SetUserRanges(std::move(ranges));
  }

  // addNativeDevice(kind, start, end, type, value): answered in C++ without leaving the loop.
  void AddNativeDevice(const Napi::CallbackInfo &info) {
    CheckOpen(info.Env());
    bool lossless = true;
    loop_->AddNativeDevice(NativeDevice{
        AccessRange{static_cast<AccessKind>(info[0].As<Napi::Number>().Int32Value()), Uint64(info[1]), Uint64(info[2])},
        static_cast<NativeDeviceType>(info[3].As<Napi::Number>().Int32Value()), info[4].As<Napi::BigInt>().Uint64Value(&lossless)});
  }

  // addCoalescedRange(kind, start, end): guest writes there land in KVM's coalesced ring, no exit.
  void AddCoalescedRange(const Napi::CallbackInfo &info) {
    CheckOpen(info.Env());
    AccessRange range{static_cast<AccessKind>(info[0].As<Napi::Number>().Int32Value()), Uint64(info[1]), Uint64(info[2])};
    try {
      int page = vm_->AddCoalescedZone(range.kind == AccessKind::kPio, range.start, range.end - range.start);
      loop_->AddCoalescedRange(range, reinterpret_cast<uint8_t *>(vcpu_->run()) + static_cast<size_t>(page) * abi::kCoalescedPageSize);
    } catch (const CoreError &e) {
      throw ToJsError(info.Env(), e);
    }
  }

  // addDoorbell(kind, address, size, match: bigint | undefined): a guest write there signals a new
  // eventfd inside KVM, no exit. Returns the fd (the machine owns it: closed with the VM).
  Napi::Value AddDoorbell(const Napi::CallbackInfo &info) {
    Napi::Env env = info.Env();
    CheckOpen(env);
    bool pio = info[0].As<Napi::Number>().Int32Value() == static_cast<int32_t>(AccessKind::kPio);
    bool lossless = true;
    uint64_t match = info[3].IsBigInt() ? info[3].As<Napi::BigInt>().Uint64Value(&lossless) : 0;
    int fd = -1;
    try {
      fd = NewEventfd();
      vm_->AddIoeventfd(fd, pio, Uint64(info[1]), info[2].As<Napi::Number>().Uint32Value(), info[3].IsBigInt() ? &match : nullptr);
    } catch (const CoreError &e) {
      if (fd >= 0) close(fd);
      throw ToJsError(env, e);
    }
    eventfds_.push_back(fd);
    return Napi::Number::New(env, fd);
  }

  // setEventRing(view): record every access into the SharedArrayBuffer under this Uint8Array (layout:
  // native/event_ring.h). A view, because N-API reads a SharedArrayBuffer's memory only through one.
  void SetEventRing(const Napi::CallbackInfo &info) {
    CheckOpen(info.Env());
    Napi::Uint8Array view = info[0].As<Napi::Uint8Array>();
    if (view.ByteLength() < kRingHeaderBytes) throw Napi::TypeError::New(info.Env(), "event ring too small");
    event_ring_ = Napi::Persistent(view.As<Napi::Object>());
    loop_->AttachEventRing(view.Data());
  }

  Napi::Value VcpuId(const Napi::CallbackInfo &info) { return Napi::Number::New(info.Env(), vcpu_ ? vcpu_->id() : 0); }

  // begin({ maxExits, stopByte, timeoutMs, ignoreUnhandled, maxOutput, consoleFd })
  void Begin(const Napi::CallbackInfo &info) {
    CheckOpen(info.Env());
    Napi::Object o = info[0].As<Napi::Object>();
    RunLimits limits = RunLimits::Of(Uint64(o.Get("maxExits")), o.Get("stopByte").As<Napi::Number>().Int32Value(),
                                     o.Get("timeoutMs").As<Napi::Number>().DoubleValue(), o.Get("ignoreUnhandled").ToBoolean().Value(),
                                     Uint64(o.Get("maxOutput")));
    limits.console_fd = o.Get("consoleFd").As<Napi::Number>().Int32Value();
    try {
      loop_->Begin(limits);
    } catch (const CoreError &e) {
      throw ToJsError(info.Env(), e);
    }
  }

  Napi::Value Resume(const Napi::CallbackInfo &info) {
    CheckOpen(info.Env());
    return Napi::Number::New(info.Env(), static_cast<int32_t>(loop_->Resume()));
  }

  void End(const Napi::CallbackInfo &info) {
    CheckOpen(info.Env());
    loop_->End();
  }

  Napi::Value TakeConsole(const Napi::CallbackInfo &info) {
    CheckOpen(info.Env());
    std::string bytes = loop_->TakeConsole();
    return Napi::Buffer<char>::Copy(info.Env(), bytes.data(), bytes.size());
  }

  // consoleDropped(): console bytes printed past the run's maxOutput, not kept (until takeConsole()).
  Napi::Value ConsoleDropped(const Napi::CallbackInfo &info) {
    CheckOpen(info.Env());
    return Napi::Number::New(info.Env(), static_cast<double>(loop_->console_dropped()));
  }

  // stop(): thread-safe kick of a run in progress; false when none is.
  Napi::Value Kick(const Napi::CallbackInfo &info) {
    return Napi::Boolean::New(info.Env(), vcpu_ && vcpu_->Kick(StopRequest::kStop));
  }

  // interrupt(): raises the interrupt line (thread-safe); false when the VM is closed.
  Napi::Value Interrupt(const Napi::CallbackInfo &info) {
    if (!vcpu_) return Napi::Boolean::New(info.Env(), false);
    vcpu_->RaiseIrq();
    return Napi::Boolean::New(info.Env(), true);
  }

  // snapshot(): RAM and the whole vCPU state, kept natively (one per machine; a new one replaces it).
  void TakeSnapshot(const Napi::CallbackInfo &info) {
    CheckOpen(info.Env());
    try {
      // KVM would complete that exit's access now, before the loop has handled it (a read's data unknown).
      if (loop_->exit_pending())
        throw CoreError{"ERR_VM_BUSY", "snapshot() while an exit of the last run waits to be handled (the run ended among the coalesced writes before it): run the VM again first", 0, nullptr};
      snapshot_ = std::make_unique<Snapshot>(*vm_, *vcpu_);
    } catch (const CoreError &e) {
      throw ToJsError(info.Env(), e);
    }
  }

  // restore(hostWrote): back to the snapshot; returns the pages copied.
  Napi::Value Restore(const Napi::CallbackInfo &info) {
    Napi::Env env = info.Env();
    CheckOpen(env);
    if (!snapshot_) {
      Napi::Error e = Napi::Error::New(env, "the VM has no snapshot to restore");
      e.Set("code", Napi::String::New(env, "ERR_NO_SNAPSHOT"));
      throw e;
    }
    try {
      vcpu_->LowerIrq();  // a reset VM starts with the line low, as a fresh one
      loop_->Discard();   // and with no exit or coalesced write of the old run waiting
      return Napi::Number::New(env, static_cast<double>(snapshot_->Restore(*vm_, *vcpu_, info[0].ToBoolean().Value())));
    } catch (const CoreError &e) {
      throw ToJsError(env, e);
    }
  }

  void Close(const Napi::CallbackInfo &) { Release(); }

  std::unique_ptr<KvmVm> vm_;
  std::unique_ptr<KvmIrqfd> irqfd_;  // declared before vcpu_: the vCPU goes first
  std::unique_ptr<KvmVcpu> vcpu_;
  std::unique_ptr<VcpuLoop> loop_;
  std::unique_ptr<Snapshot> snapshot_;
  std::vector<Napi::Reference<Napi::ArrayBuffer>> buffers_;
  Napi::Reference<Napi::ArrayBuffer> exit_record_;
  Napi::ObjectReference event_ring_;
  std::vector<int> eventfds_;  // the doorbells'
  std::set<KvmMachine *> *live_ = nullptr;
};

// new KvmOneShot({ ...KvmMachine's options, segments: [{ guestAddr, data }], registers: [[name, value]],
// pcRegister, ignoreUnhandled }, exitRecord, vcpuIdSlot): a setup read once (native/one_shot.h);
// run(maxExits, stopByte, timeoutMs) creates, loads, runs and destroys one fresh VM of it.
class KvmOneShot : public Napi::ObjectWrap<KvmOneShot> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "KvmOneShot", {InstanceMethod<&KvmOneShot::Run>("run")});
  }

  explicit KvmOneShot(const Napi::CallbackInfo &info) : Napi::ObjectWrap<KvmOneShot>(info) {
    Napi::Object options = info[0].As<Napi::Object>();
    setup_.regions = RegionsOf(options);
    setup_.boot = BootOf(options);
    Napi::Array segments = options.Get("segments").As<Napi::Array>();
    for (uint32_t i = 0; i < segments.Length(); i++) {
      Napi::Object seg = segments.Get(i).As<Napi::Object>();
      Napi::Uint8Array data = seg.Get("data").As<Napi::Uint8Array>();
      setup_.segments.push_back({Uint64(seg.Get("guestAddr")), std::vector<uint8_t>(data.Data(), data.Data() + data.ByteLength())});
    }
    setup_.registers = RegisterPairsOf(options.Get("registers").As<Napi::Array>());
    setup_.pc_register = options.Get("pcRegister").As<Napi::String>().Utf8Value();
    setup_.ignore_unhandled = options.Get("ignoreUnhandled").ToBoolean().Value();
    Napi::ArrayBuffer record = info[1].As<Napi::ArrayBuffer>();
    if (record.ByteLength() < kExitRecordSize) {
      // Not a C++ throw: out of an ObjectWrap constructor it would free this object under its wrapper.
      Napi::RangeError::New(info.Env(), "exit record too small").ThrowAsJavaScriptException();
      return;
    }
    record_ = Napi::Persistent(record);
    Napi::Float64Array slot = info[2].As<Napi::Float64Array>();
    vcpu_id_slot_ = Napi::Persistent(slot.As<Napi::Object>());
    vcpu_id_ = slot.Data();
  }

 private:
  Napi::Value Run(const Napi::CallbackInfo &info) {
    Napi::Env env = info.Env();
    OneShotLimits limits{Uint64(info[0]), info[1].As<Napi::Number>().Int32Value(), info[2].As<Napi::Number>().DoubleValue()};
    try {
      return Napi::Number::New(env, static_cast<int32_t>(RunOneShot(setup_, limits, static_cast<uint8_t *>(record_.Value().Data()), vcpu_id_)));
    } catch (const CoreError &e) {
      throw ToJsError(env, e);
    }
  }

  OneShotSetup setup_;
  Napi::Reference<Napi::ArrayBuffer> record_;
  Napi::ObjectReference vcpu_id_slot_;
  double *vcpu_id_ = nullptr;
};

// new SigintStop(words: Int32Array, index, value, vcpuId): while it lives (until close()), SIGINT
// stores `value` at words[index] and kicks vCPU `vcpuId` (0: none). See native/sigint_stop.h.
class SigintStopJs : public Napi::ObjectWrap<SigintStopJs> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "SigintStop", {InstanceMethod<&SigintStopJs::Close>("close")});
  }

  explicit SigintStopJs(const Napi::CallbackInfo &info) : Napi::ObjectWrap<SigintStopJs>(info) {
    Napi::Int32Array words = info[0].As<Napi::Int32Array>();
    uint32_t index = info[1].As<Napi::Number>().Uint32Value();
    if (index >= words.ElementLength()) {
      // Not a C++ throw: out of an ObjectWrap constructor it would free this object under its wrapper.
      Napi::RangeError::New(info.Env(), "stop word index out of range").ThrowAsJavaScriptException();
      return;
    }
    words_ = Napi::Persistent(words.As<Napi::Object>());  // the word outlives the stop
    try {
      stop_ = std::make_unique<SigintStop>(words.Data() + index, info[2].As<Napi::Number>().Int32Value(), info[3].As<Napi::Number>().DoubleValue());
    } catch (const CoreError &e) {
      ToJsError(info.Env(), e).ThrowAsJavaScriptException();
    }
  }

 private:
  void Close(const Napi::CallbackInfo &) { stop_.reset(); }

  Napi::ObjectReference words_;
  std::unique_ptr<SigintStop> stop_;
};

// writeConsole(fd, bytes: Uint8Array): some of `bytes` written to `fd` once it takes them, waiting
// one slice at most: the count, or -1 when the reader is gone (native/console_stream.h).
Napi::Value WriteConsoleJs(const Napi::CallbackInfo &info) {
  Napi::Uint8Array bytes = info[1].As<Napi::Uint8Array>();
  ssize_t n = WriteConsole(info[0].As<Napi::Number>().Int32Value(), bytes.Data(), bytes.ByteLength(), kConsoleWaitMs);
  return Napi::Number::New(info.Env(), static_cast<double>(n));
}

// kickVcpu(id): stops the run of a vCPU that may live on another thread; false when none is running.
Napi::Value KickVcpuJs(const Napi::CallbackInfo &info) {
  return Napi::Boolean::New(info.Env(), KvmVcpu::KickById(info[0].As<Napi::Number>().DoubleValue(), StopRequest::kStop));
}

// interruptVcpu(id): raises the interrupt line of a vCPU that may live on another thread; false when it is gone.
Napi::Value InterruptVcpuJs(const Napi::CallbackInfo &info) {
  return Napi::Boolean::New(info.Env(), KvmVcpu::InterruptById(info[0].As<Napi::Number>().DoubleValue()));
}

// kvmStatus(): { usable, code, reason } without throwing, for `femtovm info` and backend choice.
Napi::Value KvmStatusJs(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  KvmStatus status = ProbeKvm();
  Napi::Object o = Napi::Object::New(env);
  o.Set("usable", status.usable);
  o.Set("code", status.code ? Napi::Value(Napi::String::New(env, status.code)) : env.Null());
  o.Set("reason", status.reason);
  return o;
}

Napi::Value RegisterNamesJs(const Napi::CallbackInfo &info) {
  const std::vector<std::string> &names = arch::RegisterNames();
  Napi::Array out = Napi::Array::New(info.Env(), names.size());
  for (uint32_t i = 0; i < names.size(); i++) out.Set(i, names[i]);
  return out;
}

Napi::Value RegisterBitsJs(const Napi::CallbackInfo &info) {
  return Napi::Number::New(info.Env(), arch::RegisterBits(info[0].As<Napi::String>().Utf8Value()));
}

// eventfd(): a new eventfd, for a backend that rings its doorbells itself (wasm); closeFd(fd).
Napi::Value EventfdJs(const Napi::CallbackInfo &info) {
  try {
    return Napi::Number::New(info.Env(), NewEventfd());
  } catch (const CoreError &e) {
    throw ToJsError(info.Env(), e);
  }
}
void CloseFdJs(const Napi::CallbackInfo &info) { close(info[0].As<Napi::Number>().Int32Value()); }
// ringEventfd(fd, rings): that many rings at once.
Napi::Value RingEventfdJs(const Napi::CallbackInfo &info) {
  return Napi::Boolean::New(info.Env(), RingEventfd(info[0].As<Napi::Number>().Int32Value(), Uint64(info[1])));
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("KvmMachine", KvmMachine::Define(env));
  exports.Set("KvmOneShot", KvmOneShot::Define(env));
  exports.Set("DoorbellWatcher", DoorbellWatcher::Define(env));
  exports.Set("eventfd", Napi::Function::New(env, EventfdJs, "eventfd"));
  exports.Set("ringEventfd", Napi::Function::New(env, RingEventfdJs, "ringEventfd"));
  exports.Set("closeFd", Napi::Function::New(env, CloseFdJs, "closeFd"));
  exports.Set("kvmStatus", Napi::Function::New(env, KvmStatusJs, "kvmStatus"));
  exports.Set("registerNames", Napi::Function::New(env, RegisterNamesJs, "registerNames"));
  exports.Set("registerBits", Napi::Function::New(env, RegisterBitsJs, "registerBits"));
  exports.Set("SigintStop", SigintStopJs::Define(env));
  exports.Set("writeConsole", Napi::Function::New(env, WriteConsoleJs, "writeConsole"));
  exports.Set("kickVcpu", Napi::Function::New(env, KickVcpuJs, "kickVcpu"));
  exports.Set("interruptVcpu", Napi::Function::New(env, InterruptVcpuJs, "interruptVcpu"));
  exports.Set("arch", Napi::String::New(env, arch::kName));
  exports.Set("constants", NativeConstants(env));
  return exports;
}

}  // namespace
}  // namespace femtovm

static Napi::Object InitAddon(Napi::Env env, Napi::Object exports) { return femtovm::Init(env, exports); }
NODE_API_MODULE(femtovm, InitAddon)
