#!/usr/bin/env bash
# femtovm lab: runs a command inside an emulated machine whose /dev/kvm is real KVM, on any
# x86-64 Linux host, with or without KVM of its own.
#
#   npm run lab -- [--arch aarch64|x86_64] <command> [args...]      (default arch: aarch64)
#   e.g. npm run lab -- --arch x86_64 node --test dist/test/vm.kvm.test.js
#
# The project directory is shared read-write over 9p at the same path and is the working
# directory; `node` and `femtovm` are on PATH. The guest's console (the command's output) streams
# to stdout; the lab's own lines start with "[lab] " and go to stderr.
# Exit status: the command's; 124 when it timed out; 125 when the lab itself failed.
#
# Environment:
#   LAB_ENV="VAR ..."      host variables to export to the command (FEMTOVM_LAB=<arch> and CI,
#                          if set, always are)
#   LAB_TIMEOUT=1200       seconds the command may run (then 124)
#   LAB_BOOT_TIMEOUT=180   seconds from starting qemu to the guest being ready (then 125)
#   LAB_SMP, LAB_MEM=2048  guest vCPUs (default: x86_64 1, aarch64 2) and MiB
#   LAB_VERBOSE=1          show the guest kernel's messages and qemu's stderr
#   LAB_SKIP_ADDON=1       aarch64: boot without cross-building the addon (to debug the lab)
#
# Everything downloaded or built lives in <root>/.lab-cache/ and is rebuilt only when its inputs
# change; delete a part to refresh it (e.g. .lab-cache/aarch64/kernel for a newer kernel).
# The first run installs the host packages it needs (apt-get, as root).
set -euo pipefail

LAB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$LAB_DIR/../.." && pwd)
source "$LAB_DIR/common.sh"

usage() { sed -n '2,/^set -euo/p' "$0" | sed -e '/^set -euo/d' -e 's/^# \{0,1\}//' >&2; exit "${1:-125}"; }

ARCH=aarch64
while [ $# -gt 0 ]; do
  case $1 in
    --arch) [ $# -ge 2 ] || usage; ARCH=$2; shift 2 ;;
    --arch=*) ARCH=${1#--arch=}; shift ;;
    -h|--help) usage 0 ;;
    --) shift; break ;;
    -*) log "unknown option $1"; usage ;;
    *) break ;;
  esac
done
[ $# -gt 0 ] || usage
case $ARCH in
  aarch64|arm64) ARCH=aarch64 ;;
  x86_64|x64|amd64) ARCH=x86_64 ;;
  *) die "unknown arch '$ARCH' (aarch64 or x86_64)" ;;
esac
[ "$(uname -m)" = x86_64 ] || die "the lab is written for an x86-64 host (this is $(uname -m))"
source "$LAB_DIR/$ARCH.sh"

TIMEOUT=${LAB_TIMEOUT:-1200}
BOOT_TIMEOUT=${LAB_BOOT_TIMEOUT:-180}
CACHE=$ROOT/.lab-cache
ACACHE=$CACHE/$ARCH
T_START=$(now)

# Any unexpected failure while setting up is a lab failure (125), not some other status.
set -E
trap 'die "setup failed: \"$BASH_COMMAND\" (line $LINENO of ${BASH_SOURCE[0]##*/})"' ERR
lock_cache
need cpio cpio
arch_host_packages
step install_missing
step setup_kernel
step setup_busybox
arch_setup
step setup_initramfs
unlock_cache
trap - ERR

log "$ARCH guest: $(cat "$ACACHE/kernel/version"), booting (qemu, TCG): $*"
rc=0
run_guest "$@" || rc=$?
exit "$rc"
