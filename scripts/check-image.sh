#!/usr/bin/env bash
# Check the kernel image and Debian package readers (target/image,
# target/deb) on the real kernels scripts/fetch-kernels.sh put in .cache,
# then print, per cached kernel image, the time and peak memory of
# `klpc index --no-cache IMAGE` (decompression and kallsyms decoding).
#
#   bash scripts/check-image.sh
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
export PATH="$PATH:/usr/local/go/bin"
export KLPC_INTEGRATION=1
go test -count=1 ./target -run 'TestVmlinuz' -v 2>&1 | grep -E '^(---|ok|FAIL|panic)|vmlinuz_test' || true
go test -count=1 ./target/deb -run TestDebianPackages 2>&1 | tail -1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
go build -o "$tmp/klpc" ./cmd/klpc
for img in .cache/kernels/*/boot/vmlinuz-*; do
  [ -e "$img" ] || continue
  /usr/bin/time -f "  %e s wall, %U s user, %M KB peak RSS" "$tmp/klpc" index --no-cache "$img" 2>&1 |
    grep -E '^\S|vmlinux:|traceable:|wall'
done
