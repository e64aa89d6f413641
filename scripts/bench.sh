#!/usr/bin/env bash
# Fleet-scale benchmark (issue 13): every figure and its goal, measured in one
# run for two builds of klpc, "before" (BASE, default the commit this work
# started from) and "after" (the working tree).
#
#   bash scripts/bench.sh            all figures
#   RUNS=5 bash scripts/bench.sh     more runs per small figure (default 5)
#   BASE=<commit> bash scripts/bench.sh
#   SKIP_BEFORE=1 bash scripts/bench.sh   only the working tree
#   ONLY=fleet bash scripts/bench.sh      only fleet plan, emit and linearity
#   ONLY=index bash scripts/bench.sh      only the index, quickstart and sharing figures
#   EMIT_DIR=/dev/shm bash scripts/bench.sh   emit the fleet under another
#                                    folder (default: a temporary folder in
#                                    /tmp); on tmpfs the figure leaves out the
#                                    file system's cost of 26,000 files
#
# Figures (median of RUNS runs after a warm-up; fleets run FLEET_RUNS times,
# default 1; wall time and CPU time = user+sys, since a shared machine makes
# wall time noisy; peak RSS is the largest seen):
#   - cold `klpc index --no-cache` of Debian 6.1.0-56's modules folder against
#     `find | xargs nm` over the same files, paired run by run (goal <= 0.10x);
#   - warm `klpc index` of that folder and warm `klpc plan examples/quickstart`
#     (goal <= 15 ms each);
#   - a synthetic fleet (internal/fleetgen: 50 kernels x 30 cumulative
#     releases x 1,000 real 6.1 functions): plan (goal <= 2 s, <= 300 MB) and
#     emit (goal <= 10 s, <= 300 MB);
#   - linearity: plan of 5 kernels x 30 releases at 1,000 and 10,000
#     functions (goal: 10x the functions costs <= 12x the time);
#   - sharing: what each extra kernel block naming the same files costs
#     (plan of 1 and of 50 kernels x 1 release x 10 functions).
# Needs the unpacked 6.1.0-56 package (scripts/fetch-kernels.sh fetches it).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
export PATH="$PATH:/usr/local/go/bin"
cache=${KLPC_CACHE:-$top/.cache}
img=$cache/kernels/6.1.0-56-amd64
[ -d "$img/lib/modules" ] || bash "$top/scripts/fetch-kernels.sh" 6.1.0-56
mods=$(ls -d "$img"/lib/modules/*/ | head -n1)
mods=${mods%/}
if [ ! -x /usr/bin/time ]; then
  apt-get update -qq && apt-get install -y -qq time >/dev/null
fi
command -v nm >/dev/null || { echo "bench: nm (binutils) is required" >&2; exit 1; }

runs=${RUNS:-5}
all=1 fleets=1
case ${ONLY:-} in
  '') ;;
  fleet) all= ;;
  index) fleets= ;;
  *) echo "bench: ONLY=$ONLY: ONLY=fleet and ONLY=index are known" >&2; exit 2 ;;
esac
fleet_runs=${FLEET_RUNS:-1}
base=${BASE:-f1559a7}
work=$(mktemp -d)
emitdir=$work
if [ -n "${EMIT_DIR:-}" ]; then
  emitdir=$(mktemp -d "$EMIT_DIR/klpc-bench.XXXXXX")
fi
trap 'rm -rf "$work" "$emitdir"' EXIT

echo "bench: building klpc (after: working tree; before: $base)" >&2
(cd "$top" && go build -o "$work/after/klpc" ./cmd/klpc)
versions=(after)
if [ -z "${SKIP_BEFORE:-}" ]; then
  mkdir -p "$work/before/src"
  git -C "$top" archive "$base" | tar -x -C "$work/before/src"
  (cd "$work/before/src" && go build -o "$work/before/klpc" ./cmd/klpc)
  versions=(before after)
fi

# Fleets, generated into the cache. Their kernel blocks name a copy of the
# committed 6.1.0-56 inputs under the cache (a worktree's own path would
# vanish with the worktree). A stamp in each fleet holds the generator's
# options, the kernel folder and a hash of the inputs and of the generator;
# a fleet whose stamp differs, or whose kernel inputs are missing, is made
# again, into a temporary name renamed into place (others may read it).
kin=$top/kernels/6.1.0-56-amd64
kdir=$cache/bench/kernels/6.1.0-56-amd64
khash=$(cd "$kin" && find . -type f ! -name README.md -print0 | LC_ALL=C sort -z | xargs -0 sha256sum | sha256sum | cut -c1-16)
if [ "$(cat "$kdir/.complete" 2>/dev/null)" != "$khash" ]; then
  mkdir -p "$cache/bench/kernels"
  rm -rf "$kdir.tmp.$$" && cp -r "$kin" "$kdir.tmp.$$"
  echo "$khash" >"$kdir.tmp.$$/.complete"
  rm -rf "$kdir.old.$$"; [ ! -e "$kdir" ] || mv "$kdir" "$kdir.old.$$"
  mv "$kdir.tmp.$$" "$kdir" && rm -rf "$kdir.old.$$"
fi
ghash=$(cat "$top/internal/fleetgen/fleetgen.go" "$top/scripts/fleetgen/main.go" | sha256sum | cut -c1-16)
gen() { # NAME KERNELS RELEASES FUNCS
  local d=$cache/bench/$1
  local stamp="kernels=$2 releases=$3 funcs=$4 kernel-dir=$kdir inputs=$khash generator=$ghash"
  local f ok=1
  [ "$(cat "$d/.complete" 2>/dev/null)" = "$stamp" ] || ok=
  for f in kallsyms.gz available_filter_functions.gz Module.symvers.gz modules; do [ -e "$kdir/$f" ] || ok=; done
  if [ -z "$ok" ]; then
    echo "bench: generating $d" >&2
    rm -rf "$d.tmp.$$"
    (cd "$top" && go run ./scripts/fleetgen -kernels "$2" -releases "$3" -funcs "$4" -kernel-dir "$kdir" -o "$d.tmp.$$") >&2
    echo "$stamp" >"$d.tmp.$$/.complete"
    rm -rf "$d.old.$$"; [ ! -e "$d" ] || mv "$d" "$d.old.$$"
    mv "$d.tmp.$$" "$d" && rm -rf "$d.old.$$"
  fi
  echo "$d"
}
if [ -n "$fleets" ]; then
  fleet=$(gen fleet-50-30-1000 50 30 1000)
  lin1=$(gen fleet-5-30-1000 5 30 1000)
  lin10=$(gen fleet-5-30-10000 5 30 10000)
fi
share1=$(gen fleet-1-1-10 1 1 10)
share50=$(gen fleet-50-1-10 50 1 10)

# once NAME CMD...: one run; appends "wall cpu rss" to $work/NAME.
once() {
  local name=$1; shift
  local t0 t1
  t0=$(date +%s%N)
  /usr/bin/time -f '%U %S %M' -o "$work/t" "$@" >/dev/null 2>"$work/err" || {
    echo "bench: $name failed: $*" >&2; cat "$work/err" >&2; exit 1; }
  t1=$(date +%s%N)
  # Wall time from the clock (ns), CPU time and peak RSS from time(1).
  awk -v w="$(( t1 - t0 ))" '{ printf "%.4f %.3f %s\n", w / 1e9, $1 + $2, $3 }' "$work/t" >>"$work/$name"
}
# med NAME COLUMN: median of a column (1 wall, 2 cpu, 3 rss); rss gives the max.
med() {
  if [ "$2" = 3 ]; then
    awk '{ if ($3 > m) m = $3 } END { print m }' "$work/$1"
  else
    awk -v c="$2" '{ print $c }' "$work/$1" | sort -g | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'
  fi
}
# many NAME N CMD...: a warm-up run, then N runs.
many() {
  local name=$1 n=$2 i; shift 2
  "$@" >/dev/null 2>&1 || true
  for i in $(seq "$n"); do once "$name" "$@"; done
}
ms() { awk -v s="$1" 'BEGIN { printf "%7.0f ms", s * 1000 }'; }
mb() { awk -v k="$1" 'BEGIN { printf "%6.0f MB", k / 1024 }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.3f", a / b; else print "inf" }'; }
verdict() { awk -v v="$1" -v g="$2" 'BEGIN { print (v <= g) ? "ok" : "MISSED" }'; }

count=$(find "$mods" -name '*.ko*' | wc -l)
# `klpc index` of lib/modules/REL inside an unpacked package also reads the
# vmlinuz and config beside it; a link to the folder outside the package
# gives the modules alone, the same files nm reads.
mkdir -p "$work/m/lib/modules"
ln -s "$mods" "$work/m/lib/modules/$(basename "$mods")"
onlymods=$work/m/lib/modules/$(basename "$mods")
echo "bench: measuring ($runs runs per figure, $fleet_runs per fleet) ..." >&2
if [ -n "$all" ]; then
# Cold index and nm, paired run by run so both see the same machine load.
nm_cmd=(sh -c 'find "$1" -name "*.ko" -print0 | xargs -0 nm' sh "$mods")
"${nm_cmd[@]}" >/dev/null
for v in "${versions[@]}"; do "$work/$v/klpc" index --no-cache "$onlymods" >/dev/null; done
for i in $(seq "$runs"); do
  once nm "${nm_cmd[@]}"
  for v in "${versions[@]}"; do
    once "$v.cold" "$work/$v/klpc" index --no-cache "$onlymods"
    paste -d' ' <(tail -n1 "$work/$v.cold") <(tail -n1 "$work/nm") | awk '{ print $1 / $4, $2 / $5 }' >>"$work/$v.coldratio"
  done
done
fi
for v in "${versions[@]}"; do
  export KLPC_CACHE_DIR=$work/$v/index-cache
  if [ -n "$all" ]; then
    many "$v.warmindex" "$runs" "$work/$v/klpc" index "$onlymods"
    many "$v.coldimage" "$runs" "$work/$v/klpc" index --no-cache "$img"
    many "$v.warmimage" "$runs" "$work/$v/klpc" index "$img"
    many "$v.warmplan" "$runs" "$work/$v/klpc" plan "$top/examples/quickstart"
    for n in share1 share50; do
      d=${!n}
      many "$v.$n" "$runs" "$work/$v/klpc" plan "$d"
    done
  fi
  [ -n "$fleets" ] || { unset KLPC_CACHE_DIR; continue; }
  (cd "$lin1" && many "$v.lin1" "$fleet_runs" "$work/$v/klpc" plan .)
  (cd "$lin10" && many "$v.lin10" "$fleet_runs" "$work/$v/klpc" plan .)
  (cd "$fleet" && many "$v.plan" "$fleet_runs" "$work/$v/klpc" plan .)
  (cd "$fleet" && many "$v.emit" "$fleet_runs" "$work/$v/klpc" emit . -o "$emitdir/$v-out" --force)
  unset KLPC_CACHE_DIR
done

printf '\nmachine: %s cores, load average %s\n' "$(nproc)" "$(cut -d' ' -f1-3 /proc/loadavg)"
if [ -n "$all" ]; then
  printf 'modules: %s files in %s\n' "$count" "$mods"
  printf 'nm (find|xargs nm):   wall %s  cpu %s  peak %s\n' "$(ms "$(med nm 1)")" "$(ms "$(med nm 2)")" "$(mb "$(med nm 3)")"
fi
[ -z "$fleets" ] || printf 'fleet: 50 kernels x 30 cumulative releases x 1,000 functions (%s), emitted under %s\n' "$fleet" "$emitdir"
for v in "${versions[@]}"; do
  [ -z "$fleets" ] || { l1=$(med "$v.lin1" 2); l10=$(med "$v.lin10" 2); }
  printf '\n== %s\n' "$v"
  if [ -n "$all" ]; then
    cr=$(awk '{ print $1 }' "$work/$v.coldratio" | sort -g | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }')
    ccr=$(awk '{ print $2 }' "$work/$v.coldratio" | sort -g | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }')
    s1=$(med "$v.share1" 1); s50=$(med "$v.share50" 1)
    r1=$(med "$v.share1" 3); r50=$(med "$v.share50" 3)
    printf 'cold index:           wall %s  cpu %s  peak %s   %.3fx nm wall, %.3fx nm cpu   (goal <= 0.10x: %s)\n' \
      "$(ms "$(med "$v.cold" 1)")" "$(ms "$(med "$v.cold" 2)")" "$(mb "$(med "$v.cold" 3)")" "$cr" "$ccr" "$(verdict "$cr" 0.10)"
    printf 'warm index:           wall %s  cpu %s  peak %s   (goal <= 15 ms: %s)\n' \
      "$(ms "$(med "$v.warmindex" 1)")" "$(ms "$(med "$v.warmindex" 2)")" "$(mb "$(med "$v.warmindex" 3)")" "$(verdict "$(med "$v.warmindex" 1)" 0.015)"
    printf 'image root (+vmlinuz): cold wall %s cpu %s, warm wall %s cpu %s (modules, config and the xz kernel image)\n' \
      "$(ms "$(med "$v.coldimage" 1)")" "$(ms "$(med "$v.coldimage" 2)")" "$(ms "$(med "$v.warmimage" 1)")" "$(ms "$(med "$v.warmimage" 2)")"
    printf 'warm plan quickstart: wall %s  cpu %s  peak %s   (goal <= 15 ms: %s)\n' \
      "$(ms "$(med "$v.warmplan" 1)")" "$(ms "$(med "$v.warmplan" 2)")" "$(mb "$(med "$v.warmplan" 3)")" "$(verdict "$(med "$v.warmplan" 1)" 0.015)"
  fi
  if [ -n "$fleets" ]; then
    printf 'fleet plan:           wall %s  cpu %s  peak %s   (goal <= 2 s: %s, <= 300 MB: %s)\n' \
      "$(ms "$(med "$v.plan" 1)")" "$(ms "$(med "$v.plan" 2)")" "$(mb "$(med "$v.plan" 3)")" "$(verdict "$(med "$v.plan" 1)" 2)" "$(verdict "$(med "$v.plan" 3)" 307200)"
    printf 'fleet emit:           wall %s  cpu %s  peak %s   (goal <= 10 s: %s, <= 300 MB: %s)\n' \
      "$(ms "$(med "$v.emit" 1)")" "$(ms "$(med "$v.emit" 2)")" "$(mb "$(med "$v.emit" 3)")" "$(verdict "$(med "$v.emit" 1)" 10)" "$(verdict "$(med "$v.emit" 3)" 307200)"
    printf 'linearity (5x30):     1,000 fn cpu %s, 10,000 fn cpu %s: %.1fx for 10x   (goal <= 12x: %s)\n' \
      "$(ms "$l1")" "$(ms "$l10")" "$(ratio "$l10" "$l1")" "$(verdict "$(ratio "$l10" "$l1")" 12)"
  fi
  if [ -n "$all" ]; then
    printf 'sharing:              1 kernel %s %s, 50 kernels %s %s: %s and %s per extra kernel block\n' \
      "$(ms "$s1")" "$(mb "$r1")" "$(ms "$s50")" "$(mb "$r50")" \
      "$(awk -v a="$s1" -v b="$s50" 'BEGIN { printf "%.1f ms", (b - a) * 1000 / 49 }')" \
      "$(awk -v a="$r1" -v b="$r50" 'BEGIN { printf "%.2f MB", (b - a) / 1024 / 49 }')"
  fi
done
