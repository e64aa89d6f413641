package simulate

import (
	"fmt"
	"maps"
	"slices"

	"github.com/klpc/klpc/kabi"
	"github.com/klpc/klpc/plan"
	"github.com/klpc/klpc/plan/klp"
)

// Upgrades computes and runs the upgrade procedure of every per-object
// release from the per-object release before it, on every kernel it is
// built for, and records them on the releases. facts finds a kernel build
// by name (nil when unknown).
func Upgrades(releases []*plan.Livepatch, facts func(kernel string) Kernel) {
	for i, lp := range releases {
		if lp.Layout != kabi.LayoutPerObject {
			continue
		}
		for _, b := range lp.Builds {
			prev := upgradePredecessor(releases[:i], b)
			kf := facts(b.Kernel)
			if prev == nil || kf == nil {
				continue
			}
			steps := SafeUpgradeSteps(prev.Build(b.Kernel), b, prev.Name, lp.Name)
			lp.Upgrades = append(lp.Upgrades, Upgrade(prev, lp, b.Kernel, kf, steps))
		}
	}
}

// upgradePredecessor is the last earlier per-object release built for the
// same kernel that shares an object with the build.
func upgradePredecessor(earlier []*plan.Livepatch, b *plan.Build) *plan.Livepatch {
	objects := map[string]bool{}
	for _, m := range b.Modules {
		objects[m.Object()] = true
	}
	for i := len(earlier) - 1; i >= 0; i-- {
		prev := earlier[i]
		pb := prev.Build(b.Kernel)
		if prev.Layout != kabi.LayoutPerObject || pb == nil {
			continue
		}
		for _, m := range pb.Modules {
			if objects[m.Object()] {
				return prev
			}
		}
	}
	return nil
}

// SafeUpgradeSteps is the procedure from one per-object release to the
// next. Non-replace per-object modules stack: each new module goes on top
// of the old one for its object, so loading every new module first and
// only then disabling and removing the old ones never uncovers the
// original code. A replace module (the only one of its release) replaces
// the old ones itself; they are then only removed.
func SafeUpgradeSteps(pb, nb *plan.Build, prevName, nextName string) []*plan.UpgradeStep {
	var steps []*plan.UpgradeStep
	add := func(action kabi.Action, lp string, m *plan.Module) {
		steps = append(steps, &plan.UpgradeStep{Index: len(steps) + 1, Action: action, Livepatch: lp, Module: m.Name, Object: m.Object(), Functions: map[string]plan.Impl{}})
	}
	for _, m := range nb.Modules {
		add(kabi.ActionLoad, nextName, m)
	}
	replaces := slices.ContainsFunc(nb.Modules, func(m *plan.Module) bool { return m.Replace })
	for _, m := range pb.Modules {
		if !replaces {
			add(kabi.ActionDisable, prevName, m)
		}
		add(kabi.ActionUnload, prevName, m)
	}
	return steps
}

// Upgrade runs steps on a session that starts from prev fully loaded:
// every object either release patches is loaded, and so is every module of
// prev. After every step, and for tasks on either side of its transition
// while it runs, no guarded function may run the original code.
func Upgrade(prev, next *plan.Livepatch, kernel string, facts Kernel, steps []*plan.UpgradeStep) *plan.Upgrade {
	pb, nb := prev.Build(kernel), next.Build(kernel)
	u := &plan.Upgrade{From: prev.Name, Kernel: kernel, Steps: steps, Guarded: []string{}}
	targets := map[string]bool{}
	for _, b := range []*plan.Build{pb, nb} {
		for _, m := range b.Modules {
			if o := m.Object(); o != kabi.Vmlinux {
				targets[o] = true
			}
		}
	}
	s := NewSession(kernel, facts, slices.Sorted(maps.Keys(targets))...)
	s.Watch(prev)
	s.Watch(next)

	carried := map[string]bool{}
	for _, f := range next.Fixes {
		carried[f] = true
	}
	guarded := map[string]string{} // function key -> fix
	for _, m := range pb.Modules {
		for _, o := range m.Objects {
			for _, f := range o.Funcs {
				if carried[f.Fix] {
					guarded[f.Key] = f.Fix
				}
			}
		}
	}
	u.Guarded = slices.Sorted(maps.Keys(guarded))

	for _, m := range pb.Modules {
		if r := s.Insmod(m); r != nil {
			u.Reason = fmt.Sprintf("the kernel refuses to load %s of %q to start from: %s.", m.Name, prev.Name, r)
			return u
		}
	}
	// unguarded reports the first guarded function that runs the original
	// code for a task on one side of the running transition.
	unguarded := func(taskPatched bool) string {
		problem := ""
		s.Running(taskPatched, func(key string, i plan.Impl) bool {
			if fix, ok := guarded[key]; ok && i.Kind == plan.Original {
				problem = fmt.Sprintf("%s runs the original code although %q also carries fix %q, which %q patched it with", key, next.Name, fix, prev.Name)
			}
			return problem == ""
		})
		return problem
	}
	u.Verified = true
	for _, st := range steps {
		var r *klp.Refusal
		switch st.Action {
		case kabi.ActionLoad:
			if m := nb.Module(st.Module); m != nil {
				r = s.InsmodPending(m)
			} else {
				r = &klp.Refusal{Errno: klp.ENOENT, Log: []string{fmt.Sprintf("%s is not a module of %s", st.Module, next.Name)}}
			}
		case kabi.ActionDisable:
			r = s.DisableModule(st.Module)
		case kabi.ActionUnload:
			r = s.UnloadModule(st.Module)
		default:
			r = &klp.Refusal{Errno: klp.EINVAL, Log: []string{fmt.Sprintf("unknown action %q", st.Action)}}
		}
		st.OK = r == nil
		if r != nil {
			st.Reason = r.Error()
		}
		// While the transition runs, tasks are on either side of it.
		problem := unguarded(true)
		if problem == "" {
			if problem = unguarded(false); problem != "" {
				problem += " for tasks not yet switched during the transition"
			}
		}
		s.Complete()
		if problem == "" {
			problem = unguarded(true)
		}
		st.Functions = s.Functions()
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
