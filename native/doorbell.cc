#include "doorbell.h"

#include <sys/eventfd.h>
#include <unistd.h>

#include <cstdint>

#include "errors.h"

namespace femtovm {

int NewEventfd() {
  int fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (fd < 0) throw SyscallError("ERR_KVM_CREATE", "eventfd");
  return fd;
}

bool RingEventfd(int fd, uint64_t rings) {
  return write(fd, &rings, sizeof rings) == static_cast<ssize_t>(sizeof rings);
}

Napi::Function DoorbellWatcher::Define(Napi::Env env) {
  return DefineClass(env, "DoorbellWatcher", {InstanceMethod<&DoorbellWatcher::Close>("close")});
}

DoorbellWatcher::DoorbellWatcher(const Napi::CallbackInfo &info) : Napi::ObjectWrap<DoorbellWatcher>(info) {
  Napi::Env env = info.Env();
  env_ = env;
  fd_ = dup(info[0].As<Napi::Number>().Int32Value());
  if (fd_ < 0) {
    // Not a C++ throw: out of an ObjectWrap constructor it would free this object under its wrapper.
    ToJsError(env, SyscallError("ERR_VM_CLOSED", "dup of the doorbell's eventfd")).ThrowAsJavaScriptException();
    return;
  }
  handler_ = Napi::Persistent(info[1].As<Napi::Function>());
  napi_async_init(env, Napi::Object::New(env), Napi::String::New(env, "femtovm:doorbell"), &context_);
  uv_loop_t *loop = nullptr;
  napi_get_uv_event_loop(env, &loop);
  poll_ = new uv_poll_t;
  uv_poll_init(loop, poll_, fd_);
  poll_->data = this;
  uv_poll_start(poll_, UV_READABLE, OnReadable);
  // A worker thread that ends with the watcher open: stop it before its loop goes.
  napi_add_env_cleanup_hook(env, CleanupHook, this);
}

DoorbellWatcher::~DoorbellWatcher() {
  if (env_ != nullptr && fd_ >= 0) napi_remove_env_cleanup_hook(env_, CleanupHook, this);
  Stop();
}

void DoorbellWatcher::Close(const Napi::CallbackInfo &info) {
  if (fd_ < 0) return;
  napi_remove_env_cleanup_hook(env_, CleanupHook, this);
  uint64_t rings = 0;
  bool pending = read(fd_, &rings, sizeof rings) == static_cast<ssize_t>(sizeof rings) && rings > 0;
  Napi::FunctionReference handler = std::move(handler_);
  Stop();
  // Rings the loop has not delivered yet go to the handler now: none is lost when the VM closes.
  if (pending) handler.Call({Napi::Number::New(info.Env(), static_cast<double>(rings))});
}

void DoorbellWatcher::CleanupHook(void *self) { static_cast<DoorbellWatcher *>(self)->Stop(); }

void DoorbellWatcher::Stop() {
  if (poll_ != nullptr) {
    uv_poll_stop(poll_);
    uv_close(reinterpret_cast<uv_handle_t *>(poll_), [](uv_handle_t *h) { delete reinterpret_cast<uv_poll_t *>(h); });
    poll_ = nullptr;
  }
  if (fd_ >= 0) {
    close(fd_);
    fd_ = -1;
  }
  if (context_ != nullptr) {
    napi_async_destroy(env_, context_);
    context_ = nullptr;
  }
  handler_.Reset();
}

void DoorbellWatcher::OnReadable(uv_poll_t *handle, int status, int) {
  auto *self = static_cast<DoorbellWatcher *>(handle->data);
  uint64_t rings = 0;
  if (status < 0 || read(self->fd_, &rings, sizeof rings) != static_cast<ssize_t>(sizeof rings) || rings == 0) return;
  Napi::Env env(self->env_);
  Napi::HandleScope scope(env);
  try {
    // Through MakeCallback: async hooks see it, and the microtasks it queues run before we return.
    self->handler_.MakeCallback(env.Global(), {Napi::Number::New(env, static_cast<double>(rings))}, self->context_);
  } catch (const Napi::Error &e) {
    napi_fatal_exception(self->env_, e.Value());  // a throwing handler is an uncaught exception, as in any callback
  }
}

}  // namespace femtovm
