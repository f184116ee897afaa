#!/usr/bin/env bash
# Runs the KVM tests under real KVM in both labs (x86_64 first, then aarch64), whatever the host.
#
#   npm run test:lab [-- [--arch aarch64|x86_64] [test files...]]
#
# Files default to dist/test/*.kvm.test.js (built from test/*.kvm.test.ts; `npm run build` runs
# first when dist/ is missing). FEMTOVM_REQUIRE_KVM=1 is exported into the lab, so KVM tests fail
# there instead of skipping. The aarch64 lab starts node with the V8 flags the translator needs
# there (src/shared/v8-flags.ts). Prints one summary line per arch and, last, the total as
# "lab: N passed, N failed"; exits non-zero when any arch failed or a lab did not boot.
set -uo pipefail

LAB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$LAB_DIR/../.." && pwd)
cd "$ROOT"

ARCHES=(x86_64 aarch64)
while [ $# -gt 0 ]; do
  case $1 in
    --arch) ARCHES=("${2:?--arch needs a value}"); shift 2 ;;
    --arch=*) ARCHES=("${1#--arch=}"); shift ;;
    -h|--help) sed -n '2,/^set -uo/p' "$0" | sed -e '/^set -uo/d' -e 's/^# \{0,1\}//'; exit 0 ;;
    --) shift; break ;;
    *) break ;;
  esac
done

if [ ! -d dist ]; then
  echo "[lab] dist/ is missing: npm run build" >&2
  npm run build >&2 || { echo "[lab] ERROR: npm run build failed" >&2; echo "lab: 0 passed, 0 failed"; exit 1; }
fi
FILES=("$@")
if [ ${#FILES[@]} -eq 0 ]; then
  shopt -s nullglob
  FILES=(dist/test/*.kvm.test.js)
  shopt -u nullglob
fi
if [ ${#FILES[@]} -eq 0 ]; then
  echo "[lab] ERROR: no KVM test files (dist/test/*.kvm.test.js)" >&2
  echo "lab: 0 passed, 0 failed"; exit 1
fi

export FEMTOVM_REQUIRE_KVM=1
export LAB_ENV="${LAB_ENV:+$LAB_ENV }FEMTOVM_REQUIRE_KVM"
OUT=$(mktemp -d "${TMPDIR:-/tmp}/femtovm-test-lab.XXXXXX")
trap 'rm -rf "$OUT"' EXIT

# count <log> pass|fail: the last "ℹ pass N" / "ℹ fail N" of node's spec reporter (0 if none).
count() { sed -n "s/^.*ℹ $2 \([0-9][0-9]*\).*\$/\1/p" "$1" | tail -1 | grep . || echo 0; }

SUMMARY=() TOTAL_PASS=0 TOTAL_FAIL=0 STATUS=0
for arch in "${ARCHES[@]}"; do
  echo "[lab] ===== $arch: node --test ${FILES[*]}" >&2
  start=$SECONDS
  # The V8 flags the translator needs on arm64, from node's start (src/shared/v8-flags.ts).
  flags=(); [ "$arch" = aarch64 ] && flags=(--no-sparkplug --no-wasm-code-gc)
  bash "$LAB_DIR/lab.sh" --arch "$arch" node "${flags[@]}" --test --test-reporter=spec "${FILES[@]}" | tee "$OUT/$arch.log"
  rc=${PIPESTATUS[0]}
  pass=$(count "$OUT/$arch.log" pass) fail=$(count "$OUT/$arch.log" fail)
  TOTAL_PASS=$((TOTAL_PASS + pass)) TOTAL_FAIL=$((TOTAL_FAIL + fail))
  case $rc in
    0) note="ok" ;;
    124) note="TIMED OUT" ;;
    125) note="LAB FAILED (exit 125)" ;;
    *) note="FAILED (exit $rc)" ;;
  esac
  [ "$rc" = 0 ] || STATUS=1
  SUMMARY+=("lab $arch: $pass passed, $fail failed - $note ($((SECONDS - start))s)")
done

echo
printf '%s\n' "${SUMMARY[@]}"
echo "lab: $TOTAL_PASS passed, $TOTAL_FAIL failed"
exit "$STATUS"
