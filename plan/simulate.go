package plan

import (
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"

	"github.com/klpc/klpc/lang"
	"github.com/klpc/klpc/plan/klp"
)

// sim runs one deploy block on the kernel model.
type sim struct {
	pl     *planner
	decl   *lang.Deploy
	kernel *kernelBuild
	k      *klp.Kernel
	out    *Deployment

	// keys are the functions any release of the deployment touches, by
	// identity, with the key the plan shows.
	keys map[klp.FuncID]string
	// owner maps a livepatch module to its release.
	owner map[string]*Livepatch
}

func (pl *planner) deploy(d *lang.Deploy) *Deployment {
	out := &Deployment{Name: d.Name, Kernel: d.Kernel.Name, Modules: []string{}, Steps: []*Step{}}
	for _, m := range d.Modules {
		out.Modules = append(out.Modules, m.Value)
	}
	kb := pl.builds[d.Kernel.Name]
	s := &sim{pl: pl, decl: d, kernel: kb, out: out, keys: map[klp.FuncID]string{}, owner: map[string]*Livepatch{}}
	var symbols klp.Symbols
	if kb.syms != nil {
		symbols = modelSymbols{kb.syms}
	}
	s.k = klp.New(symbols, out.Modules...)
	if kb.syms != nil {
		for _, m := range d.Modules {
			if !kb.syms.hasObject(m.Value) {
				pl.errorf(m.Range.Ptr(), "Module not in kernel build", "The kernel %q has no module %q.", d.Kernel.Name, m.Value)
			}
		}
	}
	// Every function any release of the deployment patches is shown.
	for _, st := range d.Steps {
		if st.Livepatch == nil {
			continue
		}
		lp := pl.plan.Livepatch(st.Livepatch.Name)
		b := lp.Build(d.Kernel.Name)
		if b == nil {
			continue
		}
		for _, m := range b.Modules {
			s.owner[m.Name] = lp
			for _, o := range m.Objects {
				for _, f := range o.Funcs {
					id := funcIDOf(o.Name, f)
					if _, ok := s.keys[id]; !ok {
						s.keys[id] = f.Key
					}
				}
			}
		}
	}
	prev := s.functions()
	for i, st := range d.Steps {
		first := len(pl.diags)
		step := s.step(i+1, st)
		step.Diagnostics = []int{}
		for j := first; j < len(pl.diags); j++ {
			step.Diagnostics = append(step.Diagnostics, j)
		}
		step.Functions = s.functions()
		step.Changes = changes(prev, step.Functions)
		step.Enabled, step.Loaded = s.sysfs()
		prev = step.Functions
		out.Steps = append(out.Steps, step)
	}
	return out
}

func funcIDOf(object string, f *Func) klp.FuncID {
	return klp.FuncID{Object: object, Name: f.Name, Pos: max(f.Sympos, 1)}
}

// step performs one step and checks what it did.
func (s *sim) step(index int, st *lang.Step) *Step {
	out := &Step{Index: index, Action: st.Action, Expect: st.ExpectValue(), Functions: map[string]string{}, Changes: []*Change{}}
	if st.Module != nil {
		out.Module = st.Module.Value
	}
	var lp *Livepatch
	var build *Build
	if st.Livepatch != nil {
		out.Livepatch = st.Livepatch.Name
		lp = s.pl.plan.Livepatch(st.Livepatch.Name)
		build = lp.Build(s.out.Kernel)
		if build == nil {
			s.pl.errorf(st.Livepatch.Range.Ptr(), "Livepatch not built for this kernel",
				"Deployment %q runs on kernel %q, but livepatch %q is built only for %s.",
				s.out.Name, s.out.Kernel, lp.Name, strings.Join(buildKernels(lp), ", "))
			out.Reason = fmt.Sprintf("livepatch %s has no build for kernel %s", lp.Name, s.out.Kernel)
			return out
		}
	}
	before := s.snapshot()
	var r *klp.Refusal
	switch st.Action {
	case lang.ActionLoad:
		r = s.load(build)
	case lang.ActionDisable:
		r = s.eachModule(build, s.k.Disable)
	case lang.ActionUnload:
		r = s.eachModule(build, s.k.Rmmod)
	case lang.ActionModuleLoad:
		r = s.moduleLoad(st.Module.Value)
	case lang.ActionModuleUnload:
		if m := s.k.Module(st.Module.Value); m != nil && m.Patch != nil {
			r = &klp.Refusal{Errno: klp.EINVAL, Log: []string{fmt.Sprintf("%s is a livepatch module: use an unload step", st.Module.Value)}}
		} else {
			r = s.k.Rmmod(st.Module.Value)
		}
	}
	out.OK = r == nil
	if r != nil {
		out.Reason = r.Error()
		out.Errno = r.Errno.String()
	}
	s.checkExpect(st, out, r, lp)
	if r == nil && st.Action == lang.ActionLoad {
		s.checkRegressions(st, lp, before)
		s.checkStacking(st, lp, build)
	}
	return out
}

func buildKernels(lp *Livepatch) []string {
	var names []string
	for _, b := range lp.Builds {
		names = append(names, b.Kernel)
	}
	return names
}

// load inserts the release's modules. For a per-object release that is
// the module of every object present now; the others come with their
// objects (see moduleLoad). Each insmod waits for its transition.
func (s *sim) load(b *Build) *klp.Refusal {
	for _, m := range b.Modules {
		if len(b.Modules) > 1 && !s.k.Loaded(m.Objects[0].Name) {
			continue
		}
		if r := s.k.Insmod(patchSpec(m)); r != nil {
			return r
		}
		s.k.CompleteTransition()
	}
	return nil
}

// eachModule disables or removes every loaded module of a release. The
// modules of a per-object release whose objects never loaded are not
// there to act on; when none is, the first one answers, as the kernel
// would for a module that is not loaded.
func (s *sim) eachModule(b *Build, op func(string) *klp.Refusal) *klp.Refusal {
	acted := false
	for _, m := range b.Modules {
		if len(b.Modules) > 1 && s.k.Module(m.Name) == nil {
			continue
		}
		acted = true
		if r := op(m.Name); r != nil {
			return r
		}
		s.k.CompleteTransition()
	}
	if !acted {
		return op(b.Modules[0].Name)
	}
	return nil
}

// moduleLoad loads an ordinary module; the per-object modules of loaded
// per-object releases follow it, as their modprobe configuration does.
func (s *sim) moduleLoad(name string) *klp.Refusal {
	if s.kernel.syms != nil && !s.kernel.syms.hasObject(name) {
		return &klp.Refusal{Errno: klp.ENOENT, Log: []string{fmt.Sprintf("modprobe: FATAL: Module %s not found in directory /lib/modules/%s", name, s.kernel.decl.Release.Value)}}
	}
	if r := s.k.Modprobe(name); r != nil {
		return r
	}
	for _, mod := range s.k.Modules() {
		lp := s.owner[mod]
		if lp == nil || lp.Layout != lang.LayoutPerObject {
			continue
		}
		for _, m := range lp.Build(s.out.Kernel).Modules {
			if m.Objects[0].Name == name && s.k.Module(m.Name) == nil {
				if r := s.k.Insmod(patchSpec(m)); r != nil {
					return r
				}
				s.k.CompleteTransition()
			}
		}
	}
	return nil
}

func patchSpec(m *Module) klp.PatchSpec {
	spec := klp.PatchSpec{Module: m.Name, Replace: m.Replace}
	for _, o := range m.Objects {
		os := klp.ObjectSpec{Name: o.Name, Relocs: o.Name != klp.Vmlinux && hasKlpSymbols(o)}
		for _, f := range o.Funcs {
			os.Funcs = append(os.Funcs, klp.FuncSpec{Name: f.Name, New: f.New, Sympos: f.Sympos})
		}
		spec.Objects = append(spec.Objects, os)
	}
	for _, st := range m.States {
		spec.States = append(spec.States, klp.StateSpec{ID: st.ID, Version: st.Version})
	}
	return spec
}

// impl is what a function runs, with every release on its func_stack.
type impl struct {
	klp.Impl
	stack []*Livepatch
}

func (s *sim) snapshot() map[klp.FuncID]impl {
	snap := map[klp.FuncID]impl{}
	for id := range s.keys {
		i := impl{Impl: s.k.Now(id)}
		for _, f := range s.k.Stack(id) {
			if rel := s.owner[f.Patch().Module]; rel != nil && !f.Nop {
				i.stack = append(i.stack, rel)
			}
		}
		snap[id] = i
	}
	return snap
}

func (s *sim) implString(i klp.Impl) string {
	if lp := s.owner[i.Patch]; lp != nil {
		return lp.Name + ":" + i.New
	}
	return i.String()
}

func (s *sim) functions() map[string]string {
	out := map[string]string{}
	for id, key := range s.keys {
		out[key] = s.implString(s.k.Now(id))
	}
	return out
}

func (s *sim) sysfs() (enabled, loaded []string) {
	enabled, loaded = []string{}, []string{}
	for _, p := range s.k.Patches() {
		enabled = append(enabled, p.Module)
	}
	for _, m := range s.k.Modules() {
		if s.k.Module(m).Patch != nil {
			loaded = append(loaded, m)
		}
	}
	return enabled, loaded
}

func changes(before, after map[string]string) []*Change {
	out := []*Change{}
	for _, key := range slices.Sorted(maps.Keys(after)) {
		from, to := before[key], after[key]
		if from == to {
			continue
		}
		c := &Change{Function: key, From: from, To: to}
		switch {
		case from == "absent" || to == "absent":
			c.Kind = Presence
			if to != "absent" && to != "original" {
				c.Kind = Patched
			}
		case to == "original":
			c.Kind = Reverted
		case from == "original":
			c.Kind = Patched
		default:
			c.Kind = Repatched
		}
		out = append(out, c)
	}
	return out
}

// checkExpect reports a refusal nobody expected, and an expected refusal
// that did not come.
func (s *sim) checkExpect(st *lang.Step, out *Step, r *klp.Refusal, lp *Livepatch) {
	what := describeStep(st)
	switch {
	case r != nil && out.Expect == lang.ExpectOK:
		detail := fmt.Sprintf("In deployment %q, step %d (%s), the kernel refuses: %s.", s.out.Name, out.Index, what, strings.TrimSuffix(strings.Join(r.Log, "; "), "."))
		if c := s.stateConflict(st, lp); c != "" {
			detail += " " + c
		}
		detail += " The step changes nothing. If the refusal is intended, add expect = \"refused\" to the step."
		s.pl.errorf(st.DeclRange.Ptr(), "Kernel refuses step", "%s", detail)
	case r == nil && out.Expect == lang.ExpectRefused:
		s.pl.errorf(st.Expect.Range.Ptr(), "Step is not refused",
			"In deployment %q, step %d (%s) is expected to be refused, but the kernel accepts it.", s.out.Name, out.Index, what)
	}
}

// stateConflict explains a refusal by klp_is_patch_compatible.
func (s *sim) stateConflict(st *lang.Step, lp *Livepatch) string {
	if st.Action != lang.ActionLoad || lp == nil {
		return ""
	}
	m := lp.Build(s.out.Kernel).Modules[0]
	spec := patchSpec(m)
	c := s.k.StateConflict(spec.Replace, spec.States)
	if c == nil {
		return ""
	}
	old := c.Installed.Module
	if rel := s.owner[old]; rel != nil {
		old = rel.Name
	}
	name := s.stateName(old, c.State.ID)
	if c.New < 0 {
		return fmt.Sprintf("The installed livepatch %q carries state %s (id %d, version %d); %q is a replace patch that does not carry state id %d, and a cumulative patch must handle every state already modified (klp_is_state_compatible).",
			old, name, c.State.ID, c.State.Version, lp.Name, c.State.ID)
	}
	return fmt.Sprintf("The installed livepatch %q carries state %s (id %d) at version %d; %q carries version %d, and a state's version may not go down (klp_is_state_compatible).",
		old, name, c.State.ID, c.State.Version, lp.Name, c.New)
}

func (s *sim) stateName(release string, id int64) string {
	if lp := s.pl.plan.Livepatch(release); lp != nil {
		for _, m := range lp.Build(s.out.Kernel).Modules {
			for _, st := range m.States {
				if st.ID == id {
					return fmt.Sprintf("%q of fix %q", st.Name, st.Fix)
				}
			}
		}
	}
	return fmt.Sprintf("%d", id)
}

func describeStep(st *lang.Step) string {
	if st.Livepatch != nil {
		return st.Action + " " + st.Livepatch.Name
	}
	if st.Module != nil {
		return st.Action + " " + st.Module.Value
	}
	return st.Action
}

// checkRegressions finds the functions a replace release took back to
// the original code although a fix of a release it replaced had patched
// them, and the release does not say it drops that fix.
func (s *sim) checkRegressions(st *lang.Step, lp *Livepatch, before map[klp.FuncID]impl) {
	if !lp.Replace {
		return
	}
	carried := map[string]bool{}
	for _, f := range lp.Fixes {
		carried[f] = true
	}
	for _, f := range lp.Drops {
		carried[f] = true
	}
	lost := map[string][]string{} // fix -> function keys
	by := map[string]string{}     // fix -> release that carried it
	for id, b := range before {
		if now := s.k.Now(id); !now.Original() {
			continue
		}
		// Every fix on the function's stack is gone, not only the top one.
		for _, rel := range b.stack {
			fix := s.fixOf(rel, id)
			if rel == lp || fix == "" || carried[fix] || slices.Contains(lost[fix], s.keys[id]) {
				continue
			}
			lost[fix] = append(lost[fix], s.keys[id])
			by[fix] = rel.Name
		}
	}
	decl := s.pl.cfg.Livepatch(lp.Name)
	for _, fix := range slices.Sorted(maps.Keys(lost)) {
		funcs := lost[fix]
		sort.Strings(funcs)
		s.pl.diags = append(s.pl.diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Replace release drops a fix",
			Detail: fmt.Sprintf("In deployment %q, step %d (load %s, at %s) atomically replaces %q, which carried fix %q. %q does not carry that fix, so once its transition completes %s %s the original, unfixed code again. Add fix.%s to its fixes, or list it in drops if it is left out on purpose.",
				s.out.Name, len(s.out.Steps)+1, lp.Name, rangeText(st.DeclRange), by[fix], fix, lp.Name, strings.Join(funcs, ", "), verb(len(funcs), "runs", "run"), fix),
			Subject: decl.Fixes.Range.Ptr(),
		})
	}
}

// fixOf returns the fix of a release that patches a function on this
// deployment's kernel.
func (s *sim) fixOf(lp *Livepatch, id klp.FuncID) string {
	for _, m := range lp.Build(s.out.Kernel).Modules {
		for _, o := range m.Objects {
			for _, f := range o.Funcs {
				if funcIDOf(o.Name, f) == id {
					return f.Fix
				}
			}
		}
	}
	return ""
}

// checkStacking warns when two non-replace releases patch one function:
// which one runs depends on the order they were loaded in.
func (s *sim) checkStacking(st *lang.Step, lp *Livepatch, b *Build) {
	if lp.Replace {
		return
	}
	for _, m := range b.Modules {
		for _, o := range m.Objects {
			for _, f := range o.Funcs {
				stack := s.k.Stack(funcIDOf(o.Name, f))
				if len(stack) == 0 {
					continue // its module is not loaded
				}
				var others []string
				for _, g := range stack[1:] {
					if g.Nop || g.Patch().Module == m.Name {
						continue
					}
					name := g.Patch().Module
					if rel := s.owner[name]; rel != nil {
						name = rel.Name
					}
					others = append(others, fmt.Sprintf("%s:%s", name, g.New))
				}
				if len(others) == 0 || stack[0].Patch().Module != m.Name {
					continue
				}
				s.pl.warnf(st.DeclRange.Ptr(), "Function patched by several non-replace releases",
					"In deployment %q, step %d, %s is patched by %s (loaded now, so it runs) and also by %s. Both are non-replace, so which one runs depends on the order they were loaded in, and disabling either changes it.",
					s.out.Name, len(s.out.Steps)+1, s.keys[funcIDOf(o.Name, f)], lp.Name+":"+f.New, strings.Join(others, ", "))
			}
		}
	}
}

// modelSymbols lets the kernel model ask a build's symbols.
type modelSymbols struct{ src symbolSource }

func (m modelSymbols) Find(object, name string, sympos int) *klp.Refusal {
	if _, prob := m.src.resolve(object, name, sympos, "", false); prob != nil {
		return prob.refusal
	}
	return nil
}

func (m modelSymbols) Traceable(object, name string, sympos int) *klp.Refusal {
	if _, prob := m.src.resolve(object, name, sympos, "", true); prob != nil {
		return prob.refusal
	}
	return nil
}

func rangeText(r hcl.Range) string {
	return fmt.Sprintf("%s:%d:%d", r.Filename, r.Start.Line, r.Start.Column)
}

func verb(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// hasKlpSymbols reports whether the object's replacement code refers to
// symbols that need .klp.rela relocations.
func hasKlpSymbols(o *Object) bool {
	for _, s := range o.Symbols {
		if !s.Exported {
			return true
		}
	}
	return false
}
