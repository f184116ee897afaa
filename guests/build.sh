#!/usr/bin/env bash
# Builds the guests with GNU binutils: guests/<arch>/<name>.S -> <name>.bin (flat binary of .text)
# and <name>.elf.S -> <name>.elf (static ELF, stripped); and the C guests of the SDK with gcc:
# guests/sdk/examples/<name>.c -> guests/sdk/<arch>/<name>.bin (flat, linked by guests/sdk/<arch>/link.ld
# with the runtime femto.c and start.S). The output is byte-reproducible.
#   bash guests/build.sh           rebuild and write the files next to their sources
#   bash guests/build.sh --check   rebuild into a temp dir and compare with the committed files;
#                                  names each file that differs and exits 1 if any does
# Needs: as, ld, objcopy (Debian `binutils`) and aarch64-linux-gnu-as/ld/objcopy (Debian
# `binutils-aarch64-linux-gnu`); gcc and aarch64-linux-gnu-gcc (Debian `gcc`, `gcc-aarch64-linux-gnu`).
set -euo pipefail
export LC_ALL=C

check=0
case "${1:-}" in
  '') ;;
  --check) check=1 ;;
  *) echo "usage: $0 [--check]" >&2; exit 2 ;;
esac

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

need() {
  command -v "$1" >/dev/null || { echo "build.sh: $1 not found (install the Debian package $2)" >&2; exit 2; }
}
need as binutils; need ld binutils; need objcopy binutils
need aarch64-linux-gnu-as binutils-aarch64-linux-gnu
need aarch64-linux-gnu-ld binutils-aarch64-linux-gnu
need aarch64-linux-gnu-objcopy binutils-aarch64-linux-gnu
need gcc gcc; need aarch64-linux-gnu-gcc gcc-aarch64-linux-gnu

# Per arch: assembler, linker, objcopy, ELF link address (the platform's load address).
tools() {
  case "$1" in
    aarch64) AS="aarch64-linux-gnu-as"
             LD=aarch64-linux-gnu-ld; OBJCOPY=aarch64-linux-gnu-objcopy; BASE=0x10000 ;;
    x86_64)  AS="as --64 -mx86-used-note=no"
             LD=ld; OBJCOPY=objcopy; BASE=0x1000 ;;
  esac
}

outputs=()
for arch in aarch64 x86_64; do
  tools "$arch"
  mkdir -p "$tmp/$arch"
  for src in "$here/$arch"/*.S; do
    file=${src##*/}
    case "$file" in
      *.elf.S) out=${file%.S} ;;   # hello.elf.S -> hello.elf
      *)       out=${file%.S}.bin ;;
    esac
    obj="$tmp/$arch/${file%.S}.o"
    $AS -o "$obj" "$src"
    if [[ $out == *.elf ]]; then
      # -n: no page alignment, so one small PT_LOAD at BASE (plus PT_GNU_STACK from noexecstack)
      $LD -n -s --build-id=none -z noexecstack -Ttext="$BASE" -e _start -o "$tmp/$arch/$out" "$obj"
    else
      $OBJCOPY -O binary -j .text "$obj" "$tmp/$arch/$out"
    fi
    rm -f "$obj"
    outputs+=("$arch/$out")
  done
done

# The SDK's C guests. Plain -O2 code (FP/SIMD registers, unaligned accesses: no -mgeneral-regs-only or
# -mstrict-align); -ffp-contract=off so that both arches round the same (no fused multiply-add
# contraction), for equal output everywhere. femto.c's own loops must not become calls to themselves.
sdk=$here/sdk
cflags=(-O2 -std=c11 -ffreestanding -fbuiltin -nostdlib -static -fno-pie -no-pie -fno-stack-protector
        -fno-asynchronous-unwind-tables -fno-unwind-tables -ffp-contract=off -fno-math-errno -Wall -Wextra -Werror
        -I"$sdk" -Wl,--build-id=none -Wl,-n -Wl,--no-warn-rwx-segments)
for arch in aarch64 x86_64; do
  case "$arch" in
    aarch64) CC=aarch64-linux-gnu-gcc; OBJCOPY=aarch64-linux-gnu-objcopy; archflags=() ;;
    x86_64)  CC=gcc; OBJCOPY=objcopy; archflags=(-mno-red-zone -Wa,--noexecstack -Wa,-mx86-used-note=no) ;;
  esac
  mkdir -p "$tmp/sdk/$arch"
  $CC "${cflags[@]}" "${archflags[@]}" -DFEMTO_ARCH="\"$arch\"" -fno-tree-loop-distribute-patterns -c "$sdk/femto.c" -o "$tmp/sdk/$arch/femto.o"
  for src in "$sdk"/examples/*.c; do
    name=${src##*/}; name=${name%.c}
    $CC "${cflags[@]}" "${archflags[@]}" -DFEMTO_ARCH="\"$arch\"" -T "$sdk/$arch/link.ld" \
      "$sdk/$arch/start.S" "$tmp/sdk/$arch/femto.o" "$src" -lgcc -o "$tmp/sdk/$arch/$name.elf"
    $OBJCOPY -O binary "$tmp/sdk/$arch/$name.elf" "$tmp/sdk/$arch/$name.bin"
    outputs+=("sdk/$arch/$name.bin")
  done
done
# The cpu bench's compiled-C kernels (aarch64; bench/cpu.ts runs them on the wasm CPU and qemu-aarch64): no
# libc there, so loops stay loops; -mcmodel=tiny addresses data with ADR, exact wherever the bytes are
# placed (ADRP would need the same offset within a 4 KiB page).
mkdir -p "$tmp/sdk/bench"
for src in "$sdk"/bench/*.c; do
  name=${src##*/}; name=${name%.c}
  aarch64-linux-gnu-gcc "${cflags[@]}" -fno-tree-loop-distribute-patterns -mcmodel=tiny -T "$sdk/bench/link.ld" "$sdk/bench/start.S" "$src" -lgcc -o "$tmp/sdk/bench/$name.elf"
  aarch64-linux-gnu-objcopy -O binary "$tmp/sdk/bench/$name.elf" "$tmp/sdk/bench/$name.bin"
  outputs+=("sdk/bench/$name.bin")
done

if [ "$check" = 0 ]; then
  for f in "${outputs[@]}"; do cp "$tmp/$f" "$here/$f"; done
  echo "built ${#outputs[@]} guests in $here"
  exit 0
fi

bad=0
for f in "${outputs[@]}"; do
  if [ ! -e "$here/$f" ]; then echo "missing: guests/$f" >&2; bad=1
  elif ! cmp -s "$tmp/$f" "$here/$f"; then echo "differs: guests/$f" >&2; bad=1
  fi
done
# Built files with no source left behind
for f in "$here"/aarch64/*.bin "$here"/aarch64/*.elf "$here"/x86_64/*.bin "$here"/x86_64/*.elf "$here"/sdk/*/*.bin; do
  [ -e "$f" ] || continue
  rel=${f#"$here"/}
  [ -e "$tmp/$rel" ] || { echo "no source for: guests/$rel" >&2; bad=1; }
done
if [ "$bad" = 0 ]; then echo "guests up to date (${#outputs[@]} files)"; fi
exit "$bad"
