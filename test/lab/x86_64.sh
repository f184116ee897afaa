# x86_64 lab (sourced by lab.sh): qemu-system-x86_64 under TCG (never the host's KVM, so it works
# the same with or without /dev/kvm). `-cpu max` emulates an AMD CPU with SVM and nested paging, so
# Debian's stock kernel loads kvm_amd and the guest's /dev/kvm is real KVM. The guest chroots into
# the host's own / (shared read-only), so it runs the host's Node and the addon `npm install` built.

DEB_ARCH=amd64
KERNEL_META=linux-image-amd64    # the generic flavour: cloud-amd64 has KVM but no 9p
KERNEL_MODULES="kvm_amd virtio_pci 9pnet_virtio 9p"
CONSOLE=ttyS0
HOSTROOT=1
# One vCPU: with two, the guest wedged (soft lockups on both vCPUs) in 2 of 3 runs of the KVM
# tests, and one was no faster anyway.
DEFAULT_SMP=1

arch_host_packages() {
  need qemu-system-x86_64 qemu-system-x86
}

# qemu boots an uncompressed ELF vmlinux through its PVH entry point: that saves the ~3 s the guest
# would spend unpacking the xz-compressed bzImage under emulation (a third of a warm run).
# Falls back to the bzImage when that is not possible.
arch_kernel_image() {  # $1: vmlinuz, $2: its config, $3: output
  local off
  off=$(LC_ALL=C grep -obUaP '\xfd7zXZ\x00' "$1" | head -1 | cut -d: -f1 || true)
  if grep -qx CONFIG_PVH=y "$2" && [ -n "$off" ]; then
    # xz complains about the size word after the stream: the result is checked instead
    tail -c +$((off + 1)) "$1" | xz -dcq > "$3" 2>/dev/null || true
    [ "$(head -c4 "$3" | od -An -tx1 | tr -d ' ')" = 7f454c46 ] && return
  fi
  log "note: booting the compressed bzImage (no PVH vmlinux): ~3 s slower"
  cp "$1" "$3"
}

arch_setup() {
  # Nothing to build: the host's addon is used as is. Only say when it is not there.
  [ -f "$ROOT/build/Release/femtovm.node" ] ||
    log "note: $ROOT/build/Release/femtovm.node does not exist (npm install builds it)"
}

arch_initramfs_key() { :; }
arch_initramfs_extra() { :; }

arch_qemu() {
  QEMU=(qemu-system-x86_64 -accel tcg -cpu max)
  QEMU_EXTRA=(-virtfs "local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap")
}
