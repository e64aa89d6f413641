#!/usr/bin/env bash
# Prepare a machine for klpc's real-kernel tests (package e2e); safe to run again.
#
#   scripts/e2e-setup.sh
#
# Installs what is missing of: qemu-system-x86 (the emulator), busybox-static (the
# guest's only userland, /bin/busybox), cpio (to pack the initramfs) and the headers of
# the target kernel (livepatch and probe modules are built against them); then unpacks
# the target kernel image into the git-ignored cache with scripts/fetch-kernels.sh.
# A second run only checks and returns.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
abi=${KLPC_E2E_ABI:-6.1.0-56}
want=(qemu-system-x86 busybox-static cpio "linux-headers-${abi}-amd64")

installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'; }

missing=()
for pkg in "${want[@]}"; do
  installed "$pkg" || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  sudo=
  [ "$(id -u)" = 0 ] || sudo=sudo
  echo "e2e-setup: installing ${missing[*]}"
  # Refresh the package lists only when one of the packages is unknown to them.
  for pkg in "${missing[@]}"; do
    if ! apt-cache show "$pkg" >/dev/null 2>&1; then
      $sudo apt-get update -qq
      break
    fi
  done
  install() { DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"; }
  # Stale lists may name files the mirror no longer has: refresh once and retry.
  install || { $sudo apt-get update -qq && install; }
else
  echo "e2e-setup: ${want[*]} already installed"
fi

bash "$top/scripts/fetch-kernels.sh" "$abi"
