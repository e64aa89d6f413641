package simulate

import (
	"fmt"
	"strings"

	"github.com/klpc/klpc/diag"
	"github.com/klpc/klpc/hostsnap"
	"github.com/klpc/klpc/kabi"
	"github.com/klpc/klpc/lang"
	"github.com/klpc/klpc/plan"
	"github.com/klpc/klpc/plan/klp"
)

// Deployment runs the steps of a deploy block on its kernel and records
// the trace. release finds a release by name. The diagnostics are steps
// the configuration makes impossible (a release not built for the kernel,
// a module the build does not have).
func Deployment(d *lang.Deploy, release func(string) *plan.Livepatch, facts Kernel) (*plan.Deployment, diag.Diagnostics) {
	return DeploymentIn(plan.NewTrace(), d, release, facts)
}

// DeploymentIn is Deployment recording into a trace that other
// deployments share.
func DeploymentIn(t *plan.Trace, d *lang.Deploy, release func(string) *plan.Livepatch, facts Kernel) (*plan.Deployment, diag.Diagnostics) {
	var diags diag.Diagnostics
	out := &plan.Deployment{Name: d.Name, Kernel: d.Kernel.Name, Modules: []string{}, Steps: []*plan.Step{}}
	for _, m := range d.Modules {
		out.Modules = append(out.Modules, m.Value)
		if !facts.HasObject(m.Value) {
			diags = append(diags, diag.Errorf(diag.ModuleNotInKernel, lang.RangePtr(m.Range), "Module not in kernel build",
				"The kernel %q has no module %q.", d.Kernel.Name, m.Value))
		}
	}
	var s *Session
	if d.From != nil {
		var snap *hostsnap.Snapshot
		var dg *diag.Diagnostic
		if s, snap, dg = restoreFrom(d, release, facts); dg != nil {
			return out, append(diags, dg)
		}
		out.From = snap
		for _, m := range s.k.Modules() {
			if s.k.Module(m).Patch == nil {
				out.Modules = append(out.Modules, m)
			}
		}
	} else {
		s = NewSession(d.Kernel.Name, facts, out.Modules...)
	}
	s.SetTrace(t)
	// Every function any release of the deployment patches is shown.
	for _, st := range d.Steps {
		if st.Livepatch != nil {
			s.Watch(release(st.Livepatch.Name))
		}
	}
	before := s.Record()
	for i, st := range d.Steps {
		step := &plan.Step{Index: i + 1, Action: st.Action, Expect: st.ExpectValue(), Range: lang.Range(st.DeclRange), Diagnostics: []int{}}
		if st.Expect != nil {
			step.ExpectRange = lang.Range(st.Expect.Range)
		}
		if st.Module != nil {
			step.Module = st.Module.Value
		}
		if st.Build != nil {
			step.Build = st.Build.Value
		}
		step.Task, step.Function, step.PrePatchReturns = st.Task.Get(), st.Function.Get(), st.PrePatchReturns.Get()
		if st.Livepatch != nil {
			step.Livepatch = st.Livepatch.Name
		}
		if r, d := s.step(step, st, release); d != nil {
			diags = append(diags, d)
			step.Reason = r
		}
		step.Callbacks = s.Callbacks()
		step.Transition = s.Transition()
		step.Functions, step.Before = s.Record(), before
		step.Enabled, step.Loaded = s.Sysfs()
		step.Sysfs = s.SysfsView()
		before = step.Functions
		out.Steps = append(out.Steps, step)
	}
	return out, diags
}

// step performs one step and records the kernel's verdict. A step the
// configuration makes impossible is not performed: it returns the reason
// and a diagnostic.
func (s *Session) step(step *plan.Step, st *lang.Step, release func(string) *plan.Livepatch) (string, *diag.Diagnostic) {
	var build *plan.Build
	if st.Livepatch != nil {
		lp := release(st.Livepatch.Name)
		if build = lp.Build(s.kernel); build == nil {
			return fmt.Sprintf("livepatch %s has no build for kernel %s", lp.Name, s.kernel),
				diag.Errorf(diag.NotBuiltForKernel, lang.RangePtr(st.Livepatch.Range), "Livepatch not built for this kernel",
					"The step runs on kernel %q, but livepatch %q is built only for %s.",
					s.kernel, lp.Name, strings.Join(buildKernels(lp), ", "))
		}
	}
	var prePatch klp.Errno
	if st.PrePatchReturns != nil {
		prePatch = klp.Errno(kabi.Errnos[st.PrePatchReturns.Value])
	}
	var r *klp.Refusal
	switch st.Action {
	case kabi.ActionLoad:
		// klp_is_patch_compatible is asked before the load changes anything.
		conflict := s.StateConflict(build.Modules[0])
		if r = s.Load(build, prePatch); r != nil {
			step.StateConflict = conflict
		}
	case kabi.ActionDisable:
		r = s.Disable(build)
	case kabi.ActionUnload:
		r = s.Unload(build)
	case kabi.ActionEnable:
		r = s.Enable(build)
	case kabi.ActionForce:
		r = s.Force(build)
	case kabi.ActionModuleLoad:
		if st.PrePatchReturns != nil {
			s.SetPrePatch(st.Module.Value, prePatch)
		}
		build := ""
		if st.Build != nil {
			build = st.Build.Value
		}
		if reason, d := s.selectBuild(st, build); d != nil {
			return reason, d
		}
		r = s.ModuleLoad(st.Module.Value)
	case kabi.ActionModuleUnload:
		r = s.ModuleUnload(st.Module.Value)
	case kabi.ActionBlock:
		object, function, _ := strings.Cut(st.Function.Value, ":")
		s.Block(st.Task.Value, object, function)
	case kabi.ActionRelease:
		s.Release(st.Task.Value)
	}
	step.OK = r == nil
	if r != nil {
		step.Reason = r.Error()
		step.Errno = r.Errno.String()
		step.Log = append([]string{}, r.Log...)
	}
	return "", nil
}

func buildKernels(lp *plan.Livepatch) []string {
	var names []string
	for _, b := range lp.Builds {
		names = append(names, b.Kernel)
	}
	return names
}
