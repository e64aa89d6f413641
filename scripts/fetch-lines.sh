#!/usr/bin/env bash
# Fetch the kernels of the three lines klpc is checked on into the git-ignored cache;
# safe to run again (a finished item is a no-op) and to run twice at once (per-item locks,
# every item is built under a temporary name and renamed into place).
#
#   scripts/fetch-lines.sh [LINE ...]      LINE: 6.1, 6.12 or 7.2 (default: all three)
#
# For each line, with REL its `uname -r`:
#   .cache/kernels/REL/             the image package (and, for 7.x, the modules package),
#                                   unpacked with dpkg -x, never installed; boot/vmlinuz-REL
#                                   and lib/modules/REL/ exist on every line
#   .cache/headers/REL/             6.12: linux-headers-REL + -common + linux-kbuild, unpacked
#                                   with dpkg -x; usr/src/linux-headers-REL builds modules with
#                                   the host's gcc-12 (6.1 uses the installed headers package)
#   .cache/chroot/REL/              7.x: a debootstrap'ed Debian sid with make and
#                                   linux-headers-REL installed (gcc-16, glibc >= 2.38), where
#                                   modules for 7.x are built
#   .cache/kernels/line-LINE        one line: REL, the release this line resolved to
#
# 6.1 is linux-image-6.1.0-56-amd64-unsigned (KLPC_LINE_6_1 overrides the ABI); 6.12 is the
# newest linux-image-6.12.*+deb12-amd64-unsigned the machine's own apt sources (bookworm-security)
# serve; 7.2 is the newest linux-binary-7.2.*-amd64 of Debian sid, reached through a private apt
# configuration under .cache/apt-sid (the machine's apt sources are never changed).
# Installs debootstrap, pahole, xz-utils and zstd when missing. KLPC_CACHE overrides the cache folder.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cache=${KLPC_CACHE:-$top/.cache}
[ $# -gt 0 ] || set -- 6.1 6.12 7.2
mkdir -p "$cache/kernels/debs" "$cache/headers" "$cache/chroot" "$cache/locks"

say() { echo "fetch-lines: $*"; }
die() { echo "fetch-lines: $*" >&2; exit 1; }
sudo=
[ "$(id -u)" = 0 ] || sudo=sudo

installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'; }
host_updated=0
host_update() {
  [ "$host_updated" = 1 ] && return 0
  $sudo apt-get update -qq || die "apt-get update failed"
  host_updated=1
}
# need PKG...: install host packages that are missing.
need() {
  local missing=() p
  for p in "$@"; do installed "$p" || missing+=("$p"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  say "installing ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive $sudo apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "${missing[@]}" >/dev/null ||
    { host_update && DEBIAN_FRONTEND=noninteractive $sudo apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "${missing[@]}" >/dev/null; } ||
    die "could not install ${missing[*]}"
}

# locked NAME CMD...: run CMD holding the lock NAME, so two runs never build one item at once.
locked() {
  local name=$1; shift
  ( flock 9; "$@" ) 9>"$cache/locks/$name.lock"
}

# publish TMP DEST: move a finished item into place (a concurrent run may have won).
publish() {
  touch "$1/.complete"
  if [ -e "$2" ]; then rm -rf "$2.old.$$" && mv "$2" "$2.old.$$" && rm -rf "$2.old.$$"; fi
  mv "$1" "$2"
}

# ---- apt: the host's sources, and a private configuration for sid ----

# Versions are found by package name (apt-cache pkgnames PREFIX, a fast prefix lookup);
# the newest wins (sort -V).
newest() { # newest APTCACHE-COMMAND PREFIX REGEX
  "$1" pkgnames "$2" 2>/dev/null | grep -E "$3" | sort -V | tail -n1 || true
}

sid=$cache/apt-sid
sid_apt() { apt-get -o Dir::Etc::sourcelist="$sid/sources.list" -o Dir::Etc::sourceparts=- \
  -o Dir::State::Lists="$sid/lists" -o Dir::Cache="$sid/cache" -o Dir::State::status="$sid/status" \
  -o Acquire::Check-Valid-Until=false -o Debug::NoLocking=1 "$@"; }
sid_cache() { apt-cache -o Dir::Etc::sourcelist="$sid/sources.list" -o Dir::Etc::sourceparts=- \
  -o Dir::State::Lists="$sid/lists" -o Dir::Cache="$sid/cache" -o Dir::State::status="$sid/status" "$@"; }
# The Debian mirror the machine's own apt sources use, with suite sid.
host_mirror() {
  local m
  m=$(grep -hs '^URIs:' /etc/apt/sources.list.d/*.sources | awk '{print $2}' | grep -v -- '-security' | head -n1)
  [ -n "$m" ] || m=$(grep -hs '^deb ' /etc/apt/sources.list | awk '{print $2}' | grep -v -- '-security' | head -n1)
  [ -n "$m" ] || { echo "fetch-lines: no Debian mirror in the machine's apt sources" >&2; return 1; }
  echo "$m"
}
sid_update_do() {
  if [ -f "$sid/.updated" ] && [ -z "$(find "$sid/.updated" -mmin +720)" ]; then return 0; fi
  mkdir -p "$sid/lists/partial" "$sid/cache/archives/partial"
  : >"$sid/status"
  echo "deb [trusted=yes] $(host_mirror) sid main" >"$sid/sources.list"
  say "updating the private sid package lists in $sid"
  sid_apt -qq update || die "apt-get update of sid failed (mirror $(host_mirror))"
  touch "$sid/.updated"
}
sid_update() { locked apt-sid sid_update_do; }

# download WHICH PKG: the .deb of PKG in .cache/kernels/debs (WHICH: host or sid).
download_do() {
  local which=$1 pkg=$2 deb tmp
  deb=$(ls "$cache/kernels/debs/${pkg}"_*.deb 2>/dev/null | head -n1 || true)
  [ -n "$deb" ] && return 0
  tmp=$(mktemp -d "$cache/kernels/debs/.dl.XXXXXX")
  say "downloading $pkg"
  if [ "$which" = sid ]; then
    (cd "$tmp" && sid_apt -q download "$pkg" 2>&1 | grep -v 'unsandboxed' || true)
  else
    (cd "$tmp" && apt-get -q download "$pkg" 2>&1 | grep -v 'unsandboxed' || true)
  fi
  deb=$(ls "$tmp/${pkg}"_*.deb 2>/dev/null | head -n1 || true)
  [ -n "$deb" ] || { rm -rf "$tmp"; die "could not download $pkg"; }
  mv "$deb" "$cache/kernels/debs/"
  rm -rf "$tmp"
}
download() { locked "deb-$2" download_do "$@"; }
debfile() { ls "$cache/kernels/debs/${1}"_*.deb | head -n1; }

# ---- items ----

# image REL WHICH PKG...: unpack the image packages of REL into .cache/kernels/REL.
image_do() {
  local rel=$1 which=$2 dest tmp p; shift 2
  dest=$cache/kernels/$rel
  [ -f "$dest/.complete" ] && { say "kernel $rel already in $dest"; return 0; }
  for p in "$@"; do download "$which" "$p"; done
  tmp=$(mktemp -d "$cache/kernels/.$rel.XXXXXX")
  for p in "$@"; do dpkg -x "$(debfile "$p")" "$tmp"; done
  # Merged-/usr packages (7.x) keep everything under usr/lib/modules/REL; give every
  # line the same boot/vmlinuz-REL, boot/config-REL and lib/modules/REL.
  if [ ! -e "$tmp/lib/modules/$rel" ] && [ -d "$tmp/usr/lib/modules/$rel" ]; then
    mkdir -p "$tmp/lib/modules"
    ln -s "../../usr/lib/modules/$rel" "$tmp/lib/modules/$rel"
  fi
  mkdir -p "$tmp/boot"
  for f in vmlinuz config System.map; do
    if [ ! -e "$tmp/boot/$f-$rel" ] && [ -f "$tmp/usr/lib/modules/$rel/$f" ]; then
      ln -s "../usr/lib/modules/$rel/$f" "$tmp/boot/$f-$rel"
    fi
  done
  [ -f "$tmp/boot/vmlinuz-$rel" ] || { rm -rf "$tmp"; die "no kernel image boot/vmlinuz-$rel in $*"; }
  [ -d "$tmp/lib/modules/$rel/kernel" ] || { rm -rf "$tmp"; die "no modules lib/modules/$rel/kernel in $*"; }
  publish "$tmp" "$dest"
  say "unpacked $* into $dest"
}
image() { locked "kernel-$1" image_do "$@"; }

# headers REL KBUILD: unpack linux-headers-REL, its -common and linux-kbuild into .cache/headers/REL.
headers_do() {
  local rel=$1 kbuild=$2 dest tmp common p
  dest=$cache/headers/$rel
  [ -f "$dest/.complete" ] && { say "headers $rel already in $dest"; return 0; }
  common="linux-headers-${rel%-amd64}-common"
  for p in "linux-headers-$rel" "$common" "$kbuild"; do download host "$p"; done
  tmp=$(mktemp -d "$cache/headers/.$rel.XXXXXX")
  for p in "linux-headers-$rel" "$common" "$kbuild"; do dpkg -x "$(debfile "$p")" "$tmp"; done
  # Debian's per-flavour Makefile includes the -common one by its installed, absolute
  # path; make it relative to the Makefile itself, so the unpacked copy works wherever
  # the cache is (the scripts and tools links are relative already).
  local mk="$tmp/usr/src/linux-headers-$rel/Makefile"
  [ -f "$mk" ] || { rm -rf "$tmp"; die "linux-headers-$rel has no Makefile"; }
  grep -qx "include /usr/src/$common/Makefile" "$mk" || { rm -rf "$tmp"; die "unexpected linux-headers-$rel Makefile: $(head -n3 "$mk")"; }
  echo "include \$(dir \$(lastword \$(MAKEFILE_LIST)))../$common/Makefile" >"$mk"
  [ -e "$tmp/usr/src/linux-headers-$rel/scripts/Makefile.build" ] || { rm -rf "$tmp"; die "$kbuild did not provide scripts/ for $rel"; }
  publish "$tmp" "$dest"
  say "unpacked linux-headers-$rel, $common and $kbuild into $dest"
}
headers() { locked "headers-$1" headers_do "$@"; }

# chroot REL: a sid chroot with make and linux-headers-REL, for building 7.x modules.
chroot_do() {
  local rel=$1 dest tmp
  dest=$cache/chroot/$rel
  [ -f "$dest/.complete" ] && { say "chroot for $rel already in $dest"; return 0; }
  need debootstrap
  tmp=$(mktemp -d "$cache/chroot/.$rel.XXXXXX")
  say "debootstrap sid into $tmp (about a minute)"
  debootstrap --variant=minbase sid "$tmp" "$(host_mirror)" >"$tmp.log" 2>&1 ||
    { tail -n 20 "$tmp.log" >&2; rm -rf "$tmp"; die "debootstrap sid failed (log above)"; }
  say "installing make and linux-headers-$rel in the chroot"
  unshare -m --propagation private chroot "$tmp" /bin/sh -c "mount -t proc proc /proc &&
    apt-get -q -o Acquire::Check-Valid-Until=false update &&
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends make linux-headers-$rel &&
    apt-get clean" >>"$tmp.log" 2>&1 ||
    { tail -n 20 "$tmp.log" >&2; rm -rf "$tmp"; die "installing linux-headers-$rel in the sid chroot failed (log above)"; }
  [ -f "$tmp/usr/src/linux-headers-$rel/Makefile" ] || { rm -rf "$tmp"; die "chroot has no /usr/src/linux-headers-$rel"; }
  mv "$tmp.log" "$tmp/.debootstrap.log"
  mkdir -p "$tmp/build"
  publish "$tmp" "$dest"
  say "chroot for $rel ready in $dest ($(du -sh "$dest" | cut -f1))"
}
chroot_() { locked "chroot-$1" chroot_do "$@"; }

record_line() { # record_line LINE REL
  local f="$cache/kernels/line-$1"
  [ -f "$f" ] && [ "$(cat "$f")" = "$2" ] && return 0
  echo "$2" >"$f.tmp.$$" && mv "$f.tmp.$$" "$f"
}

need xz-utils zstd
for line in "$@"; do
  case $line in
  6.1)
    abi=${KLPC_LINE_6_1:-6.1.0-56}
    rel=$abi-amd64
    image "$rel" host "linux-image-$rel-unsigned"
    # 6.1's headers are installed on the host by scripts/e2e-setup.sh.
    need "linux-headers-$rel"
    ;;
  6.12)
    re='^linux-image-6\.12\.[0-9]+\+deb12-amd64-unsigned$'
    img=$(newest apt-cache linux-image-6.12. "$re")
    [ -n "$img" ] || { host_update; img=$(newest apt-cache linux-image-6.12. "$re"); }
    [ -n "$img" ] || die "the machine's apt sources serve no linux-image-6.12.*+deb12-amd64-unsigned (bookworm-security)"
    rel=${img#linux-image-}; rel=${rel%-unsigned}
    ver=${rel%-amd64}          # 6.12.117+deb12
    image "$rel" host "$img"
    headers "$rel" "linux-kbuild-$ver"
    # What linux-kbuild-6.12 depends on: pahole writes the modules' BTF against the
    # headers' BTF-only vmlinux (CONFIG_DEBUG_INFO_BTF_MODULES).
    need gcc-12 make pahole libelf1 libssl3
    ;;
  7.2)
    sid_update
    re='^linux-binary-7\.2\.[0-9]+\+deb[0-9]+-amd64$'
    bin=$(newest sid_cache linux-binary-7.2. "$re")
    [ -n "$bin" ] || die "Debian sid serves no linux-binary-7.2.*-amd64"
    rel=${bin#linux-binary-}
    image "$rel" sid "$bin" "linux-modules-$rel"
    chroot_ "$rel"
    ;;
  *) die "unknown line $line (want 6.1, 6.12 or 7.2)" ;;
  esac
  record_line "$line" "$rel"
  say "line $line is $rel"
done
