#include "kvm_system.h"

#include <fcntl.h>
#include <linux/kvm.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cstdlib>

#include <mutex>

namespace femtovm {

namespace {
std::mutex g_mutex;
std::weak_ptr<KvmSystem> g_system;  // weak: the fd closes with the last VM

// Capabilities the core uses; without them it would misbehave rather than fail cleanly.
struct RequiredCap {
  long cap;
  const char *name;
};
constexpr RequiredCap kRequiredCaps[] = {
    {KVM_CAP_USER_MEMORY, "KVM_CAP_USER_MEMORY"},
    {KVM_CAP_IMMEDIATE_EXIT, "KVM_CAP_IMMEDIATE_EXIT"},
};

// FEMTOVM_KVM_DEVICE names another device node (a KVM in a container, or a test of the failure paths).
int OpenKvm() {
  const char *env = getenv("FEMTOVM_KVM_DEVICE");
  std::string path = env != nullptr && *env != '\0' ? env : "/dev/kvm";
  int fd = open(path.c_str(), O_RDWR | O_CLOEXEC);
  if (fd >= 0) return fd;
  int err = errno;
  if (err == ENOENT || err == ENXIO || err == ENODEV)
    throw CoreError{"ERR_KVM_MISSING", path + " is missing: this host has no KVM", err, "open"};
  if (err == EACCES || err == EPERM)
    throw CoreError{"ERR_KVM_PERMISSION", path + " is not accessible: permission denied (join the kvm group)", err,
                    "open"};
  throw CoreError{"ERR_KVM_MISSING", "open " + path + ": " + std::strerror(err), err, "open"};
}
}  // namespace

KvmSystem::KvmSystem(int fd) : fd_(fd) {}

KvmSystem::~KvmSystem() { close(fd_); }

int KvmSystem::CheckExtension(long capability) const {
  int r = ioctl(fd_, KVM_CHECK_EXTENSION, capability);
  return r < 0 ? 0 : r;
}

std::shared_ptr<KvmSystem> KvmSystem::Get() {
  std::lock_guard<std::mutex> lock(g_mutex);
  if (auto existing = g_system.lock()) return existing;
  std::shared_ptr<KvmSystem> system(new KvmSystem(OpenKvm()));  // owns the fd from here on
  int api = ioctl(system->fd_, KVM_GET_API_VERSION, 0);
  if (api != KVM_API_VERSION)
    throw CoreError{"ERR_KVM_API_VERSION",
                    api < 0 ? std::string("the KVM device does not answer KVM_GET_API_VERSION: not a KVM device")
                            : "the KVM device speaks API version " + std::to_string(api) + ", femtovm needs " +
                                  std::to_string(KVM_API_VERSION),
                    0, nullptr};
  for (const RequiredCap &c : kRequiredCaps)
    if (!system->CheckExtension(c.cap))
      throw CoreError{"ERR_KVM_CAPABILITY", std::string("/dev/kvm lacks ") + c.name, 0, nullptr};
  system->vcpu_mmap_size_ = ioctl(system->fd_, KVM_GET_VCPU_MMAP_SIZE, 0);
  if (system->vcpu_mmap_size_ < static_cast<int>(sizeof(kvm_run)))
    throw SyscallError("ERR_KVM_CAPABILITY", "KVM_GET_VCPU_MMAP_SIZE");
  g_system = system;
  return system;
}

KvmStatus ProbeKvm() {
  try {
    std::shared_ptr<KvmSystem> system = KvmSystem::Get();
    return KvmStatus{true, nullptr, ""};
  } catch (const CoreError &e) {
    return KvmStatus{false, e.code, e.message};
  }
}

}  // namespace femtovm
