package check

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/klpc/klpc/diag"
	"github.com/klpc/klpc/kabi"
	"github.com/klpc/klpc/plan"
)

// Expectation reports a step the kernel refuses although the deployment
// expects it to succeed, and a step expected to be refused that the
// kernel accepts. Refusals by klp_is_patch_compatible are left to State.
var Expectation = &Analyzer{
	Name:  "expectation",
	Doc:   "Every step's verdict must be what the deploy block expects: ok unless it says expect = \"refused\".",
	Codes: []diag.Code{diag.StepRefused, diag.StepNotRefused},
	Run: func(pass *Pass) {
		eachStep(pass.Plan, func(d *plan.Deployment, s *plan.Step) {
			switch {
			case !s.OK && s.Expect == kabi.ExpectOK && s.StateConflict == nil && s.Errno != "":
				pass.ReportStep(d, s, diag.Errorf(diag.StepRefused, s.Range.Ptr(), "Kernel refuses step",
					"In deployment %q, step %d (%s), the kernel refuses: %s. The step changes nothing. If the refusal is intended, add expect = \"refused\" to the step.",
					d.Name, s.Index, s.Describe(), strings.TrimSuffix(strings.Join(s.Log, "; "), ".")))
			case s.OK && s.Expect == kabi.ExpectRefused:
				pass.ReportStep(d, s, diag.Errorf(diag.StepNotRefused, s.ExpectRange.Ptr(), "Step is not refused",
					"In deployment %q, step %d (%s) is expected to be refused, but the kernel accepts it.", d.Name, s.Index, s.Describe()))
			}
		})
	},
}

// State explains a load that klp_is_patch_compatible (kernel/livepatch/
// state.c; the same on 6.1, 6.12 and 7.x) refuses: which installed release
// carries which state, and what the new release carries instead.
var State = &Analyzer{
	Name:  "state",
	Doc:   "A load the kernel refuses because of klp_state versions is an error naming the state, the releases and the versions.",
	Codes: []diag.Code{diag.StateIncompatible},
	Run: func(pass *Pass) {
		eachStep(pass.Plan, func(d *plan.Deployment, s *plan.Step) {
			c := s.StateConflict
			if s.OK || c == nil || s.Expect != kabi.ExpectOK {
				return
			}
			name := stateName(pass.Plan, c.Installed, d.Kernel, c.ID)
			var why string
			if c.New < 0 {
				why = fmt.Sprintf("The installed livepatch %q carries state %s (id %d, version %d); %q is a replace patch that does not carry state id %d, and a cumulative patch must handle every state already modified (klp_is_state_compatible).",
					c.Installed, name, c.ID, c.Version, s.Livepatch, c.ID)
			} else {
				why = fmt.Sprintf("The installed livepatch %q carries state %s (id %d) at version %d; %q carries version %d, and a state's version may not go down (klp_is_state_compatible).",
					c.Installed, name, c.ID, c.Version, s.Livepatch, c.New)
			}
			pass.ReportStep(d, s, diag.Errorf(diag.StateIncompatible, s.Range.Ptr(), "Incompatible livepatch state",
				"In deployment %q, step %d (%s), the kernel refuses: %s. %s The step changes nothing. If the refusal is intended, add expect = \"refused\" to the step.",
				d.Name, s.Index, s.Describe(), strings.TrimSuffix(strings.Join(s.Log, "; "), "."), why))
		})
	},
}

// stateName names a state by its declaration in a release, or by its id.
func stateName(p *plan.Plan, release, kernel string, id int64) string {
	if lp := p.Livepatch(release); lp != nil {
		if b := lp.Build(kernel); b != nil {
			for _, m := range b.Modules {
				for _, st := range m.States {
					if st.ID == id {
						return fmt.Sprintf("%q of fix %q", st.Name, st.Fix)
					}
				}
			}
		}
	}
	return fmt.Sprint(id)
}

// Regression finds the functions a replace release takes back to the
// original code although a fix of a release it replaced had patched them,
// and the release does not say it drops that fix. This is the silent
// regression of cumulative releases: klp_add_nops gives the new patch a
// nop for every function it does not patch itself.
var Regression = &Analyzer{
	Name:  "regression",
	Doc:   "A replace release must carry (or drop on purpose) every fix of the releases it replaces whose functions it would return to the original code.",
	Codes: []diag.Code{diag.ReplaceDropsFix},
	Run: func(pass *Pass) {
		for _, d := range pass.Plan.Deployments {
			var before plan.Functions
			for _, s := range d.Steps {
				if s.OK && s.Action == kabi.ActionLoad {
					if lp := pass.Plan.Livepatch(s.Livepatch); lp != nil && lp.Replace {
						regressions(pass, d, s, lp, before)
					}
				}
				before = s.Functions
			}
		}
	},
}

func regressions(pass *Pass, d *plan.Deployment, s *plan.Step, lp *plan.Livepatch, before plan.Functions) {
	carried := map[string]bool{}
	for _, f := range append(slices.Clone(lp.Fixes), lp.Drops...) {
		carried[f] = true
	}
	lost := map[string][]string{} // fix -> function keys
	by := map[string]string{}     // fix -> release that carried it
	for i, key := range before.Keys() {
		stack := before.StackAt(i)
		if len(stack) == 0 || s.Functions.Impl(key).Kind != plan.Original {
			continue
		}
		// Every fix on the function's stack is gone, not only the top one.
		for _, e := range stack {
			rel := pass.Plan.Livepatch(e.Livepatch)
			if e.Nop || rel == nil || rel == lp {
				continue
			}
			fix := rel.FixOf(d.Kernel, key)
			if fix == "" || carried[fix] || slices.Contains(lost[fix], key) {
				continue
			}
			lost[fix] = append(lost[fix], key)
			by[fix] = rel.Name
		}
	}
	for _, fix := range slices.Sorted(maps.Keys(lost)) {
		funcs := lost[fix]
		slices.Sort(funcs)
		pass.ReportStep(d, s, diag.Errorf(diag.ReplaceDropsFix, lp.FixesRange.Ptr(), "Replace release drops a fix",
			"In deployment %q, step %d (load %s) atomically replaces %q, which carried fix %q. %q does not carry that fix, so once its transition completes %s %s the original, unfixed code again. Add fix.%s to its fixes, or list it in drops if it is left out on purpose.",
			d.Name, s.Index, lp.Name, by[fix], fix, lp.Name, strings.Join(funcs, ", "), verb(len(funcs), "runs", "run"), fix).
			WithRelated("the step that loads it", s.Range))
	}
}

// Stacking warns when two non-replace releases patch one function: which
// one runs depends on the order they were loaded in, and disabling either
// changes it (klp_func stacks in patch.c).
var Stacking = &Analyzer{
	Name:  "stacking",
	Doc:   "A function patched by several loaded non-replace releases is a warning: the order of loading decides what runs.",
	Codes: []diag.Code{diag.StackedNonReplace},
	Run: func(pass *Pass) {
		eachStep(pass.Plan, func(d *plan.Deployment, s *plan.Step) {
			if !s.OK || s.Action != kabi.ActionLoad {
				return
			}
			lp := pass.Plan.Livepatch(s.Livepatch)
			if lp == nil || lp.Replace {
				return
			}
			b := lp.Build(d.Kernel)
			if b == nil {
				return
			}
			for _, m := range b.Modules {
				for _, o := range m.Objects {
					for _, f := range o.Funcs {
						stack := s.Functions.Stack(f.Key)
						if len(stack) == 0 || stack[0].Module != m.Name {
							continue // its module is not loaded, or another patch runs
						}
						var others []string
						for _, e := range stack[1:] {
							if e.Nop || e.Module == m.Name {
								continue
							}
							others = append(others, cmpOr(e.Livepatch, e.Module)+":"+e.New)
						}
						if len(others) == 0 {
							continue
						}
						pass.ReportStep(d, s, diag.Warnf(diag.StackedNonReplace, s.Range.Ptr(), "Function patched by several non-replace releases",
							"In deployment %q, step %d, %s is patched by %s (loaded now, so it runs) and also by %s. Both are non-replace, so which one runs depends on the order they were loaded in, and disabling either changes it.",
							d.Name, s.Index, f.Key, lp.Name+":"+f.New, strings.Join(others, ", ")))
					}
				}
			}
		})
	},
}

func eachStep(p *plan.Plan, visit func(*plan.Deployment, *plan.Step)) {
	for _, d := range p.Deployments {
		for _, s := range d.Steps {
			visit(d, s)
		}
	}
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func verb(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
