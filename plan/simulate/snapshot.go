package simulate

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"

	"github.com/klpc/klpc/diag"
	"github.com/klpc/klpc/hostsnap"
	"github.com/klpc/klpc/lang"
	"github.com/klpc/klpc/plan"
	"github.com/klpc/klpc/plan/klp"
)

// SnapshotError is a snapshot the session cannot start from: Code is one of
// the diag.Snapshot* codes and Field names the snapshot's field.
type SnapshotError struct {
	Code  diag.Code
	Field string
	Msg   string
}

func (e *SnapshotError) Error() string {
	if e.Field == "" {
		return e.Msg
	}
	return e.Field + ": " + e.Msg
}

// Restore brings a freshly booted session (no module loaded) to the state
// a host snapshot shows, as the host must have reached it: the modules of
// /proc/modules are loaded oldest first (the list is newest first, as
// load_module adds each module at its head), the livepatch modules among
// them with their release's build, each waiting for its transition except
// the one the snapshot shows in transition. A livepatch module is one whose
// /sys/module/<m>/version is a klpc MODULE_VERSION, or one listed in
// /sys/kernel/livepatch; it maps to the release the version names, and must
// have been built from this plan (the version's hash). Patches the snapshot
// shows disabled, and loaded klpc modules it no longer lists, are disabled
// last. The model's /sys/kernel/livepatch must then equal the snapshot's.
// Releases found are watched. release finds a release by name.
func (s *Session) Restore(snap *hostsnap.Snapshot, release func(string) *plan.Livepatch) error {
	if snap.Kernel != s.facts.Release() {
		return &SnapshotError{diag.SnapshotKernel, "kernel", fmt.Sprintf("the snapshot was taken on %s, the deployment's kernel is %s", snap.Kernel, s.facts.Release())}
	}
	if err := settledDisabled(snap); err != nil {
		return err
	}
	type lpmod struct {
		field string
		lp    *plan.Livepatch
		mod   *plan.Module
	}
	lpmods := map[string]lpmod{}
	for i, m := range snap.Modules {
		field := fmt.Sprintf("modules[%d] (%s)", i, m.Name)
		rel := plan.ReleaseOfVersion(m.Version)
		if rel == "" {
			if snap.Livepatch(m.Name) != nil {
				return &SnapshotError{diag.SnapshotNoRelease, field, fmt.Sprintf("livepatch module %s carries no klpc MODULE_VERSION (version %q): it matches no release", m.Name, m.Version)}
			}
			continue
		}
		lp := release(rel)
		if lp == nil {
			return &SnapshotError{diag.SnapshotNoRelease, field, fmt.Sprintf("version %q names release %q, which the configuration does not declare", m.Version, rel)}
		}
		b := lp.Build(s.kernel)
		var mod *plan.Module
		if b != nil {
			mod = b.Module(m.Name)
		}
		if mod == nil {
			return &SnapshotError{diag.SnapshotNoRelease, field, fmt.Sprintf("release %s has no module %s for kernel %s", rel, m.Name, s.kernel)}
		}
		if want := plan.ModuleVersion(lp.Name, s.facts.Release(), mod); want != m.Version {
			return &SnapshotError{diag.SnapshotNoRelease, field, fmt.Sprintf("module %s was built from another plan of release %s: version %q, this plan builds %q", m.Name, rel, m.Version, want)}
		}
		lpmods[m.Name] = lpmod{field, lp, mod}
		s.Watch(lp)
	}

	// The one patch in transition waits; an enabled one is the last
	// livepatch loaded, a disabled one is disabled last.
	var inTransition *hostsnap.Patch
	for i := range snap.Livepatches {
		if p := &snap.Livepatches[i]; p.Transition {
			inTransition = p
		}
	}
	for i := len(snap.Modules) - 1; i >= 0; i-- {
		m := snap.Modules[i]
		field := fmt.Sprintf("modules[%d] (%s)", i, m.Name)
		if s.k.Module(m.Name) != nil {
			continue // a per-object module that followed its object
		}
		lm, ok := lpmods[m.Name]
		if !ok {
			if !s.facts.HasObject(m.Name) {
				continue // a module no release patches: the model needs not know it
			}
			if err := s.restoreBuild(field, m); err != nil {
				return err
			}
			if r := s.ModuleLoad(m.Name); r != nil {
				return unreachable(field, "loading module "+m.Name, r)
			}
			continue
		}
		s.owner[m.Name] = lm.lp
		if r := s.k.Insmod(patchSpec(lm.mod)); r != nil {
			return unreachable(field, "loading livepatch module "+m.Name, r)
		}
		if inTransition == nil || inTransition.Name != m.Name || !inTransition.Enabled {
			s.k.CompleteTransition()
		}
	}
	for _, p := range s.k.Sysfs() {
		sp := snap.Livepatch(p.Name)
		if sp != nil && sp.Enabled || !p.Enabled {
			continue
		}
		if r := s.k.Disable(p.Name); r != nil {
			return unreachable("livepatches", "disabling "+p.Name, r)
		}
		if sp == nil || !sp.Transition {
			s.k.CompleteTransition()
		}
	}
	return compareSysfs(s.k.Sysfs(), snap)
}

// restoreBuild selects the build of an ordinary module that the snapshot's
// srcversion names (/sys/module/<name>/srcversion), so the model looks its
// symbols up in the build the host really loaded, as
// klp_find_object_symbol searches the loaded module (kernel/livepatch/
// core.c, 6.1, 6.12, 7.x). A srcversion that no known build has is an
// error: the plan would otherwise be made against symbols the host does
// not have.
func (s *Session) restoreBuild(field string, m hostsnap.Module) error {
	match, ok := s.facts.(BuildMatcher)
	if !ok || m.Srcversion == "" {
		return nil
	}
	build, known, found := match.BuildOfSrcversion(m.Name, m.Srcversion)
	if !found {
		return &SnapshotError{diag.SnapshotModuleBuild, field + ".srcversion", fmt.Sprintf("module %s has srcversion %s, which no build of the kernel has (%s); name its .ko in a module_build", m.Name, m.Srcversion, strings.Join(known, ", "))}
	}
	if build == "" {
		return nil
	}
	sel, ok := s.facts.(BuildSelector)
	if !ok {
		return nil
	}
	if err := sel.SelectBuild(m.Name, build); err != nil {
		return &SnapshotError{diag.SnapshotModuleBuild, field + ".srcversion", err.Error()}
	}
	return nil
}

// restoreFrom starts the deployment's session from the snapshot its from
// attribute names (relative to the file that names it).
func restoreFrom(d *lang.Deploy, release func(string) *plan.Livepatch, facts Kernel) (*Session, *hostsnap.Snapshot, *diag.Diagnostic) {
	rng := lang.RangePtr(d.From.Range)
	if len(d.Modules) > 0 {
		return nil, nil, diag.Errorf(diag.SnapshotUnreachable, rng, "Snapshot and modules both given",
			"A deployment that starts from a snapshot takes its modules from the snapshot; remove modules from deploy %q.", d.Name)
	}
	path := d.From.Value
	if !filepath.IsAbs(path) {
		path = filepath.Join(filepath.Dir(d.DeclRange.Filename), path)
	}
	snap, err := hostsnap.ReadFile(path)
	if err != nil {
		return nil, nil, diag.Errorf(diag.SnapshotUnreadable, rng, "Snapshot unreadable", "%s", err)
	}
	s := NewSession(d.Kernel.Name, facts)
	if err := s.Restore(snap, release); err != nil {
		code := diag.SnapshotUnreachable
		if se, ok := err.(*SnapshotError); ok {
			code = se.Code
		}
		return nil, nil, diag.Errorf(code, rng, "Snapshot does not match", "%s: %s", d.From.Value, err)
	}
	return s, snap, nil
}

func unreachable(field, what string, r *klp.Refusal) error {
	return &SnapshotError{diag.SnapshotUnreachable, field, fmt.Sprintf("the model cannot reach the snapshot's state: %s is refused (%s)", what, r.Error())}
}

// compareSysfs checks the model's /sys/kernel/livepatch against the
// snapshot's, naming the first field that differs.
func compareSysfs(model []klp.SysfsPatch, snap *hostsnap.Snapshot) error {
	bad := func(field, format string, args ...any) error {
		return &SnapshotError{diag.SnapshotUnreachable, field, "the model does not reach the snapshot's state: " + fmt.Sprintf(format, args...)}
	}
	var names, want []string
	for _, p := range model {
		names = append(names, p.Name)
	}
	for _, p := range snap.Livepatches {
		want = append(want, p.Name)
	}
	if !slices.Equal(sorted(names), sorted(want)) {
		return bad("livepatches", "the model lists [%s], the snapshot [%s]", strings.Join(names, " "), strings.Join(want, " "))
	}
	for i, sp := range snap.Livepatches {
		f := fmt.Sprintf("livepatches[%d] (%s)", i, sp.Name)
		var mp klp.SysfsPatch
		for _, p := range model {
			if p.Name == sp.Name {
				mp = p
			}
		}
		switch {
		case mp.Enabled != sp.Enabled:
			return bad(f+".enabled", "the model shows %t, the snapshot %t", mp.Enabled, sp.Enabled)
		case mp.Transition != sp.Transition:
			return bad(f+".transition", "the model shows %t, the snapshot %t", mp.Transition, sp.Transition)
		case mp.Replace != nil && sp.Replace != nil && *mp.Replace != *sp.Replace:
			return bad(f+".replace", "the model shows %t, the snapshot %t", *mp.Replace, *sp.Replace)
		case (mp.Replace == nil) != (sp.Replace == nil):
			return bad(f+".replace", "the kernel line of the model and the snapshot's kernel disagree on the replace attribute")
		case sp.StackOrder != 0 && mp.StackOrder != sp.StackOrder:
			return bad(f+".stack_order", "the model shows %d, the snapshot %d", mp.StackOrder, sp.StackOrder)
		case len(mp.Objects) != len(sp.Objects):
			return bad(f+".objects", "the model has %d objects, the snapshot %d", len(mp.Objects), len(sp.Objects))
		}
		mobjs := slices.Clone(mp.Objects)
		slices.SortFunc(mobjs, func(a, b klp.SysfsObject) int { return strings.Compare(a.Name, b.Name) })
		for j, so := range sp.Objects {
			g := fmt.Sprintf("%s.objects[%d] (%s)", f, j, so.Name)
			mo := mobjs[j]
			switch {
			case mo.Name != so.Name:
				return bad(g+".name", "the model has object %s here", mo.Name)
			case mo.Patched != so.Patched:
				return bad(g+".patched", "the model shows %t, the snapshot %t", mo.Patched, so.Patched)
			case !slices.Equal(sorted(mo.Funcs), so.Funcs):
				return bad(g+".funcs", "the model lists [%s], the snapshot [%s]", strings.Join(sorted(mo.Funcs), " "), strings.Join(so.Funcs, " "))
			}
		}
	}
	return nil
}

func sorted(s []string) []string {
	c := slices.Clone(s)
	slices.Sort(c)
	return c
}
