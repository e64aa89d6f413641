#!/usr/bin/env bash
# Fetch a real fleet: every Debian 6.1.0-* and 6.12.* amd64 kernel image
# package the machine's apt serves (the generic flavour; FLAVOURS="amd64
# cloud-amd64 rt-amd64" adds the others), or the newest N of them, unpacked
# into the git-ignored cache by scripts/fetch-kernels.sh (images only: no
# headers, no debug symbols). Prints the unpacked roots, one a line.
#
#   scripts/fetch-fleet.sh [N]
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cache=${KLPC_CACHE:-$top/.cache}
flavours=${FLAVOURS:-amd64}
if ! apt-cache show linux-image-6.1.0-56-amd64-unsigned >/dev/null 2>&1; then
  apt-get update -qq
fi
abis=()
for fl in $flavours; do
  while read -r pkg; do
    abi=${pkg#linux-image-}
    abi=${abi%-"$fl"-unsigned}
    abis+=("$abi${fl#amd64}")
  done < <(apt-cache search --names-only "^linux-image-(6\.1\.0-[0-9]+|6\.12\.[0-9]+\+deb[0-9]+)-$fl-unsigned\$" | awk '{ print $1 }')
done
mapfile -t abis < <(printf '%s\n' "${abis[@]}" | sort -V -u)
if [ $# -gt 0 ]; then
  mapfile -t abis < <(printf '%s\n' "${abis[@]}" | tail -n "$1")
fi
[ ${#abis[@]} -gt 0 ] || { echo "fetch-fleet: apt serves no 6.1 or 6.12 amd64 image" >&2; exit 1; }
for abi in "${abis[@]}"; do
  case $abi in
  *cloud | *rt) fl=${abi##*[0-9]}; base=${abi%"$fl"}; bash "$top/scripts/fetch-kernels.sh" "$base-$fl" >&2 ;;
  *) bash "$top/scripts/fetch-kernels.sh" "$abi" >&2 ;;
  esac
done
for abi in "${abis[@]}"; do
  case $abi in
  *cloud | *rt) fl=${abi##*[0-9]}; echo "$cache/kernels/${abi%"$fl"}-$fl-amd64" ;;
  *) echo "$cache/kernels/$abi-amd64" ;;
  esac
done
