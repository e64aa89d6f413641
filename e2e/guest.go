package e2e

import (
	"fmt"
	"strings"
)

// guestPrelude is the fixed part of the guest's /init: it mounts the kernel's
// file systems, opens the results port and defines the shell functions the
// generated scenario part calls. @SETTLE@ is replaced by the number of seconds
// to wait for livepatch transitions.
//
// Steps run through /bin/klpc-guest (package e2e/internal/guestcmd), which
// makes one system call per step and names the error of a failure.
//
// Records go to ttyS1, which carries nothing else; kernel messages stay on the
// console (ttyS0), quietened to emergencies only. Each record is
//
//	@@KLPC <scenario> <phase> <key> <base64 value, or - when empty>
//
// where phase is "pre" (after the preloads), a step number from 1, or "post"
// (after the cleanup). The last record, "@@KLPC - - end <n>", gives the number
// of records before it.
const guestPrelude = `#!/bin/busybox sh
# klpc e2e guest init; generated.
/bin/busybox --install -s /bin
export PATH=/bin
mkdir -p /proc /sys /dev /tmp
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
echo 1 > /proc/sys/kernel/printk
stty -F /dev/ttyS1 raw -echo
exec 3>/dev/ttyS1
SETTLE=@SETTLE@
LPMODS=
n=0

# rec SCENARIO PHASE KEY VALUE: write one record to the results port.
rec() {
	local v
	v=$(printf '%s' "$4" | base64 -w0)
	echo "@@KLPC $1 $2 $3 ${v:--}" >&3
	n=$((n + 1))
}

# settle: wait until no livepatch is in transition or on its way out, and no
# disabled livepatch module still holds the reference its patch took; fails
# after $SETTLE seconds.
settle() {
	local up deadline busy d e t m r
	read -r up _ < /proc/uptime
	deadline=$((${up%.*} + SETTLE))
	while :; do
		busy=0
		for d in /sys/kernel/livepatch/*; do
			[ -d "$d" ] || continue
			e=x t=x
			{ read -r e < "$d/enabled"; read -r t < "$d/transition"; } 2>/dev/null
			[ "$e" = 1 ] && [ "$t" = 0 ] || busy=1
		done
		for m in $LPMODS; do
			[ -d "/sys/module/$m" ] && [ ! -d "/sys/kernel/livepatch/$m" ] || continue
			r=x
			{ read -r r < "/sys/module/$m/refcnt"; } 2>/dev/null
			[ "$r" = 0 ] || busy=1
		done
		[ $busy = 0 ] && return 0
		read -r up _ < /proc/uptime
		[ "${up%.*}" -ge "$deadline" ] && return 1
		sleep 0.1
	done
}

# isclean: no livepatch and no module present.
isclean() {
	local d x
	for d in /sys/kernel/livepatch/*; do
		[ -e "$d" ] && return 1
	done
	read -r x _ < /proc/modules && return 1
	return 0
}

# state SCENARIO PHASE: record the livepatches, the attributes only some
# kernel lines have (replace: 6.12+, stack_order: 7.x), and the loaded modules.
state() {
	local d e t a v m mods=
	for d in /sys/kernel/livepatch/*; do
		[ -d "$d" ] || continue
		{ read -r e < "$d/enabled" && read -r t < "$d/transition"; } 2>/dev/null || continue
		rec "$1" "$2" patch "${d##*/} $e $t"
		for a in replace stack_order; do
			[ -f "$d/$a" ] && { read -r v < "$d/$a"; } 2>/dev/null && rec "$1" "$2" sysfs "${d##*/}/$a $v"
		done
	done
	while read -r m _; do mods="$mods $m"; done < /proc/modules
	rec "$1" "$2" modules "$mods"
}

# observe SCENARIO PHASE SOURCE...: wait for transitions, then record the new
# kernel log, the state and each /proc source.
observe() {
	local s=$1 p=$2 src
	shift 2
	if settle; then rec $s $p settle ok; else rec $s $p settle timeout; fi
	rec $s $p dmesg "$(dmesg -c)"
	state $s $p
	for src in "$@"; do
		if [ -e "/proc/$src" ]; then
			rec $s $p "src:$src" "$(head -c 4096 "/proc/$src")"
		else
			rec $s $p "nosrc:$src" ""
		fi
	done
}

# step SCENARIO NUMBER ACTION MODULE FILE SOURCE...: perform one step and
# observe its outcome.
step() {
	local s=$1 i=$2 a=$3 m=$4 f=$5 out rc
	shift 5
	case $a in
	load|module_load) out=$(klpc-guest insmod "$f" 2>&1); rc=$? ;;
	disable) out=$(klpc-guest write "/sys/kernel/livepatch/$m/enabled" 0 2>&1); rc=$? ;;
	*) out=$(klpc-guest rmmod "$m" 2>&1); rc=$? ;;
	esac
	rec $s $i rc "$rc"
	rec $s $i out "$out"
	observe $s $i "$@"
	rec $s $i done ""
}

# begin SCENARIO: start a scenario from a clean kernel log.
begin() {
	dmesg -c > /dev/null
	if isclean; then rec $1 pre start clean; else rec $1 pre start dirty; fi
}

# preload SCENARIO MODULE FILE: insert an ordinary module before the steps.
preload() {
	local out rc
	out=$(klpc-guest insmod "$3" 2>&1); rc=$?
	rec $1 pre preload "$2 $rc $out"
}

# cleanup SCENARIO: disable every livepatch, remove every module, and record
# whether that worked; stop the guest when it did not, so that no later
# scenario runs on a dirty kernel.
cleanup() {
	local k=0 d e m
	while [ $k -lt 10 ] && ! isclean; do
		for d in /sys/kernel/livepatch/*; do
			[ -d "$d" ] || continue
			{ read -r e < "$d/enabled"; } 2>/dev/null || continue
			[ "$e" = 1 ] && { echo 0 > "$d/enabled"; } 2>/dev/null
			settle
		done
		for m in $(cut -d' ' -f1 /proc/modules); do
			klpc-guest rmmod "$m" 2>/dev/null
		done
		settle
		k=$((k + 1))
	done
	rec $1 post dmesg "$(dmesg -c)"
	if isclean; then
		rec $1 post clean 1
	else
		state $1 post
		rec $1 post clean 0
		finish
	fi
}

# finish: close the results port (which waits for it to drain) and power off.
finish() {
	rec - - end "$n"
	exec 3>&-
	echo "@@KLPC-POWEROFF"
	poweroff -f
}

rec - - cmdline "$(cat /proc/cmdline)"
read -r up _ < /proc/uptime
rec - - uptime "$up"
`

// guestFile is one file of the initramfs.
type guestFile struct {
	path string // inside the guest, absolute
	host string // on the host
}

// guestScript returns the /init that runs scenarios[first:] (numbered from
// first in the records), and the module files it needs in the initramfs.
// Module files are stored once per distinct host path.
func guestScript(scenarios []Scenario, first int, settleSeconds int) (string, []guestFile) {
	var b strings.Builder
	b.WriteString(strings.Replace(guestPrelude, "@SETTLE@", fmt.Sprint(settleSeconds), 1))
	var files []guestFile
	stored := map[string]string{}
	guestPath := func(name, host string) string {
		if p, ok := stored[host]; ok {
			return p
		}
		p := fmt.Sprintf("/m/%d/%s.ko", len(files), name)
		stored[host] = p
		files = append(files, guestFile{path: p, host: host})
		return p
	}
	for s := first; s < len(scenarios); s++ {
		sc := &scenarios[s]
		srcs := strings.Join(sc.sources(), " ")
		fmt.Fprintf(&b, "\n# scenario %d\n", s)
		fmt.Fprintf(&b, "LPMODS=%q\n", strings.Join(sc.livepatchModules(), " "))
		fmt.Fprintf(&b, "begin %d\n", s)
		for _, m := range sc.Preload {
			fmt.Fprintf(&b, "preload %d %s %s\n", s, m, guestPath(m, sc.Modules[m]))
		}
		fmt.Fprintf(&b, "observe %d pre %s\n", s, srcs)
		fmt.Fprintf(&b, "rec %d pre done \"\"\n", s)
		for i, st := range sc.Steps {
			file := "-"
			if st.Action == ActionLoad || st.Action == ActionModuleLoad {
				file = guestPath(st.Module, sc.Modules[st.Module])
			}
			fmt.Fprintf(&b, "step %d %d %s %s %s %s\n", s, i+1, st.Action, kernelName(st.Module), file, srcs)
			if sc.Snapshots {
				files = snapshotScript(files)
				fmt.Fprintf(&b, "rec %d %d snapshot \"$(sh %s 2>&1)\"\n", s, i+1, guestSnapshotScript)
			}
		}
		fmt.Fprintf(&b, "cleanup %d\n", s)
	}
	b.WriteString("\nfinish\n")
	return b.String(), files
}
