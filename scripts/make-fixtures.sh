#!/usr/bin/env bash
# Regenerate the small real-kernel fixtures in kernels/<RELEASE>/ from the
# unpacked Debian packages. Output is byte-for-byte reproducible, so a second
# run changes nothing.
#
#   scripts/make-fixtures.sh [RELEASE ...]    default: 6.1.0-56-amd64
#
#   6.1.0-56-amd64         scripts/fetch-kernels.sh 6.1.0-56 and the installed
#                          linux-headers-6.1.0-56-amd64
#   6.12.*+deb12-amd64     scripts/fetch-lines.sh 6.12 (image and unpacked headers)
#   7.2.*+deb14-amd64      scripts/fetch-lines.sh 7.2 (image and modules, and the
#                          headers installed in the sid build chroot)
#
# kallsyms.gz and available_filter_functions.gz in the same folder come from a
# booted guest (scripts/capture-kernel-facts.sh) and are not touched here.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cache=${KLPC_CACHE:-$top/.cache}
[ $# -gt 0 ] || set -- 6.1.0-56-amd64

die() { echo "make-fixtures: $*" >&2; exit 1; }
for tool in xz zstd gzip; do
  command -v "$tool" >/dev/null || die "$tool is required"
done

# write FILE: replace FILE with stdin only when the bytes differ.
write() {
  local tmp
  tmp=$(mktemp "$1.XXXXXX")
  cat >"$tmp"
  if [ -f "$1" ] && cmp -s "$tmp" "$1"; then rm -f "$tmp"; else mv "$tmp" "$1"; chmod 644 "$1"; fi
}

# headers REL: the folder holding REL's headers (.config, Module.symvers).
headers() {
  local d
  for d in "/usr/src/linux-headers-$1" "$cache/headers/$1/usr/src/linux-headers-$1" \
    "$cache/chroot/$1/usr/src/linux-headers-$1"; do
    [ -f "$d/Module.symvers" ] && { echo "$d"; return 0; }
  done
  return 1
}

for rel in "$@"; do
  img=$cache/kernels/$rel
  out=$top/kernels/$rel
  if [ ! -d "$img/lib/modules/$rel" ]; then
    case $rel in
    6.1.*) bash "$top/scripts/fetch-kernels.sh" "${rel%-amd64}" ;;
    *) die "$img missing: run scripts/fetch-lines.sh for its line" ;;
    esac
  fi
  hdr=$(headers "$rel") || die "no headers with Module.symvers for $rel (apt-get install linux-headers-$rel, or scripts/fetch-lines.sh)"
  mods=$img/lib/modules/$rel/kernel
  mkdir -p "$out/modules"
  case $rel in
  6.1.*)
    # One module per supported storage format (see README.md for why each).
    xz -9 --check=crc32 -c "$mods/drivers/virtio/virtio_pci.ko" | write "$out/modules/virtio_pci.ko.xz"
    zstd -19 -q -c "$mods/drivers/media/common/ttpci-eeprom.ko" | write "$out/modules/ttpci-eeprom.ko.zst"
    gzip -9 -n -c "$mods/arch/x86/crypto/sha256-ssse3.ko" | write "$out/modules/sha256-ssse3.ko.gz"
    write "$out/modules/tcp_scalable.ko" <"$mods/net/ipv4/tcp_scalable.ko"
    ;;
  *)
    # 6.12 and 7.x ship their modules xz-compressed: copied as shipped.
    for m in net/ipv4/tcp_scalable.ko.xz drivers/media/common/ttpci-eeprom.ko.xz \
      drivers/virtio/virtio_balloon.ko.xz; do
      [ -f "$mods/$m" ] || die "$rel has no module $m"
      write "$out/modules/${m##*/}" <"$mods/$m"
    done
    ;;
  esac
  # The build's .config: the image's boot/config-REL, or (7.x, whose image package has
  # none) the identical .config of its headers.
  config=$img/boot/config-$rel
  [ -f "$config" ] || config=$hdr/.config
  gzip -9 -n -c "$config" | write "$out/config.gz"
  gzip -9 -n -c "$hdr/Module.symvers" | write "$out/Module.symvers.gz"
  echo "make-fixtures: $out is up to date"
done
