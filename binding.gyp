{
  "targets": [{
    "target_name": "femtovm",
    "sources": [
      "native/addon.cc",
      "native/kvm_system.cc",
      "native/kvm_vm.cc",
      "native/kvm_vcpu.cc",
      "native/kvm_irqfd.cc",
      "native/vcpu_loop.cc",
      "native/vcpu_kick.cc",
      "native/snapshot.cc",
      "native/one_shot.cc",
      "native/native_constants.cc",
      "native/doorbell.cc",
      "native/console_stream.cc",
      "native/sigint_stop.cc",
      "native/arch_arm64.cc",
      "native/arch_x86_64.cc"
    ],
    "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
    "defines": ["NAPI_VERSION=8", "NAPI_CPP_EXCEPTIONS", "NODE_API_SWALLOW_UNTHROWABLE_EXCEPTIONS"],
    "cflags!": ["-fno-exceptions"],
    "cflags_cc!": ["-fno-exceptions"],
    "cflags_cc": ["-std=c++17", "-O2", "-Wall", "-Wextra", "-Wno-missing-field-initializers"]
  }]
}
