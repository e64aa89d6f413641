#!/usr/bin/env bash
# Boot the real Debian kernel under qemu and capture, as root inside the guest,
# the kernel's own symbol table and the list of functions ftrace can trace:
#
#   scripts/capture-kernel-facts.sh [ABI|RELEASE]   e.g. 6.1.0-56 (the default), 6.12.117+deb12-amd64
#
# Writes kernels/<RELEASE>/kallsyms.gz and kernels/<RELEASE>/available_filter_functions.gz,
# compressed with `gzip -9n` so that the same kernel always yields byte-identical files.
#
# The guest boots with nokaslr, so /proc/kallsyms shows the link-time addresses and
# repeated captures agree. No module is loaded in the guest, so both lists describe
# vmlinux alone. Each list leaves the guest on a serial port of its own (ttyS1, ttyS2),
# never mixed with kernel messages; the guest announces the line count and SHA-256 of
# what it sent on the console, and the host checks both before writing anything.
#
# Needs what scripts/e2e-setup.sh installs (qemu-system-x86, busybox-static, cpio) and the
# kernel image unpacked by scripts/fetch-kernels.sh.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cache=${KLPC_CACHE:-$top/.cache}
abi=${1:-6.1.0-56}
case $abi in
*-amd64) kver=$abi ;;
*) kver="${abi}-amd64" ;;
esac
vmlinuz="$cache/kernels/$kver/boot/vmlinuz-$kver"
busybox=${KLPC_BUSYBOX:-/bin/busybox}
out="$top/kernels/$kver"

[ -f "$vmlinuz" ] || [ "$kver" != "${abi}-amd64" ] || bash "$top/scripts/fetch-kernels.sh" "$abi"
[ -f "$vmlinuz" ] || { echo "capture-kernel-facts: no kernel image at $vmlinuz (scripts/fetch-lines.sh fetches 6.12 and 7.2)" >&2; exit 1; }
command -v qemu-system-x86_64 >/dev/null || { echo "capture-kernel-facts: qemu-system-x86_64 missing; run scripts/e2e-setup.sh" >&2; exit 1; }
[ -x "$busybox" ] || { echo "capture-kernel-facts: $busybox missing; run scripts/e2e-setup.sh" >&2; exit 1; }

work="$cache/capture/$kver"
rm -rf "$work" && mkdir -p "$work/root/bin"
cp "$busybox" "$work/root/bin/busybox"
cat > "$work/root/init" <<'INIT'
#!/bin/busybox sh
/bin/busybox --install -s /bin
mkdir -p /proc /sys /dev /tmp
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mount -t tracefs tracefs /sys/kernel/tracing 2>/dev/null
# Root sees real addresses only when kptr_restrict allows it.
echo 0 > /proc/sys/kernel/kptr_restrict
cat /proc/kallsyms > /tmp/kallsyms
cat /sys/kernel/tracing/available_filter_functions > /tmp/aff
send() { # send FILE TTY NAME
  stty -F "$2" raw -echo
  cat "$1" > "$2"
  echo "@@CAPTURE $3 lines=$(wc -l < "$1") sha256=$(sha256sum "$1" | cut -d' ' -f1)"
}
send /tmp/kallsyms /dev/ttyS1 kallsyms
send /tmp/aff /dev/ttyS2 available_filter_functions
sync
echo "@@CAPTURE done"
poweroff -f
INIT
chmod +x "$work/root/init"
(cd "$work/root" && find . | LC_ALL=C sort | cpio -o -H newc --quiet) | gzip -1 > "$work/initrd.gz"

# Single-threaded TCG, and a second and third boot when one does not finish:
# multi-threaded TCG occasionally oopsed 6.12 and 7.2 guests at boot.
for try in 1 2 3; do
  echo "capture-kernel-facts: booting $kver under qemu (try $try)"
  rm -f "$work/console.log" "$work/kallsyms" "$work/aff"
  timeout 600 qemu-system-x86_64 -accel tcg,thread=single -m 1024 -smp 2 -display none -no-reboot -monitor none \
    -serial "file:$work/console.log" -serial "file:$work/kallsyms" -serial "file:$work/aff" \
    -kernel "$vmlinuz" -initrd "$work/initrd.gz" \
    -append "console=ttyS0 panic=-1 quiet nokaslr" </dev/null || true
  grep -q '^@@CAPTURE done' "$work/console.log" && break
done

grep -q '^@@CAPTURE done' "$work/console.log" || { echo "capture-kernel-facts: guest did not finish; see $work/console.log" >&2; exit 1; }
check() { # check FILE NAME
  local want lines sum
  want=$(grep -a "^@@CAPTURE $2 " "$work/console.log" | tr -d '\r')
  lines=$(wc -l < "$1")
  sum=$(sha256sum "$1" | cut -d' ' -f1)
  if [ "$want" != "@@CAPTURE $2 lines=$lines sha256=$sum" ]; then
    echo "capture-kernel-facts: $2 damaged in transfer: guest said '$want', host got lines=$lines sha256=$sum" >&2
    exit 1
  fi
  echo "capture-kernel-facts: $2: $lines lines"
}
check "$work/kallsyms" kallsyms
check "$work/aff" available_filter_functions
# Real addresses, not the zeros a restricted reader sees.
if ! grep -q -v '^0000000000000000 ' "$work/kallsyms"; then
  echo "capture-kernel-facts: kallsyms has no real addresses" >&2; exit 1
fi
mkdir -p "$out"
gzip -9n < "$work/kallsyms" > "$out/kallsyms.gz"
gzip -9n < "$work/aff" > "$out/available_filter_functions.gz"
echo "capture-kernel-facts: wrote $out/kallsyms.gz and $out/available_filter_functions.gz"
