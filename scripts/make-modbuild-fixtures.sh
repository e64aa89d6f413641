#!/usr/bin/env bash
# Build the two real builds of the probe module (e2e/probe) that
# examples/module-builds names, for Debian's 6.1.0-56-amd64, with the
# installed linux-headers-6.1.0-56-amd64 and the host's gcc-12:
#
#   builds/1.0/klpc_probe.ko     e2e/probe/klpc_probe.c as it is
#   builds/fixed/klpc_probe.ko   the same with e2e/testdata/modbuilds/fixed/
#                                klpc_probe_b.c appended: a new static
#                                function, klpc_probe_b()
#
# Debug information is stripped (strip --strip-debug keeps the symbol table
# klpc reads), so that each file stays small. A rebuild with the same
# compiler and headers gives the same bytes; the file is replaced only when
# they differ.
#
#   scripts/make-modbuild-fixtures.sh
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
rel=6.1.0-56-amd64
hdr=/usr/src/linux-headers-$rel
out=$top/examples/module-builds/builds
die() { echo "make-modbuild-fixtures: $*" >&2; exit 1; }
[ -f "$hdr/Module.symvers" ] || die "no headers in $hdr (apt-get install linux-headers-$rel)"
command -v strip >/dev/null || die "strip (binutils) is required"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# build NAME EXTRA: build the probe with EXTRA (a file, or empty) appended.
build() {
  local d=$work/$1
  mkdir -p "$d" "$out/$1"
  cp "$top/e2e/probe/Kbuild" "$d/Kbuild"
  cp "$top/e2e/probe/klpc_probe.c" "$d/klpc_probe.c"
  if [ -n "$2" ]; then printf '\n' >>"$d/klpc_probe.c"; cat "$2" >>"$d/klpc_probe.c"; fi
  # The build folder is a temporary one: map it away from the debug
  # information, which the build id covers, so that the bytes do not depend on it.
  make -s -C "$hdr" M="$d" KCFLAGS="-ffile-prefix-map=$d=klpc_probe" modules >"$d/build.log" 2>&1 || { cat "$d/build.log" >&2; die "building $1 failed"; }
  strip --strip-debug -o "$d/stripped.ko" "$d/klpc_probe.ko"
  if [ -f "$out/$1/klpc_probe.ko" ] && cmp -s "$d/stripped.ko" "$out/$1/klpc_probe.ko"; then
    return 0
  fi
  mv "$d/stripped.ko" "$out/$1/klpc_probe.ko"
  chmod 644 "$out/$1/klpc_probe.ko"
}

build 1.0 ""
build fixed "$top/e2e/testdata/modbuilds/fixed/klpc_probe_b.c"
ls -l "$out"/*/klpc_probe.ko
