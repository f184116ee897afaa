// Doorbells: an eventfd that KVM signals, inside the kernel, when the guest writes a given address
// (KVM_IOEVENTFD, registered by KvmVm::AddIoeventfd), and the watcher that wakes a JavaScript thread
// when it rings: a libuv poll on the thread's own loop, so the handler runs off the vCPU's thread (on
// the main thread for a VM on a worker) with no exit and no message. The WebAssembly backend rings
// the same kind of eventfd itself, so both backends are watched alike.
#pragma once
#include <napi.h>
#include <uv.h>

namespace femtovm {

// A new eventfd (non-blocking, close-on-exec); throws CoreError ERR_KVM_CREATE.
int NewEventfd();
// Adds `rings` rings to an eventfd (the wasm backend's guest writes); false when the fd is not an eventfd.
bool RingEventfd(int fd, uint64_t rings);

// new DoorbellWatcher(fd, handler): calls handler(rings) on this thread's loop whenever the eventfd
// `fd` was signalled, with how many times since the last call (the rings coalesce). Watches a
// duplicate of `fd`, so it outlives the VM's own. close() calls the handler with any rings
// not yet delivered, then stops it and closes the duplicate (idempotent; also, without that last
// call, when the thread's environment ends).
class DoorbellWatcher : public Napi::ObjectWrap<DoorbellWatcher> {
 public:
  static Napi::Function Define(Napi::Env env);
  explicit DoorbellWatcher(const Napi::CallbackInfo &info);
  ~DoorbellWatcher() override;

 private:
  void Close(const Napi::CallbackInfo &info);
  void Stop();  // idempotent
  static void CleanupHook(void *self);
  static void OnReadable(uv_poll_t *handle, int status, int events);

  int fd_ = -1;
  uv_poll_t *poll_ = nullptr;  // freed by uv_close's callback
  Napi::FunctionReference handler_;
  napi_env env_ = nullptr;
  napi_async_context context_ = nullptr;
};

}  // namespace femtovm
