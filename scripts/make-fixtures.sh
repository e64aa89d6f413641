#!/usr/bin/env bash
# Regenerate the small real-kernel fixtures in kernels/6.1.0-56-amd64/ from the
# unpacked Debian packages (scripts/fetch-kernels.sh 6.1.0-56 and the installed
# linux-headers-6.1.0-56-amd64). Output is byte-for-byte reproducible, so a
# second run changes nothing.
#
#   scripts/make-fixtures.sh
#
# kallsyms.gz and available_filter_functions.gz in the same folder come from a
# booted guest (scripts/capture-*.sh) and are not touched here.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cache=${KLPC_CACHE:-$top/.cache}
abi=6.1.0-56
rel=$abi-amd64
img=$cache/kernels/$rel
hdr=/usr/src/linux-headers-$rel
out=$top/kernels/$rel

[ -d "$img/lib/modules/$rel" ] || bash "$top/scripts/fetch-kernels.sh" "$abi"
[ -f "$hdr/Module.symvers" ] || { echo "make-fixtures: $hdr/Module.symvers missing; apt-get install linux-headers-$rel" >&2; exit 1; }
for tool in xz zstd gzip; do
  command -v "$tool" >/dev/null || { echo "make-fixtures: $tool is required" >&2; exit 1; }
done

mods=$img/lib/modules/$rel/kernel
mkdir -p "$out/modules"

# write FILE: replace FILE with stdin only when the bytes differ.
write() {
  local tmp
  tmp=$(mktemp "$1.XXXXXX")
  cat >"$tmp"
  if [ -f "$1" ] && cmp -s "$tmp" "$1"; then rm -f "$tmp"; else mv "$tmp" "$1"; chmod 644 "$1"; fi
}

# One module per supported storage format (see README.md for why each).
xz -9 --check=crc32 -c "$mods/drivers/virtio/virtio_pci.ko" | write "$out/modules/virtio_pci.ko.xz"
zstd -19 -q -c "$mods/drivers/media/common/ttpci-eeprom.ko" | write "$out/modules/ttpci-eeprom.ko.zst"
gzip -9 -n -c "$mods/arch/x86/crypto/sha256-ssse3.ko" | write "$out/modules/sha256-ssse3.ko.gz"
write "$out/modules/tcp_scalable.ko" <"$mods/net/ipv4/tcp_scalable.ko"

gzip -9 -n -c "$img/boot/config-$rel" | write "$out/config.gz"
gzip -9 -n -c "$hdr/Module.symvers" | write "$out/Module.symvers.gz"

echo "make-fixtures: $out is up to date"
