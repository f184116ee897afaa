# Shared parts of the lab (sourced by lab.sh): logging, host packages, Debian downloads, the
# guest kernel and its modules, the initramfs, and booting + result handling.
# Expects ROOT, LAB_DIR, ARCH, CACHE (= $ROOT/.lab-cache) and ACACHE (= $CACHE/$ARCH) to be set,
# and the arch file (x86_64.sh / aarch64.sh) to be sourced.

log() { echo "[lab] $*" >&2; }
die() { log "ERROR: $*"; exit 125; }
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

# step <function> [args]: run one setup step, report its time only when it did real work.
step() {
  local t; t=$(now)
  "$@"
  local d; d=$(since "$t")
  if awk -v d="$d" 'BEGIN { exit !(d >= 0.5) }'; then log "$1: ${d}s"; fi
}

# Single quotes for sh (POSIX: the guest's /bin/sh may be dash or busybox ash).
shquote() { printf "'%s'" "${1//\'/\'\\\'\'}"; }

# Content hash of files and/or directory trees (names + contents), for "rebuild only what changed".
hash_tree() {
  local p
  for p in "$@"; do
    if [ -d "$p" ]; then (cd "$p" && find . -type f -print0 | LC_ALL=C sort -z | xargs -0r sha256sum)
    elif [ -e "$p" ]; then sha256sum "$p"
    else echo "missing $p"; fi
  done | sha256sum | cut -c1-16
}

# ------------------------------------------------------------------------------ host packages
# need <command-or-path> <debian package>: queue the package if the command/file is missing.
MISSING_PKGS=()
need() {
  case $1 in
    /*) [ -e "$1" ] && return ;;
    *) command -v "$1" >/dev/null && return ;;
  esac
  MISSING_PKGS+=("$2")
}

APT_UPDATED=
apt_update_once() {
  [ -n "$APT_UPDATED" ] && return
  log "apt-get update"
  apt-get update -qq >&2 || die "apt-get update failed"
  APT_UPDATED=1
}

require_root() { [ "$(id -u)" = 0 ] || die "$1 needs root (run the lab once as root, or do it by hand)"; }

install_missing() {
  [ ${#MISSING_PKGS[@]} -gt 0 ] || return 0
  require_root "installing ${MISSING_PKGS[*]}"
  log "installing host packages: ${MISSING_PKGS[*]}"
  local apt=(env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends --no-upgrade)
  local alog=$CACHE/apt-install.log
  # Stale or absent package lists are the usual reason for a failure: refresh once and retry.
  if ! "${apt[@]}" "${MISSING_PKGS[@]}" > "$alog" 2>&1; then
    apt_update_once
    "${apt[@]}" "${MISSING_PKGS[@]}" > "$alog" 2>&1 ||
      { tail -15 "$alog" | sed 's/^/[lab]   /' >&2; die "apt-get install ${MISSING_PKGS[*]} failed (log: $alog)"; }
  fi
  MISSING_PKGS=()
}

# ------------------------------------------------------------------------------ Debian downloads
# Debian packages of the guest's architecture are downloaded (never installed) into
# $CACHE/debs/<deb arch>/; arm64 needs dpkg's foreign architecture for that.
apt_ready_for() {  # $1: deb arch
  if [ "$1" != "$(dpkg --print-architecture)" ] && ! dpkg --print-foreign-architectures | grep -x "$1" >/dev/null; then
    require_root "dpkg --add-architecture $1"
    log "dpkg --add-architecture $1"
    dpkg --add-architecture "$1"
    apt_update_once
  fi
  apt-cache show "$KERNEL_META:$1" >/dev/null 2>&1 || apt_update_once
}

# deb_fetch <dest> <pkg>...: download <pkg>:$DEB_ARCH (latest candidate) and unpack into <dest>.
# Prints nothing; the .debs stay in the cache.
deb_fetch() {
  local dest=$1; shift
  local dir=$CACHE/debs/$DEB_ARCH p
  mkdir -p "$dir" "$dest"
  apt_ready_for "$DEB_ARCH"
  for p in "$@"; do rm -f "$dir/${p}"_*.deb; done
  (cd "$dir" && apt-get download -q "${@/%/:$DEB_ARCH}" 2>&1) | { grep -v -e unsandboxed -e '^Get:' >&2 || true; }
  for p in "$@"; do
    local deb; deb=$(ls "$dir/${p}"_*.deb 2>/dev/null | head -1 || true)
    [ -n "$deb" ] || die "apt-get download $p:$DEB_ARCH failed"
    dpkg-deb -x "$deb" "$dest"
    echo "${deb##*/}" >> "$dest/.debs"
  done
}

# ------------------------------------------------------------------------------ kernel + modules
# Debian's generic kernel for $DEB_ARCH: the image qemu boots (arch_kernel_image) and the modules
# $KERNEL_MODULES need, as plain .ko files plus modules/order (insmod order). Kept until
# .lab-cache/<arch>/kernel is deleted.
setup_kernel() {
  local out=$ACACHE/kernel
  [ -s "$out/.done" ] && return
  apt_ready_for "$DEB_ARCH"
  local pkg
  pkg=$(apt-cache depends "$KERNEL_META:$DEB_ARCH" | awk '/Depends: linux-image-/ { print $2; exit }')
  pkg=${pkg%:"$DEB_ARCH"}
  [ -n "$pkg" ] || die "cannot resolve $KERNEL_META:$DEB_ARCH to a kernel package"
  log "kernel: $pkg"
  local x=$out.tmp; rm -rf "$x"; mkdir -p "$x/modules"
  deb_fetch "$x/deb" "$pkg"
  local kver; kver=$(basename "$(ls -d "$x"/deb/lib/modules/*/ | head -1)")
  [ -n "$kver" ] && [ -f "$x/deb/boot/vmlinuz-$kver" ] || die "no kernel image in $pkg"
  resolve_modules "$x/deb/lib/modules/$kver" "$x/modules" $KERNEL_MODULES
  arch_kernel_image "$x/deb/boot/vmlinuz-$kver" "$x/deb/boot/config-$kver" "$x/image"
  echo "$kver" > "$x/version"
  grep -E '^CONFIG_(KVM|KVM_AMD|NET_9P|9P_FS|VIRTIO_PCI)=' "$x/deb/boot/config-$kver" | tr '\n' ' ' > "$x/config"
  rm -rf "$x/deb"
  echo "$pkg" > "$x/.done"
  rm -rf "$out"; mv "$x" "$out"
}

# resolve_modules <lib/modules/VER> <outdir> <module>...: copy each module and, first, what it
# depends on. The .deb ships no modules.dep (depmod runs at install time), so the dependencies
# come from each module's own "depends=" modinfo string; busybox insmod needs plain .ko files.
resolve_modules() {
  local md=$1 out=$2; shift 2
  local -A seen=()
  local order=()
  _addmod() {
    local m=${1//-/_} f d pat
    [ -n "${seen[$m]:-}" ] && return; seen[$m]=1
    pat=${m//_/[-_]}
    if grep -qE "/$pat\.ko\$" "$md/modules.builtin" 2>/dev/null; then return; fi
    f=$(find "$md/kernel" -regextype posix-extended -regex ".*/$pat\.ko(\.xz|\.zst|\.gz)?" | head -1)
    [ -n "$f" ] || die "kernel module $m not found"
    case $f in
      *.xz) xz -dc "$f" ;; *.zst) zstd -qdc "$f" ;; *.gz) gzip -dc "$f" ;; *) cat "$f" ;;
    esac > "$out/$m.ko"
    for d in $(tr '\0' '\n' < "$out/$m.ko" | sed -n 's/^depends=//p' | head -1 | tr , ' '); do _addmod "$d"; done
    order+=("$m")
  }
  local m
  for m in "$@"; do _addmod "$m"; done
  echo "${order[*]}" > "$out/order"
  log "modules (insmod order): ${order[*]}"
}

# ------------------------------------------------------------------------------ initramfs
# busybox-static of the guest's architecture (downloaded, so the host's own busybox, if any,
# static or not, does not matter).
setup_busybox() {
  [ -x "$ACACHE/busybox/bin/busybox" ] && return
  local x=$ACACHE/busybox.tmp; rm -rf "$x"
  deb_fetch "$x" busybox-static
  rm -rf "$x/usr" "$x/etc"
  rm -rf "$ACACHE/busybox"; mv "$x" "$ACACHE/busybox"
}

# Packs busybox, the modules, init.sh and what the arch adds (arch_initramfs_extra) into an
# uncompressed cpio (the guest unpacks it faster than it would gunzip it under emulation).
# Rebuilt when any input changes (arch_initramfs_key names the arch's inputs).
setup_initramfs() {
  local out=$ACACHE/initramfs.cpio key
  key=$( { cat "$ACACHE/kernel/.done" "$ACACHE/kernel/modules/order" "$ACACHE/busybox/.debs"
           cat "$LAB_DIR/init.sh"; arch_initramfs_key; } | sha256sum | cut -c1-16)
  [ -s "$out" ] && [ "$(cat "$out.key" 2>/dev/null)" = "$key" ] && return
  log "packing the initramfs"
  local r=$ACACHE/initramfs.tmp
  rm -rf "$r"; mkdir -p "$r"/{bin,sbin,usr/bin,usr/sbin,usr/local/bin,proc,sys,dev,tmp,run,root,etc,lib/modules,mnt}
  cp "$ACACHE/busybox/bin/busybox" "$r/bin/busybox"
  cp "$ACACHE/kernel/modules/"* "$r/lib/modules/"
  cp "$LAB_DIR/init.sh" "$r/init"; chmod 755 "$r/init"
  printf 'root:x:0:0:root:/root:/bin/sh\n' > "$r/etc/passwd"
  printf 'root:x:0:\n' > "$r/etc/group"
  printf '127.0.0.1 localhost\n::1 localhost\n' > "$r/etc/hosts"
  arch_initramfs_extra "$r"
  (cd "$r" && find . | LC_ALL=C sort | cpio -o -H newc --quiet) > "$out.tmp" || die "cpio failed"
  mv "$out.tmp" "$out"; echo "$key" > "$out.key"
  rm -rf "$r"
}

# ------------------------------------------------------------------------------ cache lock
# One setup at a time per cache; released before booting (cached files are replaced by rename,
# so a qemu that already opened the old ones is not disturbed).
lock_cache() {
  mkdir -p "$ACACHE"
  exec 9>"$CACHE/.lock"
  if ! flock -n 9; then
    log "waiting for another lab to finish its setup (lock $CACHE/.lock)"
    flock 9
  fi
}
unlock_cache() { flock -u 9; exec 9>&-; }

# ------------------------------------------------------------------------------ boot + result
# The control share (a fresh host temp dir, 9p tag "labctl"): conf and cmd.sh in, ready and rc out.
write_control() {
  local ctl=$1; shift
  mkdir -p "$ctl/bin"
  local tty=0; [ -t 1 ] && tty=1
  {
    echo "DIR=$(shquote "$ROOT")"
    echo "HOSTROOT=${HOSTROOT:-0}"
    echo "TTY=$tty"
  } > "$ctl/conf"
  # It runs node itself (not through cli.js's first line): the V8 flags that line gives it.
  printf '#!/bin/sh\nexec node --no-sparkplug --no-wasm-code-gc %s "$@"\n' "$(shquote "$ROOT/dist/cli.js")" > "$ctl/bin/femtovm"
  chmod 755 "$ctl/bin/femtovm"
  local v
  {
    echo 'export PATH="/tmp/.lab/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" HOME=/tmp'
    if [ "$tty" = 1 ]; then echo "export TERM=$(shquote "${TERM:-vt100}")"; else echo "export TERM=dumb"; fi
    echo "export FEMTOVM_LAB=$(shquote "$ARCH")"
    for v in CI ${LAB_ENV:-}; do
      [[ $v =~ ^[A-Za-z_][A-Za-z0-9_]*$ ]] || die "LAB_ENV: not a variable name: $v"
      [ -n "${!v+set}" ] && echo "export $v=$(shquote "${!v}")"
    done
    echo "cd $(shquote "$ROOT") || exit 125"
    printf 'exec'; for v in "$@"; do printf ' %s' "$(shquote "$v")"; done; echo
  } > "$ctl/cmd.sh"
}

# Kills qemu when the guest is not ready in time (boot) or the command runs too long.
watchdog() {  # $1: qemu pid, $2: control dir
  local start=$SECONDS ready=
  while kill -0 "$1" 2>/dev/null; do
    if [ -z "$ready" ]; then
      if [ -e "$2/ready" ]; then ready=$SECONDS
      elif (( SECONDS - start >= BOOT_TIMEOUT )); then echo boot > "$2/killed"; break; fi
    elif (( SECONDS - ready >= TIMEOUT )); then echo command > "$2/killed"; break; fi
    sleep 0.5
  done
  if [ -e "$2/killed" ]; then
    kill "$1" 2>/dev/null; sleep 3; kill -9 "$1" 2>/dev/null || true
  fi
}

# run_guest <command...>: boot, stream the console, return the command's status.
# Console lines that start with "[lab] " (from init.sh) go to stderr, everything else to stdout.
run_guest() {
  CTL=$(mktemp -d "${TMPDIR:-/tmp}/femtovm-lab.XXXXXX")
  QEMU_PID= WATCH_PID= SED_PID=
  trap 'cleanup_guest' EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
  write_control "$CTL" "$@"

  local append="console=$CONSOLE panic=-1 rdinit=/init"
  [ "${LAB_VERBOSE:-0}" = 1 ] || append="$append quiet loglevel=1"
  arch_qemu   # sets QEMU=(binary + machine/cpu) and QEMU_EXTRA=(...)
  local virtfs="security_model=none,multidevs=remap"
  QEMU+=(-smp "${LAB_SMP:-$DEFAULT_SMP}" -m "${LAB_MEM:-2048}" -display none -monitor none -serial stdio
         -no-reboot -nic none
         -kernel "$ACACHE/kernel/image" -initrd "$ACACHE/initramfs.cpio" -append "$append"
         -virtfs "local,path=${CTL//,/,,},mount_tag=labctl,$virtfs"
         -virtfs "local,path=${ROOT//,/,,},mount_tag=host0,$virtfs"
         "${QEMU_EXTRA[@]}")

  mkfifo "$CTL/console"
  sed -u -e 's/\r$//' -e '/^\[ *[0-9.]*\] reboot: Power down$/d' \
      -e '/^\[lab\] /{w /dev/stderr' -e 'd}' < "$CTL/console" &
  SED_PID=$!
  local qerr=$CTL/qemu.log; [ "${LAB_VERBOSE:-0}" = 1 ] && qerr=/dev/stderr
  T_BOOT=$(now)
  "${QEMU[@]}" < /dev/null > "$CTL/console" 2> "$qerr" &
  QEMU_PID=$!
  watchdog "$QEMU_PID" "$CTL" &
  WATCH_PID=$!
  local qrc=0
  wait "$QEMU_PID" || qrc=$?
  QEMU_PID=
  wait "$SED_PID" 2>/dev/null || true; SED_PID=
  kill "$WATCH_PID" 2>/dev/null || true; wait "$WATCH_PID" 2>/dev/null || true; WATCH_PID=

  local rc killed
  killed=$(cat "$CTL/killed" 2>/dev/null || true)
  rc=$(cat "$CTL/rc" 2>/dev/null || true)
  if [[ $rc =~ ^[0-9]+$ ]]; then :
  elif [ "$killed" = boot ]; then
    log "ERROR: boot timeout: the guest was not ready after ${BOOT_TIMEOUT}s (LAB_BOOT_TIMEOUT)"; rc=125
  elif [ "$killed" = command ]; then
    log "ERROR: timeout: the command ran longer than ${TIMEOUT}s (LAB_TIMEOUT)"; rc=124
  else
    log "ERROR: the guest stopped without reporting an exit status (qemu exit status $qrc)"; rc=125
  fi
  if [ "$rc" = 125 ] && [ -s "$CTL/qemu.log" ]; then sed 's/^/[lab] qemu: /' "$CTL/qemu.log" | tail -20 >&2; fi
  log "exit status $rc ($ARCH; setup $(awk -v a="$T_START" -v b="$T_BOOT" 'BEGIN { printf "%.1f", b - a }')s, boot + command $(since "$T_BOOT")s)"
  return "$rc"
}

cleanup_guest() {
  [ -n "${QEMU_PID:-}" ] && kill "$QEMU_PID" 2>/dev/null
  [ -n "${WATCH_PID:-}" ] && kill "$WATCH_PID" 2>/dev/null
  [ -n "${SED_PID:-}" ] && kill "$SED_PID" 2>/dev/null
  [ -n "${CTL:-}" ] && rm -rf "$CTL"
  return 0
}
