#!/bin/bash
# Unpacks the livepatch-related parts of the Debian linux-source packages of
# the modelled kernel lines into .cache/src/<version>/ (kernel/livepatch,
# include/linux/livepatch*.h, kernel/module, arch/x86/kernel/module.c,
# kernel/sched/core.c, the livepatch selftests and their modules, docs), and
# for 7.x upstream klp-build (scripts/livepatch, with the kernel's top
# Makefile, and fs/proc/cmdline.c, the file emit's klp-build test patches).
# Idempotent; downloads a package only when .cache/src-image lacks it.
# 6.1 and 6.12 come from the machine's apt sources, 7.2 from sid through the
# private apt configuration in .cache/apt-sid (the machine's sources are not
# touched). Run as root; afterwards
#   KLPC_UPDATE=1 go test ./plan/klp -run TestKernelSelftests
# rereads the selftest scenarios into plan/klp/testdata/selftests.
set -euo pipefail
root=$(cd "$(dirname "$0")/../../.." && pwd)
cache=$root/.cache
mkdir -p "$cache/src" "$cache/src-image"

fetch() { # package [sid]
	local pkg=$1 deb
	deb=$(ls "$cache/src-image/${pkg}"_*.deb 2>/dev/null | tail -n1 || true)
	if [ -n "$deb" ]; then echo "$deb"; return; fi
	local tmp; tmp=$(mktemp -d "$cache/src-image/.dl.XXXXXX")
	if [ "${2:-}" = sid ]; then
		local d=$cache/apt-sid
		mkdir -p "$d/lists/partial" "$d/cache/archives/partial"
		if [ ! -f "$d/sources.list" ]; then
			# The Debian mirror the machine's own apt sources use, with suite sid.
			local m
			m=$(grep -hs '^URIs:' /etc/apt/sources.list.d/*.sources | awk '{print $2}' | grep -v -- '-security' | head -n1)
			[ -n "$m" ] || m=$(grep -hs '^deb ' /etc/apt/sources.list | awk '{print $2}' | grep -v -- '-security' | head -n1)
			[ -n "$m" ] || { echo "unpack-kernel-source: no Debian mirror in the machine's apt sources" >&2; exit 1; }
			echo "deb [trusted=yes] $m sid main" > "$d/sources.list"
		fi
		local o=(-o Dir::Etc::sourcelist="$d/sources.list" -o Dir::Etc::sourceparts=- -o Dir::State::Lists="$d/lists" -o Dir::Cache="$d/cache" -o Acquire::Check-Valid-Until=false)
		[ -n "$(ls "$d/lists/"*Packages* 2>/dev/null)" ] || apt-get "${o[@]}" update >&2
		(cd "$tmp" && apt-get "${o[@]}" download "$pkg" >&2)
	else
		(cd "$tmp" && apt-get download "$pkg" >&2)
	fi
	mv "$tmp"/*.deb "$cache/src-image/" && rmdir "$tmp"
	ls "$cache/src-image/${pkg}"_*.deb | tail -n1
}

unpack() { # version [sid]
	local v=$1 dst=$cache/src/$1
	[ -e "$dst/.done" ] && return
	local deb; deb=$(fetch "linux-source-$v" "${2:-}")
	local tmp; tmp=$(mktemp -d "$cache/src/.tmp.$v.XXXXXX")
	dpkg-deb --fsys-tarfile "$deb" | tar -xO "./usr/src/linux-source-$v.tar.xz" |
		tar -xJ -C "$tmp" --wildcards --no-wildcards-match-slash \
			"linux-source-$v/kernel/livepatch/*" "linux-source-$v/include/linux/livepatch*.h" \
			"linux-source-$v/kernel/module/*" "linux-source-$v/arch/x86/kernel/module.c" \
			"linux-source-$v/kernel/sched/core.c" "linux-source-$v/Documentation/livepatch/*" \
			"linux-source-$v/tools/testing/selftests/livepatch/*" \
			"linux-source-$v/tools/testing/selftests/livepatch/test_modules/*" \
			"linux-source-$v/lib/livepatch/*" 2>/dev/null || true
	[ -d "$tmp/linux-source-$v/kernel/livepatch" ] || { echo "unpack $v: no kernel/livepatch in $deb" >&2; exit 1; }
	rm -rf "$dst.new" && mv "$tmp/linux-source-$v" "$dst.new" && rmdir "$tmp"
	[ -e "$dst" ] && mv "$dst" "$dst.old.$$" && rm -rf "$dst.old.$$"
	mv "$dst.new" "$dst" && touch "$dst/.done"
}

# unpack_klp_build adds scripts/livepatch (klp-build) of a line that has it
# to an unpacked tree, in a step of its own so that trees unpacked before
# it was added get it too.
unpack_klp_build() { # version [sid]
	local v=$1 dst=$cache/src/$1
	[ -e "$dst/.done-klp-build" ] && return
	local deb; deb=$(fetch "linux-source-$v" "${2:-}")
	local tmp; tmp=$(mktemp -d "$cache/src/.tmp.$v.XXXXXX")
	dpkg-deb --fsys-tarfile "$deb" | tar -xO "./usr/src/linux-source-$v.tar.xz" |
		tar -xJ -C "$tmp" --wildcards --no-wildcards-match-slash \
			"linux-source-$v/scripts/livepatch/*" "linux-source-$v/Makefile" \
			"linux-source-$v/fs/proc/cmdline.c" 2>/dev/null || true
	[ -f "$tmp/linux-source-$v/scripts/livepatch/klp-build" ] || { echo "unpack $v: no scripts/livepatch/klp-build in $deb" >&2; exit 1; }
	rm -rf "$dst/scripts/livepatch.new"
	mkdir -p "$dst/scripts"
	mv "$tmp/linux-source-$v/scripts/livepatch" "$dst/scripts/livepatch.new"
	[ -e "$dst/Makefile" ] || mv "$tmp/linux-source-$v/Makefile" "$dst/Makefile"
	mkdir -p "$dst/fs/proc"
	[ -e "$dst/fs/proc/cmdline.c" ] || mv "$tmp/linux-source-$v/fs/proc/cmdline.c" "$dst/fs/proc/cmdline.c"
	rm -rf "$tmp"
	[ -e "$dst/scripts/livepatch" ] && mv "$dst/scripts/livepatch" "$dst/scripts/livepatch.old.$$" && rm -rf "$dst/scripts/livepatch.old.$$"
	mv "$dst/scripts/livepatch.new" "$dst/scripts/livepatch" && touch "$dst/.done-klp-build"
}

unpack 6.1
unpack 6.12
unpack 7.2 sid
unpack_klp_build 7.2 sid
