package plan

import (
	"fmt"
	"maps"
	"slices"
	"sort"

	"github.com/klpc/klpc/lang"
	"github.com/klpc/klpc/plan/klp"
)

// Upgrade is how a per-object release takes over from the per-object
// release before it on one kernel: the ordered load, disable and unload
// steps an operator runs, as the planner verified them on the kernel model.
type Upgrade struct {
	// From is the release being upgraded from.
	From   string `json:"from"`
	Kernel string `json:"kernel"`
	// Steps are the operations, in order.
	Steps []*UpgradeStep `json:"steps"`
	// Guarded lists, sorted, the functions the previous release patched
	// with a fix this release also carries: none of them may run the
	// original code at any point of the upgrade.
	Guarded []string `json:"guarded"`
	// Verified is true when the simulation found every guarded function
	// patched after, and during, every step.
	Verified bool `json:"verified"`
	// Reason says why the procedure is not verified.
	Reason string `json:"reason,omitempty"`
}

// The actions of an upgrade step.
const (
	UpgradeLoad    = "load"    // insmod of a new module; waits for its transition
	UpgradeDisable = "disable" // echo 0 > /sys/kernel/livepatch/<module>/enabled; waits until it is gone
	UpgradeUnload  = "unload"  // rmmod of an old module
)

// UpgradeStep is one operation on one livepatch module.
type UpgradeStep struct {
	Index     int    `json:"index"` // from 1
	Action    string `json:"action"`
	Livepatch string `json:"livepatch"`
	Module    string `json:"module"`
	// Object is what the module patches: a module that must be loaded for
	// a load step to apply (otherwise its modprobe configuration loads it
	// with the object), or vmlinux.
	Object string `json:"object"`
	OK     bool   `json:"ok"`
	// Reason is the kernel's refusal, or the guarded function that ran the
	// original code.
	Reason string `json:"reason,omitempty"`
	// Functions maps every function either release patches to what runs
	// once the step's transition is complete, as in deployment steps.
	Functions map[string]string `json:"functions"`
}

// upgrades computes and verifies the upgrade procedure of every
// per-object release from its predecessor, on every kernel it is built for.
func (pl *planner) upgrades() {
	for i, lp := range pl.plan.Livepatches {
		if lp.Layout != lang.LayoutPerObject {
			continue
		}
		for _, b := range lp.Builds {
			prev := upgradePredecessor(pl.plan.Livepatches[:i], b)
			if prev == nil || pl.builds[b.Kernel] == nil {
				continue
			}
			u := pl.upgrade(prev, lp, b.Kernel)
			lp.Upgrades = append(lp.Upgrades, u)
			if !u.Verified {
				decl := pl.cfg.Livepatch(lp.Name)
				pl.errorf(decl.NameRange.Ptr(), "Unsafe per-object upgrade",
					"Upgrading from %q to %q on kernel %q: %s Fix what the kernel refuses, or make sure %q patches every function the fixes it shares with %q patch.",
					prev.Name, lp.Name, b.Kernel, u.Reason, lp.Name, prev.Name)
			}
		}
	}
}

// upgradePredecessor is the last earlier per-object release built for the
// same kernel that shares an object with the build.
func upgradePredecessor(earlier []*Livepatch, b *Build) *Livepatch {
	objects := map[string]bool{}
	for _, m := range b.Modules {
		for _, o := range m.Objects {
			objects[o.Name] = true
		}
	}
	for i := len(earlier) - 1; i >= 0; i-- {
		prev := earlier[i]
		pb := prev.Build(b.Kernel)
		if prev.Layout != lang.LayoutPerObject || pb == nil {
			continue
		}
		for _, m := range pb.Modules {
			for _, o := range m.Objects {
				if objects[o.Name] {
					return prev
				}
			}
		}
	}
	return nil
}

// upgrade computes the procedure from prev to next on a kernel and runs
// it on the model. Non-replace per-object modules stack: each new module
// goes on top of the old one for its object, so loading every new module
// first and only then disabling and removing the old ones never uncovers
// the original code. A replace module (the only one of its release)
// replaces the old ones itself; they are then only removed.
func (pl *planner) upgrade(prev, next *Livepatch, kernel string) *Upgrade {
	steps := safeUpgradeSteps(prev.Build(kernel), next.Build(kernel), prev.Name, next.Name)
	return pl.verifyUpgrade(prev, next, kernel, steps)
}

func safeUpgradeSteps(pb, nb *Build, prevName, nextName string) []*UpgradeStep {
	var steps []*UpgradeStep
	add := func(action, lp string, m *Module) {
		steps = append(steps, &UpgradeStep{Index: len(steps) + 1, Action: action, Livepatch: lp, Module: m.Name, Object: moduleObject(m), Functions: map[string]string{}})
	}
	for _, m := range nb.Modules {
		add(UpgradeLoad, nextName, m)
	}
	replaces := slices.ContainsFunc(nb.Modules, func(m *Module) bool { return m.Replace })
	for _, m := range pb.Modules {
		if !replaces {
			add(UpgradeDisable, prevName, m)
		}
		add(UpgradeUnload, prevName, m)
	}
	return steps
}

func moduleObject(m *Module) string {
	if len(m.Objects) == 0 {
		return klp.Vmlinux
	}
	return m.Objects[0].Name
}

// verifyUpgrade runs steps on the kernel model, starting from prev fully
// loaded: every object either release patches is loaded, and so is every
// module of prev. After every step, and for tasks on either side of its
// transition while it runs, no guarded function may run the original code.
func (pl *planner) verifyUpgrade(prev, next *Livepatch, kernel string, steps []*UpgradeStep) *Upgrade {
	pb, nb := prev.Build(kernel), next.Build(kernel)
	u := &Upgrade{From: prev.Name, Kernel: kernel, Steps: steps, Guarded: []string{}}
	kb := pl.builds[kernel]
	var symbols klp.Symbols
	if kb != nil && kb.syms != nil {
		symbols = modelSymbols{kb.syms}
	}

	owner := map[string]*Livepatch{}
	keys := map[klp.FuncID]string{}
	targets := map[string]bool{}
	for _, side := range []struct {
		lp *Livepatch
		b  *Build
	}{{prev, pb}, {next, nb}} {
		for _, m := range side.b.Modules {
			owner[m.Name] = side.lp
			for _, o := range m.Objects {
				if o.Name != klp.Vmlinux {
					targets[o.Name] = true
				}
				for _, f := range o.Funcs {
					if _, ok := keys[funcIDOf(o.Name, f)]; !ok {
						keys[funcIDOf(o.Name, f)] = f.Key
					}
				}
			}
		}
	}
	carried := map[string]bool{}
	for _, f := range next.Fixes {
		carried[f] = true
	}
	guarded := map[klp.FuncID]string{} // function -> fix
	for _, m := range pb.Modules {
		for _, o := range m.Objects {
			for _, f := range o.Funcs {
				if carried[f.Fix] {
					guarded[funcIDOf(o.Name, f)] = f.Fix
				}
			}
		}
	}
	for id := range guarded {
		u.Guarded = append(u.Guarded, keys[id])
	}
	sort.Strings(u.Guarded)

	k := klp.New(symbols, slices.Sorted(maps.Keys(targets))...)
	for _, m := range pb.Modules {
		if r := k.Insmod(patchSpec(m)); r != nil {
			u.Reason = fmt.Sprintf("the kernel refuses to load %s of %q to start from: %s.", m.Name, prev.Name, r)
			return u
		}
		k.CompleteTransition()
	}
	name := func(i klp.Impl) string {
		if lp := owner[i.Patch]; lp != nil {
			return lp.Name + ":" + i.New
		}
		return i.String()
	}
	// check reports the first guarded function that runs the original
	// code for a task in the given state.
	check := func(taskPatched bool) string {
		for _, id := range sortedFuncIDs(guarded) {
			if k.Resolve(id, taskPatched).Original() {
				return fmt.Sprintf("%s runs the original code although %q also carries fix %q, which %q patched it with", keys[id], next.Name, guarded[id], prev.Name)
			}
		}
		return ""
	}
	u.Verified = true
	for _, st := range steps {
		var r *klp.Refusal
		switch st.Action {
		case UpgradeLoad:
			if m := moduleOf(nb, st.Module); m != nil {
				r = k.Insmod(patchSpec(m))
			} else {
				r = &klp.Refusal{Errno: klp.ENOENT, Log: []string{fmt.Sprintf("%s is not a module of %s", st.Module, next.Name)}}
			}
		case UpgradeDisable:
			r = k.Disable(st.Module)
		case UpgradeUnload:
			r = k.Rmmod(st.Module)
		default:
			r = &klp.Refusal{Errno: klp.EINVAL, Log: []string{fmt.Sprintf("unknown action %q", st.Action)}}
		}
		st.OK = r == nil
		if r != nil {
			st.Reason = r.Error()
		}
		// While the transition runs, tasks are on either side of it.
		problem := check(true)
		if problem == "" {
			problem = check(false)
			if problem != "" {
				problem += " for tasks not yet switched during the transition"
			}
		}
		k.CompleteTransition()
		if problem == "" {
			problem = check(true)
		}
		for id, key := range keys {
			st.Functions[key] = name(k.Now(id))
		}
		if problem != "" && st.Reason == "" {
			st.Reason = problem
		}
		if u.Verified && (r != nil || problem != "") {
			u.Verified = false
			what := problem
			if r != nil {
				what = "the kernel refuses it (" + r.Error() + ")"
				if problem != "" {
					what += " and " + problem
				}
			}
			u.Reason = fmt.Sprintf("at step %d (%s %s), %s.", st.Index, st.Action, st.Module, what)
		}
	}
	return u
}

func moduleOf(b *Build, name string) *Module {
	for _, m := range b.Modules {
		if m.Name == name {
			return m
		}
	}
	return nil
}

func sortedFuncIDs[V any](m map[klp.FuncID]V) []klp.FuncID {
	ids := make([]klp.FuncID, 0, len(m))
	for id := range m {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool {
		a, b := ids[i], ids[j]
		if a.Object != b.Object {
			return a.Object < b.Object
		}
		if a.Name != b.Name {
			return a.Name < b.Name
		}
		return a.Pos < b.Pos
	})
	return ids
}
