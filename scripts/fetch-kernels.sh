#!/usr/bin/env bash
# Fetch whole Debian kernel image packages into the git-ignored cache, unpacked (never installed).
#
#   scripts/fetch-kernels.sh [ABI ...]     e.g. scripts/fetch-kernels.sh 6.1.0-56 6.1.0-47
#
# Each ABI lands in .cache/kernels/<ABI>-amd64/ with the package's boot/ and lib/modules/ trees.
# A stamp file makes a second run a no-op. KLPC_CACHE overrides the cache folder.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cache=${KLPC_CACHE:-$top/.cache}
[ $# -gt 0 ] || set -- 6.1.0-56 6.1.0-47
mkdir -p "$cache/kernels/debs"
updated=0
for abi in "$@"; do
  pkg="linux-image-${abi}-amd64-unsigned"
  dest="$cache/kernels/${abi}-amd64"
  if [ -f "$dest/.complete" ]; then
    echo "fetch-kernels: $pkg already in $dest"
    continue
  fi
  if [ "$updated" = 0 ] && ! apt-cache show "$pkg" >/dev/null 2>&1; then
    apt-get update -qq
    updated=1
  fi
  (cd "$cache/kernels/debs" && ls "${pkg}"_*.deb >/dev/null 2>&1 || apt-get download -q "$pkg" 2>&1 | grep -v '^W: Download is performed unsandboxed' || true)
  deb=$(ls "$cache/kernels/debs/${pkg}"_*.deb 2>/dev/null | head -n1)
  [ -n "$deb" ] || { echo "fetch-kernels: could not download $pkg" >&2; exit 1; }
  rm -rf "$dest.tmp" && mkdir -p "$dest.tmp"
  dpkg -x "$deb" "$dest.tmp"
  rm -rf "$dest" && mv "$dest.tmp" "$dest"
  touch "$dest/.complete"
  echo "fetch-kernels: unpacked $pkg into $dest"
done
