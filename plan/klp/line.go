package klp

import (
	"fmt"
	"strconv"
	"strings"
)

// Line is a kernel line whose livepatch core the model reproduces. The
// rules that differ between lines were read in each line's source
// (kernel/livepatch, kernel/module/main.c) and seen on the real kernels;
// everything else is the same on all of them (see SameOnAllLines).
type Line int

// The modelled lines, oldest first. Line7 was read and run at 7.2.
const (
	Line6_1 Line = iota + 1
	Line6_12
	Line7
)

// Lines returns the modelled lines, oldest first.
func Lines() []Line { return []Line{Line6_1, Line6_12, Line7} }

// lineVersion is the release each line was read and run at.
var lineVersion = map[Line][2]int{Line6_1: {6, 1}, Line6_12: {6, 12}, Line7: {7, 2}}

// String returns "6.1", "6.12" or "7.x".
func (l Line) String() string {
	switch l {
	case Line6_1:
		return "6.1"
	case Line6_12:
		return "6.12"
	case Line7:
		return "7.x"
	}
	return fmt.Sprintf("Line(%d)", int(l))
}

// Verified returns the release the line was read and run at: 6.1, 6.12
// or 7.2.
func (l Line) Verified() string {
	v := lineVersion[l]
	return fmt.Sprintf("%d.%d", v[0], v[1])
}

// LineFor chooses the modelled line for a kernel release string (uname -r,
// e.g. "6.12.57+deb13-amd64" or "7.3.1"). exact is true when the release's
// major.minor is the one the line was verified at. Otherwise the line is
// the newest one not newer than the release, because a livepatch feature
// present in a line is present in every later release (releases older than
// 6.1 get 6.1, with exact false).
func LineFor(release string) (line Line, exact bool, err error) {
	major, minor, err := parseRelease(release)
	if err != nil {
		return 0, false, err
	}
	line = Line6_1
	for _, l := range Lines() {
		v := lineVersion[l]
		if v[0] < major || v[0] == major && v[1] <= minor {
			line = l
		}
	}
	v := lineVersion[line]
	return line, v[0] == major && v[1] == minor, nil
}

// parseRelease reads the leading "MAJOR.MINOR" of a release string.
func parseRelease(release string) (major, minor int, err error) {
	parts := strings.SplitN(release, ".", 3)
	if len(parts) < 2 {
		return 0, 0, fmt.Errorf("kernel release %q: want MAJOR.MINOR[.PATCH][-LOCAL]", release)
	}
	major, err1 := strconv.Atoi(parts[0])
	digits := parts[1]
	if i := strings.IndexFunc(digits, func(r rune) bool { return r < '0' || r > '9' }); i >= 0 {
		digits = digits[:i]
	}
	minor, err2 := strconv.Atoi(digits)
	if err1 != nil || err2 != nil || major < 0 || minor < 0 || len(parts[0]) > 4 || len(digits) > 4 {
		return 0, 0, fmt.Errorf("kernel release %q: want MAJOR.MINOR[.PATCH][-LOCAL]", release)
	}
	return major, minor, nil
}

// ClearsModuleRelocs reports whether klp_cleanup_module_patches_limited
// clears a livepatch's module-specific .klp.rela relocations when their
// module goes (klp_clear_object_relocs -> clear_relocate_add): not on 6.1,
// where the module then cannot come back while the livepatch is loaded;
// on 6.12 and 7.x.
func (l Line) ClearsModuleRelocs() bool { return l >= Line6_12 }

// SysfsReplace reports whether /sys/kernel/livepatch/<p>/replace exists
// (replace_show in core.c): 6.12 and 7.x.
func (l Line) SysfsReplace() bool { return l >= Line6_12 }

// SysfsStackOrder reports whether /sys/kernel/livepatch/<p>/stack_order
// exists (stack_order_show in core.c): 7.x.
func (l Line) SysfsStackOrder() bool { return l >= Line7 }

// InitErrno is the errno insmod reports when a module's init returns
// -errno: do_init_module (kernel/module/main.c) passes it through on 6.1
// and 6.12 and turns -EEXIST into -EBUSY on 7.x, since -EEXIST from
// init_module means "already loaded".
func (l Line) InitErrno(errno Errno) Errno {
	if l >= Line7 && errno == EEXIST {
		return EBUSY
	}
	return errno
}

// SwitchPoints names where a task in a livepatch transition may switch
// itself besides the periodic klp_try_complete_transition stack check and
// the return to user space: nothing more on 6.1; cond_resched()
// (__klp_sched_try_switch, transition.c) on 6.12; __schedule() of a task
// going to sleep in a TASK_FREEZABLE state (klp_sched_try_switch,
// livepatch_sched.h) on 7.x. A task sleeping inside a function the
// transition checks fails the stack check at every one of these points,
// so the model's blocked tasks behave the same on all lines.
func (l Line) SwitchPoints() string {
	switch l {
	case Line6_12:
		return "cond_resched"
	case Line7:
		return "__schedule"
	}
	return "none"
}

// SameOnAllLines lists the rules of the livepatch core that read the same
// in 6.1, 6.12 and 7.2 and were seen to behave the same, with the kernel
// functions that hold them. The model applies them to every line.
var SameOnAllLines = []string{
	"sympos lookup: klp_find_object_symbol counts same-named symbols of the object, 0 means unique (6.12 iterates one module's symbols or kallsyms_on_each_match_symbol, with the same numbering)",
	"klp_state rules: klp_is_patch_compatible, klp_is_state_compatible (state.c)",
	"shadow variables: klp_shadow_* (shadow.c)",
	"atomic replace and nops: klp_add_nops, klp_unpatch_replaced_patches, klp_discard_nops",
	"module coming/going order: klp_module_coming (oldest patch first), klp_cleanup_module_patches_limited",
	"callbacks: klp_pre_patch_callback and friends (core.h), their calls in core.c and transition.c",
	"func_stack and the ftrace handler: klp_patch_func, klp_ftrace_handler (patch.c)",
	"transition stack check, reversal and force: klp_check_stack_func, klp_reverse_transition, klp_force_transition",
	"sysfs func directories \"%s,%lu\" with sympos 0 shown as 1: klp_init_func",
	"init symbols: do_init_module switches mod->kallsyms to core_kallsyms after init (kernel/module/main.c)",
}
