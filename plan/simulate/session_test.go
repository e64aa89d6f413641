package simulate

import (
	"maps"
	"slices"
	"testing"

	"github.com/klpc/klpc/diag"
	"github.com/klpc/klpc/hostsnap"
	"github.com/klpc/klpc/kabi"
	"github.com/klpc/klpc/plan"
	"github.com/klpc/klpc/plan/klp"
)

// fakeKernel is a build with vmlinux and nfsd whose symbol lookups all
// succeed (a nil klp.Symbols finds everything).
type fakeKernel struct{}

func (fakeKernel) Release() string            { return "6.1.0-56-amd64" }
func (fakeKernel) HasObject(name string) bool { return name == kabi.Vmlinux || name == "nfsd" }
func (fakeKernel) Symbols() klp.Symbols       { return nil }

const kern = "k"

func module(name string, replace bool, obj string, funcs ...string) *plan.Module {
	o := &plan.Object{Name: obj}
	for i := 0; i < len(funcs); i += 2 {
		o.Funcs = append(o.Funcs, &plan.Func{Name: funcs[i], New: funcs[i+1], Key: plan.FuncKey(obj, funcs[i], 0)})
	}
	return &plan.Module{Name: name, Replace: replace, Objects: []*plan.Object{o}}
}

func releases() (combined, perObject *plan.Livepatch) {
	combined = &plan.Livepatch{Name: "lp-1", Layout: kabi.LayoutCombined, Builds: []*plan.Build{{Kernel: kern,
		Modules: []*plan.Module{module("lp_1", false, kabi.Vmlinux, "f", "f1")}}}}
	combined.Builds[0].Modules[0].States = []*plan.State{{Name: "s", ID: 3, Version: 2}}
	perObject = &plan.Livepatch{Name: "lp-2", Layout: kabi.LayoutPerObject, Builds: []*plan.Build{{Kernel: kern,
		Modules: []*plan.Module{module("lp_2__vmlinux", false, kabi.Vmlinux, "f", "f2"), module("lp_2__nfsd", false, "nfsd", "h", "h2")}}}}
	for _, m := range perObject.Builds[0].Modules {
		m.States = []*plan.State{{Name: "s", ID: 3, Version: 1}}
	}
	return combined, perObject
}

func impl(lp, fn string) plan.Impl { return plan.Impl{Kind: plan.Replaced, Livepatch: lp, New: fn} }

func TestSession(t *testing.T) {
	lp1, lp2 := releases()
	s := NewSession(kern, fakeKernel{})
	s.Watch(lp1)
	s.Watch(lp2)
	s.Watch(&plan.Livepatch{Name: "elsewhere"}) // no build on this kernel: ignored

	want := map[string]plan.Impl{"vmlinux:f": {}, "nfsd:h": {Kind: plan.Absent}}
	if got := s.Functions(); !maps.Equal(got, want) {
		t.Fatalf("booted: functions %v, want %v", got, want)
	}

	if r := s.Load(lp1.Builds[0], 0); r != nil {
		t.Fatalf("load lp-1: %+v", r)
	}
	want["vmlinux:f"] = impl("lp-1", "f1")
	if got := s.Functions(); !maps.Equal(got, want) {
		t.Errorf("after load lp-1: %v, want %v", got, want)
	}
	if st := s.Record().Stack("vmlinux:f"); !slices.Equal(st, []plan.StackEntry{{Livepatch: "lp-1", Module: "lp_1", New: "f1"}}) {
		t.Errorf("stack %v", st)
	}
	if e, l := s.Sysfs(); !slices.Equal(e, []string{"lp_1"}) || !slices.Equal(l, []string{"lp_1"}) {
		t.Errorf("sysfs %v %v", e, l)
	}

	// lp-2 carries state 3 at a lower version: klp_is_patch_compatible
	// refuses it.
	c := s.StateConflict(lp2.Builds[0].Modules[0])
	if c == nil || *c != (plan.StateConflict{Installed: "lp-1", ID: 3, Version: 2, New: 1}) {
		t.Fatalf("state conflict %+v", c)
	}
	if r := s.Load(lp2.Builds[0], 0); r == nil {
		t.Fatal("load lp-2 accepted despite the state conflict")
	}
	for _, m := range lp2.Builds[0].Modules {
		m.States = []*plan.State{{Name: "s", ID: 3, Version: 2}}
	}
	if c := s.StateConflict(lp2.Builds[0].Modules[0]); c != nil {
		t.Fatalf("state conflict %+v with the state carried", c)
	}

	// Per-object: only the module of the loaded object goes in; nfsd's
	// follows nfsd.
	if r := s.Load(lp2.Builds[0], 0); r != nil {
		t.Fatalf("load lp-2: %+v", r)
	}
	want["vmlinux:f"] = impl("lp-2", "f2")
	if got := s.Functions(); !maps.Equal(got, want) {
		t.Errorf("after load lp-2: %v, want %v", got, want)
	}
	if r := s.ModuleLoad("nfsd"); r != nil {
		t.Fatalf("module_load nfsd: %+v", r)
	}
	want["nfsd:h"] = impl("lp-2", "h2")
	if got := s.Functions(); !maps.Equal(got, want) {
		t.Errorf("after module_load nfsd: %v, want %v", got, want)
	}
	if _, l := s.Sysfs(); !slices.Contains(l, "lp_2__nfsd") || !slices.Contains(l, "lp_2__vmlinux") {
		t.Errorf("loaded %v", l)
	}
	if r := s.ModuleLoad("xfs"); r == nil || r.Errno != klp.ENOENT {
		t.Errorf("module_load xfs: %+v, want ENOENT", r)
	}
	if r := s.ModuleUnload("lp_2__nfsd"); r == nil || r.Errno != klp.EINVAL {
		t.Errorf("module_unload of a livepatch module: %+v, want EINVAL", r)
	}

	// Disable then unload the per-object release: both modules go.
	if r := s.Disable(lp2.Builds[0]); r != nil {
		t.Fatalf("disable lp-2: %+v", r)
	}
	// Non-replace: lp-1 runs again below it.
	want["vmlinux:f"], want["nfsd:h"] = impl("lp-1", "f1"), plan.Impl{}
	if got := s.Functions(); !maps.Equal(got, want) {
		t.Errorf("after disable lp-2: %v, want %v", got, want)
	}
	if r := s.Unload(lp2.Builds[0]); r != nil {
		t.Fatalf("unload lp-2: %+v", r)
	}
	if e, l := s.Sysfs(); !slices.Equal(e, []string{"lp_1"}) || !slices.Equal(l, []string{"lp_1"}) {
		t.Errorf("sysfs after unload lp-2: %v %v", e, l)
	}
	if r := s.Unload(lp2.Builds[0]); r == nil {
		t.Error("unload of a release not loaded is accepted")
	}
}

func TestChanges(t *testing.T) {
	before := map[string]plan.Impl{"a": {}, "b": impl("x", "b1"), "c": impl("x", "c1"), "d": {Kind: plan.Absent}, "e": {}, "f": {Kind: plan.Absent}}
	after := map[string]plan.Impl{"a": impl("y", "a2"), "b": {}, "c": impl("y", "c2"), "d": {}, "e": {}, "f": impl("y", "f2")}
	var got []plan.Change
	for _, c := range plan.FunctionsOf(after, nil).ChangesFrom(plan.FunctionsOf(before, nil)) {
		got = append(got, *c)
	}
	want := []plan.Change{
		{Kind: plan.Patched, Function: "a", From: plan.Impl{}, To: impl("y", "a2")},
		{Kind: plan.Reverted, Function: "b", From: impl("x", "b1"), To: plan.Impl{}},
		{Kind: plan.Repatched, Function: "c", From: impl("x", "c1"), To: impl("y", "c2")},
		{Kind: plan.Presence, Function: "d", From: plan.Impl{Kind: plan.Absent}, To: plan.Impl{}},
		{Kind: plan.Patched, Function: "f", From: plan.Impl{Kind: plan.Absent}, To: impl("y", "f2")},
	}
	if !slices.Equal(got, want) {
		t.Errorf("changes %v, want %v", got, want)
	}
}
func (fakeKernel) Line() klp.Line { return klp.Line6_1 }

// buildsKernel is fakeKernel with two builds of nfsd told apart by
// srcversion: the kernel's own ("OWN") and module_build "fixed" ("FIXED").
type buildsKernel struct {
	fakeKernel
	selected map[string]string
}

func (k *buildsKernel) BuildOfSrcversion(module, srcversion string) (string, []string, bool) {
	switch srcversion {
	case "OWN":
		return "", nil, true
	case "FIXED":
		return "fixed", nil, true
	}
	return "", []string{"the kernel's own OWN", "fixed FIXED"}, false
}

func (k *buildsKernel) SelectBuild(module, build string) error {
	k.selected[module] = build
	return nil
}

func (k *buildsKernel) ResetBuilds() { clear(k.selected) }

// TestRestoreBuild: a snapshot's ordinary module is loaded as the build its
// srcversion names; a srcversion no build has is an error at the field.
func TestRestoreBuild(t *testing.T) {
	_, lp2 := releases()
	for _, c := range []struct {
		srcversion, want string
		err              string
	}{
		{"FIXED", "fixed", ""},
		{"OWN", "", ""},
		{"", "", ""},
		{"OTHER", "", "modules[0] (nfsd).srcversion: module nfsd has srcversion OTHER, which no build of the kernel has (the kernel's own OWN, fixed FIXED); name its .ko in a module_build"},
	} {
		k := &buildsKernel{selected: map[string]string{}}
		s := NewSession(kern, k)
		snap := &hostsnap.Snapshot{Format: 1, Kernel: "6.1.0-56-amd64", Livepatches: []hostsnap.Patch{},
			Modules: []hostsnap.Module{{Name: "nfsd", Srcversion: c.srcversion}}}
		err := s.Restore(snap, func(string) *plan.Livepatch { return lp2 })
		if c.err != "" {
			se, ok := err.(*SnapshotError)
			if !ok || se.Code != diag.SnapshotModuleBuild || se.Error() != c.err {
				t.Errorf("srcversion %q: error %v, want %s", c.srcversion, err, c.err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("srcversion %q: %v", c.srcversion, err)
		}
		if got := k.selected["nfsd"]; got != c.want {
			t.Errorf("srcversion %q: build %q selected, want %q", c.srcversion, got, c.want)
		}
		if !s.k.Loaded("nfsd") {
			t.Errorf("srcversion %q: nfsd not loaded", c.srcversion)
		}
	}
}
