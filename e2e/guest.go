package e2e

import (
	"fmt"
	"strings"
)

// guestPrelude is the fixed part of the guest's /init: it mounts the kernel's
// file systems, opens the results port and defines the shell functions the
// generated scenario part calls. @SETTLE@ is replaced by the number of seconds
// to wait for livepatch transitions, @SETTLE_BLOCKED@ by the number of seconds
// to wait while a probe task sleeps (a transition may then stay pending).
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
SETTLE_BLOCKED=@SETTLE_BLOCKED@
LPMODS=
FORCED=
n=0

# rec SCENARIO PHASE KEY VALUE: write one record to the results port.
rec() {
	local v
	v=$(printf '%s' "$4" | base64 -w0)
	echo "@@KLPC $1 $2 $3 ${v:--}" >&3
	n=$((n + 1))
}

# settle: wait until no livepatch is in transition or on its way out, and no
# disabled livepatch module still holds the reference its patch took (unless
# its transition was forced: the kernel then keeps the reference for good);
# fails after $SETTLE seconds, or after $SETTLE_BLOCKED seconds while a probe
# task sleeps, since such a task can keep a transition pending for ever.
settle() {
	local up deadline busy d e t m r limit=$SETTLE x
	if { read -r x _ < /proc/klpc_probe_ctl; } 2>/dev/null && [ -n "$x" ]; then
		[ "$SETTLE_BLOCKED" -lt "$limit" ] && limit=$SETTLE_BLOCKED
	fi
	read -r up _ < /proc/uptime
	deadline=$((${up%.*} + limit))
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
			case " $FORCED " in *" $m "*) continue ;; esac
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

# tasks SCENARIO PHASE: record each probe task, "name pid patch_state
# identity".
tasks() {
	local name pid run ps
	[ -r /proc/klpc_probe_ctl ] || return 0
	while read -r name pid run; do
		ps=x
		{ read -r ps < "/proc/$pid/patch_state"; } 2>/dev/null
		rec "$1" "$2" task "$name $pid $ps $run"
	done < /proc/klpc_probe_ctl
}

# release_all: let every probe task return.
release_all() {
	local name
	[ -r /proc/klpc_probe_ctl ] || return 0
	for name in $(cut -d' ' -f1 /proc/klpc_probe_ctl); do
		klpc-guest write /proc/klpc_probe_ctl "release $name" 2>/dev/null
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
	tasks "$1" "$2"
}

# observe SCENARIO PHASE SOURCE...: wait for transitions, then record the new
# kernel log, the state and each /proc source.
observe() {
	local s=$1 p=$2 src
	shift 2
	if settle; then rec $s $p settle ok; else rec $s $p settle timeout; fi
	# Reading the probe with a task asleep in klpc_probe_sleep is safe: the
	# read calls it with nothing to wait for.
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

# step SCENARIO NUMBER ACTION MODULE FILE ARG SOURCE...: perform one step
# and observe its outcome. ARG is the parameters of a load, the task of a
# block or release, "param value" of a param step.
step() {
	local s=$1 i=$2 a=$3 m=$4 f=$5 arg=$6 out rc
	shift 6
	case $a in
	load|module_load)
		if [ -n "$arg" ]; then
			out=$(klpc-guest insmod "$f" "$arg" 2>&1); rc=$?
		else
			out=$(klpc-guest insmod "$f" 2>&1); rc=$?
		fi ;;
	disable) out=$(klpc-guest write "/sys/kernel/livepatch/$m/enabled" 0 2>&1); rc=$? ;;
	enable) out=$(klpc-guest write "/sys/kernel/livepatch/$m/enabled" 1 2>&1); rc=$? ;;
	force)
		out=$(klpc-guest write "/sys/kernel/livepatch/$m/force" 1 2>&1); rc=$?
		[ $rc = 0 ] && FORCED="$FORCED $m" ;;
	block|release) out=$(klpc-guest write /proc/klpc_probe_ctl "$a $arg" 2>&1); rc=$? ;;
	param) out=$(klpc-guest write "/sys/module/$m/parameters/${arg%% *}" "${arg#* }" 2>&1); rc=$? ;;
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
	release_all
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

// settleBlockedSeconds bounds the wait for transitions while a probe task
// sleeps: the kernel retries a transition every second
// (klp_transition_work_fn), so a transition that could complete has done so
// after a few tries, and one that a sleeping task keeps pending stays so.
const settleBlockedSeconds = 4

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
	blocked := min(settleSeconds, settleBlockedSeconds)
	b.WriteString(strings.NewReplacer("@SETTLE@", fmt.Sprint(settleSeconds), "@SETTLE_BLOCKED@", fmt.Sprint(blocked)).Replace(guestPrelude))
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
		fmt.Fprintf(&b, "LPMODS=%q\nFORCED=\n", strings.Join(sc.livepatchModules(), " "))
		fmt.Fprintf(&b, "begin %d\n", s)
		for _, m := range sc.Preload {
			fmt.Fprintf(&b, "preload %d %s %s\n", s, m, guestPath(m, sc.Modules[m]))
		}
		fmt.Fprintf(&b, "observe %d pre %s\n", s, srcs)
		fmt.Fprintf(&b, "rec %d pre done \"\"\n", s)
		for i, st := range sc.Steps {
			file := "-"
			if st.Action == ActionLoad || st.Action == ActionModuleLoad {
				host := sc.Modules[st.Module]
				if st.File != "" {
					host = st.File
				}
				file = guestPath(st.Module, host)
			}
			mod := kernelName(st.Module)
			if mod == "" {
				mod = "-"
			}
			// validate has restricted arg to characters safe in single quotes.
			fmt.Fprintf(&b, "step %d %d %s %s %s '%s' %s\n", s, i+1, st.Action, mod, file, st.arg(), srcs)
			if sc.Snapshots {
				files = snapshotScript(files)
				fmt.Fprintf(&b, "rec %d %d snapshot \"$(sh %s 2>&1)\"\n", s, i+1, guestSnapshotScript)
			}
		}
		fmt.Fprintf(&b, "cleanup %d\n", s)
		if sc.Isolate && s < len(scenarios)-1 {
			b.WriteString("finish\n")
		}
	}
	b.WriteString("\nfinish\n")
	return b.String(), files
}
