package plan

import (
	"fmt"

	"github.com/klpc/klpc/diag"
	"github.com/klpc/klpc/hostsnap"
	"github.com/klpc/klpc/kabi"
)

// FuncKey is the key of a function in deployment steps:
// "<object>:<function>", with ",<sympos>" when sympos is not 0.
func FuncKey(object, name string, sympos int) string {
	if sympos == 0 {
		return object + ":" + name
	}
	return fmt.Sprintf("%s:%s,%d", object, name, sympos)
}

// ImplKind says what kind of code a function runs.
type ImplKind int

// The kinds of implementation.
const (
	Original ImplKind = iota // the kernel's own code
	Absent                   // its object (a module) is not loaded
	Replaced                 // a livepatch's replacement
)

// Impl is the code a function runs.
type Impl struct {
	Kind ImplKind
	// Livepatch is the release whose module provides the replacement, and
	// New the replacement function; both empty unless Kind is Replaced.
	Livepatch string
	New       string
}

// String is "original", "absent" or "<livepatch>:<new function>", the form
// the plan JSON and the text plan show.
func (i Impl) String() string {
	switch i.Kind {
	case Absent:
		return "absent"
	case Replaced:
		return i.Livepatch + ":" + i.New
	}
	return "original"
}

// Deployment is the simulation of one deploy block: its trace.
type Deployment struct {
	Name    string
	Kernel  string
	Modules []string
	Steps   []*Step
	// From is the host snapshot the deployment starts from (deploy's
	// from), nil for a fresh boot.
	From *hostsnap.Snapshot
}

// Step is one step of a deployment and what the kernel makes of it.
type Step struct {
	Index     int // from 1
	Action    kabi.Action
	Livepatch string
	Module    string
	// Build is the module_build a module_load step loads; "" for the
	// kernel's own build.
	Build string
	// Task and Function are what a block or release step names;
	// PrePatchReturns what the step makes pre_patch callbacks return.
	Task            string
	Function        string
	PrePatchReturns string
	Expect          kabi.Expect
	// OK is the kernel's verdict; when it refuses, Errno names the error
	// it returns (such as "EINVAL"), Reason says why and Log holds what it
	// prints.
	OK     bool
	Errno  string
	Reason string
	Log    []string
	// StateConflict explains a load that klp_is_patch_compatible refuses.
	StateConflict *StateConflict
	// Functions is what every function the deployment's releases patch
	// runs after the step, and its func_stack; Before is the same before
	// the step (the Functions of the step before, or the state the
	// deployment starts from). Steps share their keys and interned values
	// (see Functions), so a fleet's thousands of steps stay small.
	Functions Functions
	Before    Functions
	// Callbacks lists the klp_callbacks the step ran, in order, as
	// "<livepatch module>: <callback> <object>".
	Callbacks []string
	// Transition is the transition the step left pending, or nil.
	Transition *Transition
	// Enabled lists the livepatch modules /sys/kernel/livepatch shows
	// after the step, oldest first.
	Enabled []string
	// Sysfs is what /sys/kernel/livepatch shows after the step, with the
	// attributes the kernel's line has.
	Sysfs []SysfsPatch
	// Loaded lists the loaded livepatch modules after the step, sorted.
	Loaded []string
	// Diagnostics holds the indexes, in the plan's diagnostics, of the
	// findings about this step.
	Diagnostics []int

	// Range is the step block and ExpectRange its expect attribute (empty
	// when unset), for diagnostics.
	Range       diag.Range
	ExpectRange diag.Range
}

// Changes lists the functions whose implementation the step changed, in
// key order.
func (s *Step) Changes() []*Change { return s.Functions.ChangesFrom(s.Before) }

// Describe is "load lp-1", "module_load nfsd", as diagnostics name a step.
func (s *Step) Describe() string {
	switch {
	case s.Livepatch != "":
		return string(s.Action) + " " + s.Livepatch
	case s.Module != "":
		return string(s.Action) + " " + s.Module
	}
	return string(s.Action)
}

// Transition is a livepatch transition that tasks keep pending: some have
// switched to its target, the sleeping ones have not.
type Transition struct {
	Livepatch string
	Module    string
	// Target is "patched" (the patch is being enabled) or "unpatched".
	Target string
	// Stuck names the tasks that have not switched to the target yet.
	Stuck []string
	// Unswitched maps the functions whose code differs for tasks that have
	// not switched yet to what those tasks run (Functions is what the
	// others run, and what every task runs once the transition completes).
	Unswitched map[string]Impl
}

// SysfsPatch is /sys/kernel/livepatch/<patch>.
type SysfsPatch struct {
	Module     string
	Enabled    bool
	Transition bool
	// Replace is nil where the line has no replace attribute (6.1).
	Replace *bool
	// StackOrder is 0 where the line has no stack_order attribute.
	StackOrder int
}

// StackEntry is one klp_func on a function's func_stack.
type StackEntry struct {
	Livepatch string // the release that owns the module
	Module    string
	New       string
	Nop       bool // a nop of atomic replace: runs the original
}

// StateConflict is why klp_is_patch_compatible refuses a patch.
type StateConflict struct {
	// Installed is the release of the installed patch carrying the state.
	Installed string
	ID        int64
	// Version is the installed state's version; New is the version the
	// new patch carries, or -1 when it does not carry the state.
	Version int64
	New     int64
}

// ChangeKind is how a function's implementation changed; its value is the
// symbol the text plan shows.
type ChangeKind string

// The kinds of change.
const (
	Patched   ChangeKind = "+" // was original or absent, now a replacement
	Repatched ChangeKind = "~" // now another replacement
	Reverted  ChangeKind = "-" // back to the original code
	Presence  ChangeKind = "*" // its module came or went
)

// Change is one function whose implementation a step changed.
type Change struct {
	Kind     ChangeKind
	Function string
	From     Impl
	To       Impl
}

// Upgrade is how a per-object release takes over from the per-object
// release before it on one kernel: the ordered load, disable and unload
// steps an operator runs, as the planner verified them on the kernel model.
type Upgrade struct {
	// From is the release being upgraded from.
	From   string
	Kernel string
	// Steps are the operations, in order.
	Steps []*UpgradeStep
	// Guarded lists, sorted, the functions the previous release patched
	// with a fix this release also carries: none of them may run the
	// original code at any point of the upgrade.
	Guarded []string
	// Verified is true when the simulation found every guarded function
	// patched after, and during, every step.
	Verified bool
	// Reason says why the procedure is not verified.
	Reason string
}

// UpgradeStep is one operation on one livepatch module.
type UpgradeStep struct {
	Index     int // from 1
	Action    kabi.Action
	Livepatch string
	Module    string
	// Object is what the module patches: a module that must be loaded for
	// a load step to apply (otherwise its modprobe configuration loads it
	// with the object), or vmlinux.
	Object string
	OK     bool
	// Reason is the kernel's refusal, or the guarded function that ran the
	// original code.
	Reason string
	// Functions maps every function either release patches to what runs
	// once the step's transition is complete, as in deployment steps.
	Functions map[string]Impl
}
