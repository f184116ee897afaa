// Typed errors thrown into JavaScript: every error carries a stable `code` (ERR_*), and errors that
// come from a system call carry `syscall` and `errno` too, like Node's own. The TypeScript layer maps
// the code onto its Error subclasses (src/shared/errors.ts).
#pragma once
#include <napi.h>

#include <cerrno>
#include <cstring>
#include <string>

namespace femtovm {

// A failure inside the core that is not yet a JS exception (the core is usable without a JS env).
struct CoreError {
  const char *code;     // stable ERR_* code
  std::string message;  // one line, names the ioctl or step that failed
  int err = 0;          // errno, 0 when not a system call failure
  const char *syscall = nullptr;
};

inline CoreError SyscallError(const char *code, const char *what, int err = errno) {
  return CoreError{code, std::string(what) + ": " + std::strerror(err), err, what};
}

inline Napi::Error ToJsError(Napi::Env env, const CoreError &e) {
  Napi::Error error = Napi::Error::New(env, e.message);
  error.Set("code", Napi::String::New(env, e.code));
  if (e.err != 0) error.Set("errno", Napi::Number::New(env, e.err));
  if (e.syscall != nullptr) error.Set("syscall", Napi::String::New(env, e.syscall));
  return error;
}

}  // namespace femtovm
