#!/usr/bin/env bash
# Prepare a machine for klpc's real-kernel tests (package e2e) on every kernel line;
# safe to run again, and the single entry point scripts/test.sh calls.
#
#   scripts/e2e-setup.sh
#
# Installs what is missing of: qemu-system-x86 (the emulator), busybox-static (the
# guest's only userland, /bin/busybox), cpio (to pack the initramfs), chromium and
# fonts-dejavu-core (the headless browser the HTML plan's test loads the page in) and the
# headers of the default kernel (livepatch and probe modules are built against them); unpacks the
# default kernel image into the git-ignored cache with scripts/fetch-kernels.sh; then
# prepares the kernel lines with scripts/fetch-lines.sh: 6.1, 6.12 (image and unpacked
# headers) and 7.2 (image, modules and a sid build chroot). KLPC_E2E_LINES (e.g.
# "6.1,6.12") limits the lines; KLPC_E2E_LINES=6.1 prepares only what the 6.1 suites need.
# A second run only checks and returns (about a second).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
abi=${KLPC_E2E_ABI:-6.1.0-56}
# shellcheck checks every emitted script; gawk and patchutils run the real
# klp-build's own patch checks; chromium renders plan.html for its test.
want=(qemu-system-x86 busybox-static cpio "linux-headers-${abi}-amd64" shellcheck gawk patchutils chromium fonts-dejavu-core)

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
lines=${KLPC_E2E_LINES:-6.1,6.12,7.2}
# shellcheck disable=SC2046
bash "$top/scripts/fetch-lines.sh" $(echo "$lines" | tr ',' ' ')
