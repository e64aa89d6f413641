#!/usr/bin/env bash
# Compare `klpc index` on a whole unpacked kernel image with plain nm over the
# same modules, in one run: wall time, peak RSS and the speed-up ratio.
#
#   scripts/bench-index.sh [IMAGE_DIR]     default: .cache/kernels/6.1.0-56-amd64
#
# Each command runs once to warm the page cache and then RUNS times (default 3);
# the fastest wall time and the largest peak RSS are reported, which keeps the
# figures stable on a busy machine. klpc runs with --no-cache: it reads, hashes
# and parses every module, as on a first index.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
img=${1:-$top/.cache/kernels/6.1.0-56-amd64}
[ -d "$img/lib/modules" ] || bash "$top/scripts/fetch-kernels.sh" 6.1.0-56
mods=$(ls -d "$img"/lib/modules/*/ | head -n1)

if [ ! -x /usr/bin/time ]; then
  apt-get update -qq && apt-get install -y -qq time >/dev/null
fi
command -v nm >/dev/null || { echo "bench-index: nm (binutils) is required" >&2; exit 1; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$top" && go build -o "$work/klpc" ./cmd/klpc)

runs=${RUNS:-3}

# measure NAME CMD...: one warm-up run, then $runs measured runs; prints the
# fastest wall time in seconds and the largest peak RSS in KB.
measure() {
  local name=$1; shift
  local best="" rss=0 i w r
  for i in $(seq 0 "$runs"); do
    /usr/bin/time -v -o "$work/$name.time" "$@" >/dev/null 2>"$work/$name.err" || {
      cat "$work/$name.err" >&2; exit 1; }
    [ "$i" = 0 ] && continue
    w=$(awk -F': ' '/Elapsed \(wall clock\)/ {n=split($2,a,":"); s=0; for(i=1;i<=n;i++) s=s*60+a[i]; print s}' "$work/$name.time")
    r=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$work/$name.time")
    if [ -z "$best" ] || awk -v a="$w" -v b="$best" 'BEGIN { exit !(a < b) }'; then best=$w; fi
    [ "$r" -gt "$rss" ] && rss=$r
  done
  echo "$best $rss"
}

count=$(find "$mods" -name '*.ko*' | wc -l)
read -r nm_wall nm_rss < <(measure nm sh -c 'find "$1" -name "*.ko" -print0 | xargs -0 nm' sh "$mods")
read -r k_wall k_rss < <(measure klpc "$work/klpc" index --no-cache "$img")

printf 'modules:            %s in %s\n' "$count" "$mods"
printf 'nm (find|xargs):    %6.2f s   peak RSS %6d KB\n' "$nm_wall" "$nm_rss"
printf 'klpc index:         %6.2f s   peak RSS %6d KB\n' "$k_wall" "$k_rss"
awk -v a="$nm_wall" -v b="$k_wall" 'BEGIN { if (b > 0) printf "speed-up:           %.1fx\n", a / b }'
