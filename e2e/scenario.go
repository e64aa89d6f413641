package e2e

import (
	"fmt"
	"regexp"
	"sort"
	"strings"

	"github.com/klpc/klpc/kabi"
)

// Actions a Step may perform.
const (
	// ActionLoad inserts a livepatch module (insmod); its init enables the patch.
	ActionLoad = kabi.ActionLoad
	// ActionDisable writes 0 to /sys/kernel/livepatch/<module>/enabled.
	ActionDisable = kabi.ActionDisable
	// ActionUnload removes a livepatch module (rmmod).
	ActionUnload = kabi.ActionUnload
	// ActionModuleLoad inserts an ordinary module (insmod).
	ActionModuleLoad = kabi.ActionModuleLoad
	// ActionModuleUnload removes an ordinary module (rmmod).
	ActionModuleUnload = kabi.ActionModuleUnload
	// ActionEnable writes 1 to /sys/kernel/livepatch/<module>/enabled (the
	// kernel accepts it only to reverse a pending unpatching transition).
	ActionEnable kabi.Action = "enable"
	// ActionForce writes 1 to /sys/kernel/livepatch/<module>/force.
	ActionForce kabi.Action = "force"
	// ActionBlock starts the probe module's task Step.Task, a kernel thread
	// that sleeps in klpc_probe_sleep() until released.
	ActionBlock kabi.Action = "block"
	// ActionRelease lets the task Step.Task return and end.
	ActionRelease kabi.Action = "release"
	// ActionParam writes Step.Value to the module parameter Step.Param of
	// the loaded module Step.Module (/sys/module/<module>/parameters/<param>).
	ActionParam kabi.Action = "param"
)

// ProbeSleep is the probe module's function block steps sleep in.
const ProbeSleep = "klpc_probe:klpc_probe_sleep"

// Keys of the functions the guest can watch in vmlinux.
const (
	ObserveCmdline = "vmlinux:cmdline_proc_show"
	ObserveVersion = "vmlinux:version_proc_show"
	ObserveMeminfo = "vmlinux:meminfo_proc_show"
)

// ProbeModule is the name of the probe module built from e2e/probe; its
// functions are watched as "klpc_probe:<function>".
const ProbeModule = "klpc_probe"

// ProbeFunctions lists the functions of the probe module, in the order
// /proc/klpc_probe prints them.
// klpc_probe_sleep is watched through a call that does not sleep, and
// klpc_probe_init_fn (an __init function) reports what ran when the module
// loaded.
var ProbeFunctions = []string{"klpc_probe_alpha", "klpc_probe_beta", "klpc_probe_gamma", "klpc_probe_delta",
	"klpc_probe_sleep", "klpc_probe_init_fn"}

// Values an observed function can have besides a replacement's identity.
const (
	// Original means the function runs its original code.
	Original = "original"
	// Absent means the object holding the function is not loaded.
	Absent = "absent"
)

// Step is one deployment step performed in the guest.
type Step struct {
	// Action is one of the Action constants.
	Action kabi.Action
	// Module is the module's name as kbuild names it: the basename of its .ko.
	// Load actions look it up in Scenario.Modules; the others address the
	// loaded module, with '-' read as '_' as the kernel does.
	Module string
	// Params are the module parameters of a load or module_load, such as
	// "pre_patch_ret=-19".
	Params string
	// Task names the task of a block or release step (1 to 10 letters,
	// digits, '_' or '-'; its thread is "klpc-<task>").
	Task string
	// Function is where a block step's task sleeps; only ProbeSleep.
	Function string
	// Param and Value are the parameter and value of an ActionParam step.
	Param, Value string
	// File, when set, is the .ko a load action inserts instead of
	// Scenario.Modules[Module]: another build of the module.
	File string
}

func (s Step) String() string {
	switch s.Action {
	case ActionBlock:
		return fmt.Sprintf("block %s in %s", s.Task, s.Function)
	case ActionRelease:
		return "release " + s.Task
	case ActionParam:
		return fmt.Sprintf("param %s %s=%s", s.Module, s.Param, s.Value)
	}
	if s.Params != "" {
		return string(s.Action) + " " + s.Module + " " + s.Params
	}
	return string(s.Action) + " " + s.Module
}

// arg is the step's one argument for the guest's step function, besides
// its module: the parameters of a load, the task of a block or release,
// "param value" of a param step.
func (s Step) arg() string {
	switch s.Action {
	case ActionLoad, ActionModuleLoad:
		return s.Params
	case ActionBlock, ActionRelease:
		return s.Task
	case ActionParam:
		return s.Param + " " + s.Value
	}
	return ""
}

// Scenario is a sequence of steps performed on a freshly cleaned kernel.
type Scenario struct {
	// Name identifies the scenario in results and errors.
	Name string
	// Modules maps each module name used by a load action or Preload to the
	// path of its built .ko file.
	Modules map[string]string
	// Preload names ordinary modules inserted, in order, before the first step.
	Preload []string
	// Steps are performed in order; each is followed by an observation.
	Steps []Step
	// Observe lists the watched functions, such as ObserveCmdline or
	// "klpc_probe:klpc_probe_alpha".
	Observe []string
	// Isolate stops the guest after the scenario, so that the scenarios
	// after it run in a fresh boot: for scenarios that leave the kernel in
	// a state no cleanup undoes, such as a patch of an __init function
	// disabled after the init (6.1's klp_unpatch_func leaves its klp_ops
	// behind when ftrace_location no longer finds the freed init code).
	Isolate bool
	// Snapshots takes a host snapshot (scripts/klpc-snapshot.sh, run by
	// the guest's busybox sh) after every step, in Observation.Snapshot.
	Snapshots bool
}

// SysfsPatch is one entry of /sys/kernel/livepatch.
type SysfsPatch struct {
	Name       string
	Enabled    bool
	Transition bool
}

// Task is one of the probe module's sleeping tasks.
type Task struct {
	Name string
	PID  int
	// PatchState is /proc/<pid>/patch_state: -1 when no transition is in
	// progress, else 0 (unpatched) or 1 (patched).
	PatchState int
	// Running is the identity of the klpc_probe_sleep implementation the
	// task sleeps in ("original" or "<module>:<function>").
	Running string
}

// Transition is a pending livepatch transition as the guest saw it.
type Transition struct {
	// Patch is the livepatch module in transition.
	Patch string
	// Target is "patched" or "unpatched" (what its enabled attribute says).
	Target string
	// Stuck lists, sorted, the probe tasks that have not switched to the
	// target.
	Stuck []string
}

func (tr *Transition) String() string {
	if tr == nil {
		return "none"
	}
	return fmt.Sprintf("%s to %s, stuck: [%s]", tr.Patch, tr.Target, strings.Join(tr.Stuck, " "))
}

// Observation is what the guest saw after one step (or after the preloads).
type Observation struct {
	// Step is the step performed; zero for the observation after the preloads.
	Step Step
	// OK reports whether the step's command succeeded (exit status 0).
	OK bool
	// ExitStatus is the exit status of insmod, rmmod or the sysfs write.
	ExitStatus int
	// Errno names the error the command reported, such as "EINVAL", when it
	// could be recognised from Message; empty when the command succeeded.
	Errno string
	// Message is the command's output, such as "insmod: can't insert
	// 'x.ko': Invalid argument".
	Message string
	// Kmsg holds the new kernel log lines that mention livepatch, without
	// their timestamps.
	Kmsg []string
	// Dmesg holds all new kernel log lines, without their timestamps.
	Dmesg []string
	// Livepatches lists /sys/kernel/livepatch, sorted by name.
	Livepatches []SysfsPatch
	// Sysfs holds the livepatch attributes that only some kernel lines
	// have, by "<patch>/<attribute>": "replace" (6.12 and later) and
	// "stack_order" (7.x); nil when there are none.
	Sysfs map[string]string
	// Modules lists the loaded modules, sorted.
	Modules []string
	// Functions maps each watched function to Original, Absent or the text
	// its replacement printed (by convention "<module>:<function>").
	Functions map[string]string
	// Callbacks lists the klp_callbacks that logged a "klpc-cb " line during
	// the step, in order, as the text after that prefix: by convention
	// "<livepatch module>: <callback> <object>", followed for a module
	// object by " (<module state>)", such as "(MODULE_STATE_COMING)".
	Callbacks []string
	// Tasks lists the probe module's sleeping tasks, sorted by name.
	Tasks []Task
	// Snapshot is the JSON scripts/klpc-snapshot.sh printed after the
	// step, when the scenario asks for Snapshots.
	Snapshot string
	// TransitionTimeout reports that a livepatch transition (or the release
	// of a disabled patch) had not finished when the guest stopped waiting;
	// the rest of the observation was taken anyway.
	TransitionTimeout bool
}

// Result is what happened to one scenario.
type Result struct {
	Scenario string
	// Setup is the observation after the preloads, before the first step.
	Setup Observation
	// Steps holds one observation per step, in order. It is shorter than
	// the scenario's steps only when the scenario did not complete.
	Steps []Observation
	// StartedClean reports that no livepatch and no module was present when
	// the scenario began.
	StartedClean bool
	// Clean reports that the cleanup after the scenario (disable every patch,
	// remove every module) left no livepatch and no module behind.
	Clean bool
	// Boot counts the guest boots of this Run before the one that ran the
	// scenario (0 for the first).
	Boot int
	// Err describes why the scenario did not complete or could not be
	// trusted (a failed preload, a guest that died); empty otherwise.
	Err string
}

var (
	moduleNameRE = regexp.MustCompile(`^[A-Za-z0-9_-]{1,55}$`)
	taskNameRE   = regexp.MustCompile(`^[A-Za-z0-9_-]{1,10}$`)
	// paramsRE bounds what a step passes to the guest's shell.
	paramsRE = regexp.MustCompile(`^[A-Za-z0-9_=,.+ -]{0,200}$`)
	paramRE  = regexp.MustCompile(`^[A-Za-z0-9_]{1,64}$`)
)

// Transition returns the pending transition the observation shows, or nil:
// the patch whose transition attribute is 1, its target (from its enabled
// attribute, which the kernel sets to the target) and the probe tasks whose
// patch_state is not the target yet.
func (ob *Observation) Transition() *Transition {
	for _, lp := range ob.Livepatches {
		if !lp.Transition {
			continue
		}
		tr := &Transition{Patch: lp.Name, Target: "unpatched"}
		want := 0
		if lp.Enabled {
			tr.Target, want = "patched", 1
		}
		for _, t := range ob.Tasks {
			if t.PatchState != want {
				tr.Stuck = append(tr.Stuck, t.Name)
			}
		}
		sort.Strings(tr.Stuck)
		return tr
	}
	return nil
}

// vmlinuxSources maps each watchable vmlinux function to the /proc file
// that calls it.
var vmlinuxSources = map[string]string{
	"cmdline_proc_show": "cmdline",
	"version_proc_show": "version",
	"meminfo_proc_show": "meminfo",
}

// kernelName is the name the kernel gives a module called name by kbuild.
func kernelName(name string) string { return strings.ReplaceAll(name, "-", "_") }

// source returns the /proc source that watches key ("object:function").
func source(key string) (string, error) {
	obj, fn, ok := strings.Cut(key, ":")
	if !ok || obj == "" || fn == "" {
		return "", fmt.Errorf("watched function %q is not of the form object:function", key)
	}
	switch obj {
	case "vmlinux":
		if src, ok := vmlinuxSources[fn]; ok {
			return src, nil
		}
		return "", fmt.Errorf("watched function %q: vmlinux functions that can be watched are cmdline_proc_show, version_proc_show and meminfo_proc_show", key)
	case ProbeModule:
		for _, p := range ProbeFunctions {
			if p == fn {
				return ProbeModule, nil
			}
		}
		return "", fmt.Errorf("watched function %q: klpc_probe has %s", key, strings.Join(ProbeFunctions, ", "))
	}
	return "", fmt.Errorf("watched function %q: only vmlinux and %s functions can be watched", key, ProbeModule)
}

// validate checks a scenario before anything is built or booted.
func (sc *Scenario) validate() error {
	if sc.Name == "" {
		return fmt.Errorf("scenario without a name")
	}
	for name, path := range sc.Modules {
		if !moduleNameRE.MatchString(name) {
			return fmt.Errorf("scenario %q: bad module name %q", sc.Name, name)
		}
		if path == "" {
			return fmt.Errorf("scenario %q: module %q has no .ko path", sc.Name, name)
		}
	}
	need := func(name, what string) error {
		if _, ok := sc.Modules[name]; !ok {
			return fmt.Errorf("scenario %q: %s names module %q, which Modules does not list", sc.Name, what, name)
		}
		return nil
	}
	for _, m := range sc.Preload {
		if err := need(m, "Preload"); err != nil {
			return err
		}
	}
	for i, st := range sc.Steps {
		what := fmt.Sprintf("step %d (%s)", i+1, st)
		switch st.Action {
		case ActionLoad, ActionModuleLoad:
			if st.File != "" {
				if !moduleNameRE.MatchString(st.Module) {
					return fmt.Errorf("scenario %q: %s: bad module name %q", sc.Name, what, st.Module)
				}
			} else if err := need(st.Module, what); err != nil {
				return err
			}
			if !paramsRE.MatchString(st.Params) {
				return fmt.Errorf("scenario %q: %s: bad module parameters %q", sc.Name, what, st.Params)
			}
		case ActionDisable, ActionUnload, ActionModuleUnload, ActionEnable, ActionForce:
			if !moduleNameRE.MatchString(st.Module) {
				return fmt.Errorf("scenario %q: %s: bad module name %q", sc.Name, what, st.Module)
			}
		case ActionBlock, ActionRelease:
			if !taskNameRE.MatchString(st.Task) {
				return fmt.Errorf("scenario %q: %s: bad task name %q (1 to 10 letters, digits, '_' or '-')", sc.Name, what, st.Task)
			}
			if st.Action == ActionBlock && st.Function != ProbeSleep {
				return fmt.Errorf("scenario %q: %s: a task can only sleep in %s", sc.Name, what, ProbeSleep)
			}
		case ActionParam:
			if !moduleNameRE.MatchString(st.Module) || !paramRE.MatchString(st.Param) || !paramsRE.MatchString(st.Value) || st.Value == "" {
				return fmt.Errorf("scenario %q: %s: bad module parameter", sc.Name, what)
			}
		default:
			return fmt.Errorf("scenario %q: %s: unknown action %q", sc.Name, what, st.Action)
		}
	}
	for _, key := range sc.Observe {
		if _, err := source(key); err != nil {
			return fmt.Errorf("scenario %q: %v", sc.Name, err)
		}
	}
	return nil
}

// livepatchModules returns the kernel names of the modules the scenario loads
// as livepatches, sorted.
func (sc *Scenario) livepatchModules() []string {
	set := map[string]bool{}
	for _, st := range sc.Steps {
		if st.Action == ActionLoad {
			set[kernelName(st.Module)] = true
		}
	}
	return sortedKeys(set)
}

// sources returns the /proc sources the scenario's watched functions need, sorted.
func (sc *Scenario) sources() []string {
	set := map[string]bool{}
	for _, key := range sc.Observe {
		if src, err := source(key); err == nil {
			set[src] = true
		}
	}
	return sortedKeys(set)
}

func sortedKeys(set map[string]bool) []string {
	out := make([]string, 0, len(set))
	for k := range set {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
