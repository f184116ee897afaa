// The KVM system fd (/dev/kvm): API version, capabilities and the vCPU mmap size. One per process,
// shared by every VM and closed when the last of them is gone.
#pragma once
#include <memory>
#include <string>

#include "errors.h"

namespace femtovm {

class KvmSystem {
 public:
  // Opens /dev/kvm (O_CLOEXEC) and checks API version 12 and the capabilities femtovm relies on.
  // Throws CoreError: ERR_KVM_MISSING, ERR_KVM_PERMISSION, ERR_KVM_API_VERSION, ERR_KVM_CAPABILITY.
  static std::shared_ptr<KvmSystem> Get();
  ~KvmSystem();
  KvmSystem(const KvmSystem &) = delete;
  KvmSystem &operator=(const KvmSystem &) = delete;

  int fd() const { return fd_; }
  int vcpu_mmap_size() const { return vcpu_mmap_size_; }
  // KVM_CHECK_EXTENSION on the system fd; 0 when absent.
  int CheckExtension(long capability) const;

 private:
  explicit KvmSystem(int fd);
  int fd_;
  int vcpu_mmap_size_ = 0;
};

// What `femtovm info` reports: usable or not, and why not, without throwing.
struct KvmStatus {
  bool usable;
  const char *code;  // nullptr when usable
  std::string reason;
};
KvmStatus ProbeKvm();

}  // namespace femtovm
