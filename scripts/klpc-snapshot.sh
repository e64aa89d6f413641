#!/bin/sh
# klpc-snapshot.sh: print this host's snapshot (klpc snapshot format 1) as
# JSON on standard output, with nothing but a POSIX shell, cat, sed, tr and cut
# (busybox is enough). It reads what `klpc snapshot` reads:
#   ssh web-17 sh -s < scripts/klpc-snapshot.sh > hosts/web-17.json
# KLPC_SNAPSHOT_ROOT, when set, is a folder holding proc/ and sys/ to read
# instead of the machine's own. Control characters in values are dropped.
R=${KLPC_SNAPSHOT_ROOT:-}
j() { printf '"%s"' "$(printf '%s' "$1" | tr -d '\000-\037\177' | sed 's/[\\"]/\\&/g')"; }
r() { v=; [ -f "$1" ] && { read -r v < "$1"; } 2>/dev/null; }
b() { if [ "$1" = 1 ]; then printf true; else printf false; fi; }
r "$R/proc/sys/kernel/osrelease" || { echo "klpc-snapshot: cannot read $R/proc/sys/kernel/osrelease" >&2; exit 1; }
printf '{"format":1,"kernel":%s,"livepatches":[' "$(j "$v")"
s=
for d in "$R"/sys/kernel/livepatch/*; do
	[ -d "$d" ] || continue
	r "$d/enabled" || continue
	e=$v
	r "$d/transition" || continue
	printf '%s{"name":%s,"enabled":%s,"transition":%s' "$s" "$(j "${d##*/}")" "$(b "$e")" "$(b "$v")"
	r "$d/replace" && printf ',"replace":%s' "$(b "$v")"
	r "$d/stack_order" && printf ',"stack_order":%s' "$v"
	printf ',"objects":['
	o=
	for od in "$d"/*; do
		[ -d "$od" ] || continue
		r "$od/patched"
		printf '%s{"name":%s,"patched":%s,"funcs":[' "$o" "$(j "${od##*/}")" "$(b "$v")"
		f=
		for fd in "$od"/*; do
			[ -d "$fd" ] || continue
			printf '%s%s' "$f" "$(j "${fd##*/}")"
			f=,
		done
		printf ']}'
		o=,
	done
	printf ']}'
	s=,
done
printf '],"modules":['
s=
for m in $(cut -d' ' -f1 "$R/proc/modules" 2>/dev/null); do
	printf '%s{"name":%s' "$s" "$(j "$m")"
	r "$R/sys/module/$m/srcversion" && [ -n "$v" ] && printf ',"srcversion":%s' "$(j "$v")"
	r "$R/sys/module/$m/version" && [ -n "$v" ] && printf ',"version":%s' "$(j "$v")"
	r "$R/sys/module/$m/taint" && [ -n "$v" ] && printf ',"taint":%s' "$(j "$v")"
	printf '}'
	s=,
done
printf ']}\n'
