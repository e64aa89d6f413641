#!/usr/bin/env bash
# A real fleet, end to end: fetch every Debian 6.1 and 6.12 amd64 image apt
# serves (or the newest N; scripts/fetch-fleet.sh), index them from the
# unpacked packages alone (kernel image, modules, config), then plan the
# releases of examples/fleet against every build; each cold (an empty index
# cache) and warm.
#
#   scripts/bench-fleet.sh [N]
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
export PATH="$PATH:/usr/local/go/bin"
if [ ! -x /usr/bin/time ]; then
  apt-get update -qq && apt-get install -y -qq time >/dev/null
fi
mapfile -t roots < <(bash "$top/scripts/fetch-fleet.sh" "$@")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$top" && go build -o "$work/klpc" ./cmd/klpc)
export KLPC_CACHE_DIR=$work/index

# The releases of examples/fleet, for every build.
mkdir -p "$work/fleet"
cp -r "$top/examples/fleet/src" "$work/fleet/"
{
  names=()
  for r in "${roots[@]}"; do
    rel=$(basename "$r")
    name=k-$(printf '%s' "$rel" | tr -c 'A-Za-z0-9_-' '-')
    names+=("kernel.$name")
    printf 'kernel "%s" {\n  release = "%s"\n  arch    = "x86_64"\n  vmlinuz = "%s"\n  modules = "%s"\n  config  = "%s"\n}\n\n' \
      "$name" "$rel" "$r/boot/vmlinuz-$rel" "$r/lib/modules/$rel" "$r/boot/config-$rel"
  done
  sed -n '/^fix "cmdline-banner"/,/^livepatch "lp-1"/p' "$top/examples/fleet/fleet.klp.hcl" | sed '$d'
  ks=$(IFS=,; echo "${names[*]}" | sed 's/,/, /g')
  fixes=(fix.cmdline-banner fix.acpi-attr fix.flush-work)
  for i in 1 2 3; do
    printf 'livepatch "lp-%d" {\n  kernels = [%s]\n  fixes   = [%s]\n}\n\n' "$i" "$ks" "$(IFS=,; echo "${fixes[*]:0:$i}" | sed 's/,/, /g')"
  done
} >"$work/fleet/fleet.klp.hcl"

run() { # LABEL CMD...
  local label=$1 t0 t1; shift
  t0=$(date +%s%N)
  /usr/bin/time -f '%U %S %M' -o "$work/t" "$@" >"$work/out" 2>"$work/err" || true
  t1=$(date +%s%N)
  # time(1) puts "Command exited with non-zero status" first when the plan
  # has errors (examples/fleet has some on purpose).
  tail -n1 "$work/t" | awk -v l="$label" -v w="$(( t1 - t0 ))" '{ printf "%-34s wall %7.2f s  cpu %7.2f s  peak %6.0f MB\n", l, w / 1e9, $1 + $2, $3 / 1024 }'
}
printf 'fleet: %d builds (%s .. %s)\n' "${#roots[@]}" "$(basename "${roots[0]}")" "$(basename "${roots[-1]}")"
run "index, cold (empty index cache)" "$work/klpc" index "${roots[@]}"
run "index, warm" "$work/klpc" index "${roots[@]}"
rm -rf "$KLPC_CACHE_DIR"
run "plan 3 releases, cold" "$work/klpc" plan "$work/fleet"
run "plan 3 releases, warm" "$work/klpc" plan "$work/fleet"
grep '^Plan:' "$work/out" || true
