package check

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/klpc/klpc/diag"
	"github.com/klpc/klpc/kabi"
	"github.com/klpc/klpc/plan"
)

const kernel = "deb12"

// rng is a distinct range per line, so that tests can tell subjects apart.
func rng(line int) diag.Range {
	return diag.Range{Filename: "main.klp.hcl", Start: diag.Pos{Line: line, Column: 3, Byte: line * 10}, End: diag.Pos{Line: line, Column: 9, Byte: line*10 + 6}}
}

// fn is a patched function of a release.
type fn struct{ object, name, new, fix string }

// release builds a combined release on the test kernel patching fns.
func release(name string, replace bool, line int, fixes []string, fns ...fn) *plan.Livepatch {
	m := &plan.Module{Name: kabi.ModuleName(name), Replace: replace}
	for _, f := range fns {
		var o *plan.Object
		for _, x := range m.Objects {
			if x.Name == f.object {
				o = x
			}
		}
		if o == nil {
			o = &plan.Object{Name: f.object}
			m.Objects = append(m.Objects, o)
		}
		o.Funcs = append(o.Funcs, &plan.Func{Name: f.name, New: f.new, Fix: f.fix, Key: plan.FuncKey(f.object, f.name, 0)})
	}
	return &plan.Livepatch{
		Name: name, Replace: replace, Layout: kabi.LayoutCombined, Fixes: fixes,
		Builds:    []*plan.Build{{Kernel: kernel, Modules: []*plan.Module{m}}},
		NameRange: rng(line), FixesRange: rng(line + 1),
	}
}

func entry(lp, newFn string) plan.StackEntry {
	return plan.StackEntry{Livepatch: lp, Module: kabi.ModuleName(lp), New: newFn}
}

func nop(lp string) plan.StackEntry {
	return plan.StackEntry{Livepatch: lp, Module: kabi.ModuleName(lp), Nop: true}
}

func replaced(lp, newFn string) plan.Impl {
	return plan.Impl{Kind: plan.Replaced, Livepatch: lp, New: newFn}
}

// step makes a step of the deployment at range line 100+index.
func step(index int, action kabi.Action, lp string, ok bool) *plan.Step {
	return &plan.Step{
		Index: index, Action: action, Livepatch: lp, Expect: kabi.ExpectOK, OK: ok,
		Range: rng(100 + index),
	}
}

func deployment(name string, steps ...*plan.Step) *plan.Deployment {
	return &plan.Deployment{Name: name, Kernel: kernel, Steps: steps}
}

// want is one expected finding: code, subject and step index (0: none).
type want struct {
	code    diag.Code
	subject diag.Range
	step    int
	// detail holds fragments the detail must contain.
	detail []string
}

func checkFindings(t *testing.T, got []Finding, wants ...want) {
	t.Helper()
	if len(got) != len(wants) {
		var lines []string
		for _, f := range got {
			lines = append(lines, fmt.Sprintf("%s %v: %s", f.Diag.Code, f.Diag.Subject, f.Diag.Detail))
		}
		t.Fatalf("got %d findings, want %d:\n%s", len(got), len(wants), strings.Join(lines, "\n"))
	}
	for i, w := range wants {
		f := got[i]
		if f.Diag.Code != w.code {
			t.Errorf("finding %d: code %s, want %s", i, f.Diag.Code, w.code)
		}
		if f.Diag.Subject == nil || *f.Diag.Subject != w.subject {
			t.Errorf("finding %d (%s): subject %v, want %v", i, w.code, f.Diag.Subject, w.subject)
		}
		switch {
		case w.step == 0 && (f.Step != nil || f.Deployment != nil):
			t.Errorf("finding %d (%s): attached to step %d, want no step", i, w.code, f.Step.Index)
		case w.step != 0 && (f.Step == nil || f.Deployment == nil):
			t.Errorf("finding %d (%s): attached to no step, want step %d", i, w.code, w.step)
		case w.step != 0 && f.Step.Index != w.step:
			t.Errorf("finding %d (%s): attached to step %d, want step %d", i, w.code, f.Step.Index, w.step)
		}
		for _, frag := range w.detail {
			if !strings.Contains(f.Diag.Detail, frag) {
				t.Errorf("finding %d (%s): detail lacks %q:\n%s", i, w.code, frag, f.Diag.Detail)
			}
		}
	}
}

func TestExpectation(t *testing.T) {
	lp := release("lp-1", false, 1, []string{"a"}, fn{"vmlinux", "f", "new_f", "a"})

	refused := step(1, kabi.ActionLoad, "lp-1", false)
	refused.Errno, refused.Log = "EINVAL", []string{"livepatch: first failure", "livepatch: second failure."}

	notRefused := step(2, kabi.ActionDisable, "lp-1", true)
	notRefused.Expect, notRefused.ExpectRange = kabi.ExpectRefused, rng(200)

	// Negative cases: refused as expected; a state refusal (State's);
	// refused without an errno; accepted as expected.
	refusedAsExpected := step(3, kabi.ActionUnload, "lp-1", false)
	refusedAsExpected.Errno, refusedAsExpected.Expect, refusedAsExpected.ExpectRange = "EBUSY", kabi.ExpectRefused, rng(201)
	stateRefusal := step(4, kabi.ActionLoad, "lp-1", false)
	stateRefusal.Errno, stateRefusal.StateConflict = "EINVAL", &plan.StateConflict{Installed: "lp-0", ID: 1, Version: 2, New: 1}
	noErrno := step(5, kabi.ActionLoad, "lp-1", false)
	accepted := step(6, kabi.ActionLoad, "lp-1", true)

	p := &plan.Plan{
		Livepatches: []*plan.Livepatch{lp},
		Deployments: []*plan.Deployment{deployment("fleet", refused, notRefused, refusedAsExpected, stateRefusal, noErrno, accepted)},
	}
	checkFindings(t, Run(p, Expectation),
		want{diag.StepRefused, rng(101), 1, []string{`In deployment "fleet", step 1 (load lp-1), the kernel refuses: livepatch: first failure; livepatch: second failure. The step changes nothing.`, `expect = "refused"`}},
		want{diag.StepNotRefused, rng(200), 2, []string{`In deployment "fleet", step 2 (disable lp-1) is expected to be refused, but the kernel accepts it.`}},
	)
}

func TestState(t *testing.T) {
	installed := release("lp-1", true, 1, []string{"a"}, fn{"vmlinux", "f", "new_f", "a"})
	installed.Builds[0].Modules[0].States = []*plan.State{{Name: "shadow", ID: 7, Version: 3, Fix: "a"}}
	next := release("lp-2", true, 10, []string{"b"}, fn{"vmlinux", "f", "new_f2", "b"})

	lower := step(2, kabi.ActionLoad, "lp-2", false)
	lower.Errno, lower.Log = "EINVAL", []string{"livepatch: Livepatch patch (lp_2) is not compatible with the already installed livepatches."}
	lower.StateConflict = &plan.StateConflict{Installed: "lp-1", ID: 7, Version: 3, New: 2}
	missing := step(3, kabi.ActionLoad, "lp-2", false)
	missing.Errno = "EINVAL"
	missing.StateConflict = &plan.StateConflict{Installed: "lp-1", ID: 7, Version: 3, New: -1}
	// A state id the installed release does not declare is named by id.
	unknown := step(4, kabi.ActionLoad, "lp-2", false)
	unknown.Errno = "EINVAL"
	unknown.StateConflict = &plan.StateConflict{Installed: "lp-gone", ID: 9, Version: 1, New: 0}

	// Negative: the refusal is expected; the step went through.
	expected := step(5, kabi.ActionLoad, "lp-2", false)
	expected.Errno, expected.Expect, expected.ExpectRange = "EINVAL", kabi.ExpectRefused, rng(300)
	expected.StateConflict = &plan.StateConflict{Installed: "lp-1", ID: 7, Version: 3, New: 2}
	ok := step(6, kabi.ActionLoad, "lp-2", true)
	ok.StateConflict = &plan.StateConflict{Installed: "lp-1", ID: 7, Version: 3, New: 2}

	p := &plan.Plan{
		Livepatches: []*plan.Livepatch{installed, next},
		Deployments: []*plan.Deployment{deployment("fleet", step(1, kabi.ActionLoad, "lp-1", true), lower, missing, unknown, expected, ok)},
	}
	checkFindings(t, Run(p, State),
		want{diag.StateIncompatible, rng(102), 2, []string{
			`step 2 (load lp-2), the kernel refuses: livepatch: Livepatch patch (lp_2) is not compatible with the already installed livepatches. The installed`,
			`The installed livepatch "lp-1" carries state "shadow" of fix "a" (id 7) at version 3; "lp-2" carries version 2`,
		}},
		want{diag.StateIncompatible, rng(103), 3, []string{
			`carries state "shadow" of fix "a" (id 7, version 3); "lp-2" is a replace patch that does not carry state id 7`,
		}},
		want{diag.StateIncompatible, rng(104), 4, []string{`"lp-gone" carries state 9 (id 9) at version 1; "lp-2" carries version 0`}},
	)
	// Expectation leaves every state refusal to State.
	checkFindings(t, Run(p, Expectation))
}

// regressionPlan: lp-1 (non-replace) patches f with fix a and g with fix
// b; lp-2 (non-replace) stacks on f with fix c; lp-3 (replace) patches h
// only, so its load sends f and g back to the original code.
func regressionPlan(lp3 *plan.Livepatch) *plan.Plan {
	lp1 := release("lp-1", false, 1, []string{"a", "b"}, fn{"vmlinux", "f", "f1", "a"}, fn{"vmlinux", "g", "g1", "b"}, fn{"vmlinux", "k", "k1", "b"})
	lp2 := release("lp-2", false, 10, []string{"c"}, fn{"vmlinux", "f", "f2", "c"})

	s1 := step(1, kabi.ActionLoad, "lp-1", true)
	s1.Functions = plan.FunctionsOf(nil, map[string][]plan.StackEntry{"vmlinux:f": {entry("lp-1", "f1")}, "vmlinux:g": {entry("lp-1", "g1")}, "vmlinux:k": {entry("lp-1", "k1")}})
	s2 := step(2, kabi.ActionLoad, "lp-2", true)
	s2.Functions = plan.FunctionsOf(nil, map[string][]plan.StackEntry{"vmlinux:f": {entry("lp-2", "f2"), entry("lp-1", "f1")}, "vmlinux:g": {entry("lp-1", "g1")}, "vmlinux:k": {entry("lp-1", "k1")}})
	s3 := step(3, kabi.ActionLoad, "lp-3", true)
	s3.Functions = plan.FunctionsOf(map[string]plan.Impl{"vmlinux:f": {}, "vmlinux:g": {}, "vmlinux:k": {}, "vmlinux:h": replaced("lp-3", "h3")},
		map[string][]plan.StackEntry{"vmlinux:h": {entry("lp-3", "h3")}})
	return &plan.Plan{
		Livepatches: []*plan.Livepatch{lp1, lp2, lp3},
		Deployments: []*plan.Deployment{deployment("fleet", s1, s2, s3)},
	}
}

func TestRegression(t *testing.T) {
	lp3 := func(fixes, drops []string) *plan.Livepatch {
		lp := release("lp-3", true, 20, fixes, fn{"vmlinux", "h", "h3", "d"})
		lp.Drops = drops
		return lp
	}
	// Every fix of every stack entry is reported, sorted by fix, with its
	// functions sorted and the step that loads the replace release.
	p := regressionPlan(lp3([]string{"d"}, nil))
	got := Run(p, Regression)
	checkFindings(t, got,
		want{diag.ReplaceDropsFix, rng(21), 3, []string{`step 3 (load lp-3) atomically replaces "lp-1", which carried fix "a"`, `vmlinux:f runs the original`, `Add fix.a to its fixes`}},
		want{diag.ReplaceDropsFix, rng(21), 3, []string{`which carried fix "b"`, `vmlinux:g, vmlinux:k run the original`}},
		want{diag.ReplaceDropsFix, rng(21), 3, []string{`atomically replaces "lp-2", which carried fix "c"`, `vmlinux:f runs the original`}},
	)
	for _, f := range got {
		if want := []diag.Related{{Message: "the step that loads it", Range: rng(103)}}; !slices.Equal(f.Diag.Related, want) {
			t.Errorf("related %v, want %v", f.Diag.Related, want)
		}
	}

	// A fix the release carries or drops on purpose is no regression.
	checkFindings(t, Run(regressionPlan(lp3([]string{"d", "a"}, []string{"b", "c"})), Regression))
	checkFindings(t, Run(regressionPlan(lp3([]string{"d"}, []string{"a", "b"})), Regression),
		want{diag.ReplaceDropsFix, rng(21), 3, []string{`fix "c"`}})

	// Nop entries (what an earlier replace left) name no fix.
	p = regressionPlan(lp3([]string{"d"}, nil))
	s2 := p.Deployments[0].Steps[1]
	s2.Functions = plan.FunctionsOf(nil, map[string][]plan.StackEntry{"vmlinux:f": {nop("lp-1")}, "vmlinux:g": {nop("lp-1")}})
	checkFindings(t, Run(p, Regression))

	// A function still patched after the step is not lost.
	p = regressionPlan(lp3([]string{"d"}, nil))
	s3 := p.Deployments[0].Steps[2]
	s3.Functions = plan.FunctionsOf(map[string]plan.Impl{"vmlinux:g": replaced("lp-3", "g3"), "vmlinux:k": {Kind: plan.Absent}, "vmlinux:f": replaced("lp-3", "f3"), "vmlinux:h": replaced("lp-3", "h3")},
		map[string][]plan.StackEntry{"vmlinux:h": {entry("lp-3", "h3")}})
	checkFindings(t, Run(p, Regression))

	// A non-replace release, or a refused load, regresses nothing.
	nonReplace := lp3([]string{"d"}, nil)
	nonReplace.Replace = false
	checkFindings(t, Run(regressionPlan(nonReplace), Regression))
	p = regressionPlan(lp3([]string{"d"}, nil))
	p.Deployments[0].Steps[2].OK = false
	checkFindings(t, Run(p, Regression))
}

func TestStacking(t *testing.T) {
	lp1 := release("lp-1", false, 1, []string{"a"}, fn{"vmlinux", "f", "f1", "a"})
	lp2 := release("lp-2", false, 10, []string{"b"}, fn{"vmlinux", "f", "f2", "b"}, fn{"vmlinux", "g", "g2", "b"})
	lp3 := release("lp-3", true, 20, []string{"c"}, fn{"vmlinux", "f", "f3", "c"})

	s1 := step(1, kabi.ActionLoad, "lp-1", true)
	s1.Functions = plan.FunctionsOf(nil, map[string][]plan.StackEntry{"vmlinux:f": {entry("lp-1", "f1")}})
	s2 := step(2, kabi.ActionLoad, "lp-2", true)
	s2.Functions = plan.FunctionsOf(nil, map[string][]plan.StackEntry{"vmlinux:f": {entry("lp-2", "f2"), entry("lp-1", "f1")}, "vmlinux:g": {entry("lp-2", "g2")}})
	// Negative: a replace release stacks over both; a disable.
	s3 := step(3, kabi.ActionLoad, "lp-3", true)
	s3.Functions = plan.FunctionsOf(nil, map[string][]plan.StackEntry{"vmlinux:f": {entry("lp-3", "f3"), entry("lp-2", "f2"), entry("lp-1", "f1")}})
	s4 := step(4, kabi.ActionDisable, "lp-3", true)
	s4.Functions = s2.Functions
	p := &plan.Plan{
		Livepatches: []*plan.Livepatch{lp1, lp2, lp3},
		Deployments: []*plan.Deployment{deployment("fleet", s1, s2, s3, s4)},
	}
	got := Run(p, Stacking)
	checkFindings(t, got, want{diag.StackedNonReplace, rng(102), 2, []string{
		`In deployment "fleet", step 2, vmlinux:f is patched by lp-2:f2 (loaded now, so it runs) and also by lp-1:f1.`,
	}})
	if got[0].Diag.Severity != diag.Warning {
		t.Errorf("severity %s, want warning", got[0].Diag.Severity)
	}

	// Nop entries below, a refused load, and a load whose module is not on
	// top (another patch runs) are no stacking.
	s2.Functions = plan.FunctionsOf(nil, map[string][]plan.StackEntry{"vmlinux:f": {entry("lp-2", "f2"), nop("lp-1")}})
	checkFindings(t, Run(p, Stacking))
	s2.Functions = plan.FunctionsOf(nil, map[string][]plan.StackEntry{"vmlinux:f": {entry("lp-1", "f1"), entry("lp-2", "f2")}})
	checkFindings(t, Run(p, Stacking))
	s2.Functions = plan.FunctionsOf(nil, map[string][]plan.StackEntry{"vmlinux:f": {entry("lp-2", "f2"), entry("lp-1", "f1")}})
	s2.OK = false
	checkFindings(t, Run(p, Stacking))
}

func TestRelocationsOnce(t *testing.T) {
	lp := release("lp-1", false, 1, []string{"a"}, fn{"vmlinux", "f", "f1", "a"}, fn{"nfsd", "nfsd_open", "n1", "a"}, fn{"ext4", "ext4_x", "e1", "a"})
	objs := lp.Builds[0].Modules[0].Objects
	objs[0].Symbols = []*plan.Symbol{{Name: "vmlinux_static", Fix: "a", Range: rng(40)}} // vmlinux: never warned
	objs[1].Symbols = []*plan.Symbol{
		{Name: "nfsd_exported", Exported: true, Range: rng(41)},
		{Name: "nfsd_static", Range: rng(42)},
		{Name: "nfsd_other"}, // no range: the first ranged one is the subject
	}
	objs[2].Symbols = []*plan.Symbol{{Name: "ext4_exported", Exported: true}} // exported only: no klp relocs
	// A second build with the same object is warned about once.
	second := &plan.Build{Kernel: "other", Modules: []*plan.Module{{Name: "lp_1", Objects: []*plan.Object{{Name: "nfsd", Symbols: []*plan.Symbol{{Name: "nfsd_static"}}}}}}}
	lp.Builds = append(lp.Builds, second)
	// Without a symbol range, the subject is the release.
	lp2 := release("lp-2", false, 10, []string{"b"}, fn{"ext4", "ext4_x", "e2", "b"})
	lp2.Builds[0].Modules[0].Objects[0].Symbols = []*plan.Symbol{{Name: "ext4_static"}}

	// A third build on a 6.12 kernel, which clears module relocations
	// when the module goes, is never warned about.
	cleared := &plan.Build{Kernel: "new", Modules: []*plan.Module{{Name: "lp_3", Objects: []*plan.Object{{Name: "xfs", Symbols: []*plan.Symbol{{Name: "xfs_static"}}}}}}}
	lp3 := &plan.Livepatch{Name: "lp-3", Builds: []*plan.Build{cleared}}
	p := &plan.Plan{Livepatches: []*plan.Livepatch{lp, lp2, lp3}, Kernels: []*plan.Kernel{
		{Name: kernel, Line: plan.Line{Name: "6.1"}},
		{Name: "other", Line: plan.Line{Name: "6.1"}},
		{Name: "new", Line: plan.Line{Name: "6.12", ClearsModuleRelocs: true}},
	}}
	got := Run(p, RelocationsOnce)
	checkFindings(t, got,
		want{diag.RelocationsOnce, rng(42), 0, []string{`livepatch "lp-1" refers to nfsd_static, nfsd_other of module "nfsd" through .klp.rela.nfsd sections`}},
		want{diag.RelocationsOnce, rng(10), 0, []string{`ext4_static of module "ext4"`}},
	)
	if got[0].Diag.Severity != diag.Warning {
		t.Errorf("severity %s, want warning", got[0].Diag.Severity)
	}
}

func TestUpgradeSafety(t *testing.T) {
	lp := release("lp-2", false, 5, []string{"a"}, fn{"vmlinux", "f", "f2", "a"})
	lp.Layout = kabi.LayoutPerObject
	lp.Upgrades = []*plan.Upgrade{
		{From: "lp-1", Kernel: kernel, Verified: true},
		{From: "lp-1", Kernel: "other", Reason: "vmlinux:f runs the original code after step 2 (unload lp_1__vmlinux)."},
	}
	got := Run(&plan.Plan{Livepatches: []*plan.Livepatch{lp}}, UpgradeSafety)
	checkFindings(t, got, want{diag.UnsafeUpgrade, rng(5), 0, []string{
		`Upgrading from "lp-1" to "lp-2" on kernel "other": vmlinux:f runs the original code after step 2 (unload lp_1__vmlinux). Fix what`,
	}})
	if got[0].Diag.Severity != diag.Error {
		t.Errorf("severity %s, want error", got[0].Diag.Severity)
	}
}

// TestApply checks that step findings land on their step, indexed into
// the plan's diagnostics in deployment order, before release findings.
func TestApply(t *testing.T) {
	p := regressionPlan(release("lp-3", true, 20, []string{"d"}, fn{"vmlinux", "h", "h3", "d"}))
	p.Livepatches[0].Builds[0].Modules[0].Objects[0].Symbols = nil
	s1, s2, s3 := p.Deployments[0].Steps[0], p.Deployments[0].Steps[1], p.Deployments[0].Steps[2]
	s1.OK, s1.Errno = false, "ENOENT" // a refusal (Expectation) on step 1
	s1.Log = []string{"insmod: ERROR."}
	lp2 := p.Livepatch("lp-2")
	lp2.Upgrades = []*plan.Upgrade{{From: "lp-1", Kernel: kernel, Reason: "no."}}
	mod := p.Livepatch("lp-1").Builds[0].Modules[0]
	mod.Objects = append(mod.Objects, &plan.Object{Name: "nfsd", Symbols: []*plan.Symbol{{Name: "s", Range: rng(50)}}})
	second := deployment("second", step(1, kabi.ActionDisable, "lp-1", true))
	second.Steps[0].Expect, second.Steps[0].ExpectRange = kabi.ExpectRefused, rng(60)
	p.Deployments = append(p.Deployments, second)
	p.Diagnostics = diag.Diagnostics{diag.Errorf(diag.SymbolNotFound, nil, "earlier", "from resolve")}
	p.Kernels = []*plan.Kernel{{Name: kernel, Line: plan.Line{Name: "6.1"}}}

	Apply(p)
	codes := p.Diagnostics.Codes()
	wantCodes := []diag.Code{
		diag.SymbolNotFound,                                              // kept first
		diag.StepRefused,                                                 // fleet step 1
		diag.StackedNonReplace,                                           // fleet step 2
		diag.ReplaceDropsFix, diag.ReplaceDropsFix, diag.ReplaceDropsFix, // fleet step 3
		diag.StepNotRefused,                      // second step 1
		diag.RelocationsOnce, diag.UnsafeUpgrade, // releases, in analyzer order
	}
	if !slices.Equal(codes, wantCodes) {
		t.Fatalf("codes %v, want %v", codes, wantCodes)
	}
	for _, c := range []struct {
		s    *plan.Step
		want []int
	}{{s1, []int{1}}, {s2, []int{2}}, {s3, []int{3, 4, 5}}, {second.Steps[0], []int{6}}} {
		if !slices.Equal(c.s.Diagnostics, c.want) {
			t.Errorf("step %d: diagnostics %v, want %v", c.s.Index, c.s.Diagnostics, c.want)
		}
	}
}

// TestAnalyzers checks every analyzer is listed once, documented, and
// reports only the codes it declares.
func TestAnalyzers(t *testing.T) {
	names := map[string]bool{}
	for _, a := range All {
		if a.Name == "" || a.Doc == "" || len(a.Codes) == 0 || a.Run == nil || names[a.Name] {
			t.Errorf("analyzer %q: incomplete or listed twice", a.Name)
		}
		names[a.Name] = true
	}
	p := regressionPlan(release("lp-3", true, 20, []string{"d"}, fn{"vmlinux", "h", "h3", "d"}))
	p.Deployments[0].Steps[0].OK, p.Deployments[0].Steps[0].Errno = false, "EINVAL"
	for _, a := range All {
		for _, f := range Run(p, a) {
			if !slices.Contains(a.Codes, f.Diag.Code) {
				t.Errorf("analyzer %s reported %s, which it does not declare", a.Name, f.Diag.Code)
			}
		}
	}
}
