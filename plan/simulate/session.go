// Package simulate is the second stage of planning: it runs operations on
// the model of the kernel's livepatch core (plan/klp) and records what the
// kernel makes of each, as a typed trace: the verdict, every function's
// implementation and func_stack, and what sysfs lists. One Session type
// serves deployments (Deployment) and the per-object upgrade procedures
// (Upgrade) alike. It judges nothing: the checks of plan/check read the
// trace.
package simulate

import (
	"cmp"
	"fmt"
	"slices"

	"github.com/klpc/klpc/kabi"
	"github.com/klpc/klpc/plan"
	"github.com/klpc/klpc/plan/klp"
)

// Kernel is what a session needs to know of a kernel build.
type Kernel interface {
	// Release is the kernel's uname -r.
	Release() string
	// HasObject reports whether the build has a module (or vmlinux).
	HasObject(object string) bool
	// Symbols answers the model's symbol lookups; nil finds everything.
	Symbols() klp.Symbols
	// Line is the kernel line whose livepatch core models the build.
	Line() klp.Line
}

// Session is one kernel, booted with some ordinary modules loaded, and the
// releases whose modules may be loaded on it.
type Session struct {
	kernel string // the kernel block's name
	facts  Kernel
	k      *klp.Kernel
	// owner maps a livepatch module to its release.
	owner map[string]*plan.Livepatch
	// keys are the functions the watched releases patch, by identity,
	// with the key the plan shows; ids lists them in a fixed order.
	keys map[klp.FuncID]string
	ids  []klp.FuncID
	// sorted is false when Watch added ids since they were last sorted.
	sorted bool
	// trace interns the steps' implementations and stacks; fkeys are the
	// keys of ids as steps show them, pos the position of each id's key
	// there, and implID/stackID the numbers last recorded per id, so an
	// unchanged function costs no lookup (see Record).
	trace     *plan.Trace
	fkeys     *plan.Keys
	pos       []int
	implID    []uint32
	stackID   []uint32
	last      []plan.Impl
	lastStack [][]*klp.Func
}

// NewSession boots a kernel with the given ordinary modules loaded.
func NewSession(kernel string, facts Kernel, modules ...string) *Session {
	resetBuilds(facts)
	return &Session{kernel: kernel, facts: facts, k: klp.NewLine(facts.Line(), facts.Symbols(), modules...),
		owner: map[string]*plan.Livepatch{}, keys: map[klp.FuncID]string{}, sorted: true,
		trace: plan.NewTrace()}
}

// SetTrace makes the session record into a trace shared with other
// sessions (a plan's deployments share one).
func (s *Session) SetTrace(t *plan.Trace) { s.trace = t }

// Watch makes the release's modules known to the session and adds the
// functions it patches on this kernel to those the trace shows.
func (s *Session) Watch(lp *plan.Livepatch) {
	b := lp.Build(s.kernel)
	if b == nil {
		return
	}
	for _, m := range b.Modules {
		s.owner[m.Name] = lp
		for _, o := range m.Objects {
			for _, f := range o.Funcs {
				id := funcID(o.Name, f)
				if _, ok := s.keys[id]; !ok {
					s.keys[id] = f.Key
					s.ids = append(s.ids, id)
					s.sorted = false
				}
			}
		}
	}
	if !s.sorted {
		slices.SortFunc(s.ids, func(a, b klp.FuncID) int {
			return cmp.Or(cmp.Compare(a.Object, b.Object), cmp.Compare(a.Name, b.Name), cmp.Compare(a.Pos, b.Pos))
		})
		s.sorted = true
	}
}

// funcID is how the model identifies a function: klp_find_func treats
// sympos 0 and 1 alike (6.1, 6.12 and 7.x).
func funcID(object string, f *plan.Func) klp.FuncID {
	return klp.FuncID{Object: object, Name: f.Name, Pos: max(f.Sympos, 1)}
}

// Insmod loads one livepatch module and lets its transition complete,
// unless a sleeping task keeps it pending.
func (s *Session) Insmod(m *plan.Module) *klp.Refusal { return s.insmod(m, 0) }

func (s *Session) insmod(m *plan.Module, prePatch klp.Errno) *klp.Refusal {
	if r := s.k.Insmod(patchSpecReturning(m, prePatch)); r != nil {
		return r
	}
	s.k.CompleteTransition()
	return nil
}

// Load inserts a release's modules, their pre_patch callbacks returning
// prePatch (0: success). For a per-object release that is the module of
// every object present now; the others come with their objects (see
// ModuleLoad). Each insmod waits for its transition.
func (s *Session) Load(b *plan.Build, prePatch klp.Errno) *klp.Refusal {
	for _, m := range b.Modules {
		if len(b.Modules) > 1 && !s.k.Loaded(m.Object()) {
			continue
		}
		if r := s.insmod(m, prePatch); r != nil {
			return r
		}
	}
	return nil
}

// Enable writes 1 to the enabled file of every loaded module of a
// release: it reverses a pending unpatching transition.
func (s *Session) Enable(b *plan.Build) *klp.Refusal { return s.eachModule(b, s.k.Enable) }

// Force writes 1 to the force file of every loaded module of a release.
func (s *Session) Force(b *plan.Build) *klp.Refusal { return s.eachModule(b, s.k.Force) }

// Block starts a task that sleeps in what a call to the function runs now.
func (s *Session) Block(task, object, function string) {
	s.k.BlockCalling(task, klp.FuncID{Object: object, Name: function, Pos: 1})
}

// Release lets a task return; a pending transition then completes.
func (s *Session) Release(task string) {
	s.k.Release(task)
	s.k.CompleteTransition()
}

// SetPrePatch makes the pre_patch callbacks of every loaded livepatch
// module with an object of that module return errno from now on.
func (s *Session) SetPrePatch(module string, errno klp.Errno) {
	for _, name := range s.k.Modules() {
		m := s.k.Module(name)
		if m.Patch == nil {
			continue
		}
		for _, o := range m.Patch.Objects {
			if o.Name == module {
				s.k.SetPrePatchErr(name, "", errno)
				break
			}
		}
	}
}

// Callbacks returns the callbacks run since the last call, as
// "<livepatch module>: <callback> <object>".
func (s *Session) Callbacks() []string {
	out := []string{}
	for _, e := range klp.CallbacksOf(s.k.TakeTrace()) {
		out = append(out, e.String())
	}
	return out
}

// Transition describes the transition left pending, or nil.
func (s *Session) Transition() *plan.Transition {
	p, target := s.k.Transition()
	if p == nil {
		return nil
	}
	t := &plan.Transition{Module: p.Module, Livepatch: p.Module, Target: "unpatched", Stuck: []string{}, Unswitched: map[string]plan.Impl{}}
	if lp := s.owner[p.Module]; lp != nil {
		t.Livepatch = lp.Name
	}
	if target == klp.Patched {
		t.Target = "patched"
	}
	for _, task := range s.k.Tasks() {
		if s.k.TaskState(task) != int(target) {
			t.Stuck = append(t.Stuck, task)
		}
	}
	after := s.Functions()
	s.Running(target != klp.Patched, func(key string, i plan.Impl) bool {
		if after[key] != i {
			t.Unswitched[key] = i
		}
		return true
	})
	return t
}

// Disable writes 0 to the enabled file of every loaded module of a
// release and waits for each transition.
func (s *Session) Disable(b *plan.Build) *klp.Refusal { return s.eachModule(b, s.k.Disable) }

// Unload removes every loaded module of a release.
func (s *Session) Unload(b *plan.Build) *klp.Refusal { return s.eachModule(b, s.k.Rmmod) }

// eachModule disables or removes every loaded module of a release. The
// modules of a per-object release whose objects never loaded are not
// there to act on; when none is, the first one answers, as the kernel
// would for a module that is not loaded.
func (s *Session) eachModule(b *plan.Build, op func(string) *klp.Refusal) *klp.Refusal {
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

// DisableModule and UnloadModule act on one livepatch module; the
// transition is left for Complete.
func (s *Session) DisableModule(name string) *klp.Refusal { return s.k.Disable(name) }

// UnloadModule removes one livepatch module.
func (s *Session) UnloadModule(name string) *klp.Refusal { return s.k.Rmmod(name) }

// InsmodPending loads one livepatch module and leaves its transition
// running, for checks of what tasks on either side of it run.
func (s *Session) InsmodPending(m *plan.Module) *klp.Refusal { return s.k.Insmod(patchSpec(m)) }

// Complete lets a running transition complete.
func (s *Session) Complete() { s.k.CompleteTransition() }

// ModuleLoad loads an ordinary module; the per-object modules of loaded
// per-object releases follow it, as their modprobe configuration does.
func (s *Session) ModuleLoad(name string) *klp.Refusal {
	if !s.facts.HasObject(name) {
		return &klp.Refusal{Errno: klp.ENOENT, Log: []string{fmt.Sprintf("modprobe: FATAL: Module %s not found in directory /lib/modules/%s", name, s.facts.Release())}}
	}
	if r := s.k.Modprobe(name); r != nil {
		return r
	}
	for _, mod := range s.k.Modules() {
		lp := s.owner[mod]
		if lp == nil || lp.Layout != kabi.LayoutPerObject {
			continue
		}
		for _, m := range lp.Build(s.kernel).Modules {
			if m.Object() == name && s.k.Module(m.Name) == nil {
				if r := s.Insmod(m); r != nil {
					return r
				}
			}
		}
	}
	return nil
}

// ModuleUnload removes an ordinary module.
func (s *Session) ModuleUnload(name string) *klp.Refusal {
	if m := s.k.Module(name); m != nil && m.Patch != nil {
		return &klp.Refusal{Errno: klp.EINVAL, Log: []string{fmt.Sprintf("%s is a livepatch module: use an unload step", name)}}
	}
	return s.k.Rmmod(name)
}

func patchSpec(m *plan.Module) klp.PatchSpec { return patchSpecReturning(m, 0) }

// patchSpecReturning is the module's klp_patch with pre_patch callbacks
// that return prePatch.
func patchSpecReturning(m *plan.Module, prePatch klp.Errno) klp.PatchSpec {
	spec := klp.PatchSpec{Module: m.Name, Replace: m.Replace}
	for _, o := range m.Objects {
		cb := o.Callbacks
		os := klp.ObjectSpec{Name: o.Name, Relocs: o.Name != kabi.Vmlinux && o.NeedsKlpRelocs(),
			Callbacks: klp.Callbacks{PrePatch: cb.PrePatch != "", PostPatch: cb.PostPatch != "", PreUnpatch: cb.PreUnpatch != "", PostUnpatch: cb.PostUnpatch != "", PrePatchErr: prePatch},
			Funcs:     make([]klp.FuncSpec, 0, len(o.Funcs))}
		for _, f := range o.Funcs {
			os.Funcs = append(os.Funcs, klp.FuncSpec{Name: f.Name, New: f.New, Sympos: f.Sympos})
		}
		if os.Relocs {
			os.RelocSymbols = relocSymbols(o)
		}
		spec.Objects = append(spec.Objects, os)
	}
	spec.States = stateSpecs(m)
	return spec
}

// stateSpecs is the klp_state array of a module.
func stateSpecs(m *plan.Module) []klp.StateSpec {
	var out []klp.StateSpec
	for _, st := range m.States {
		out = append(out, klp.StateSpec{ID: st.ID, Version: st.Version})
	}
	return out
}

// impl names what the model says runs, by release.
func (s *Session) impl(i klp.Impl) plan.Impl {
	switch {
	case i.Absent:
		return plan.Impl{Kind: plan.Absent}
	case i.Original():
		return plan.Impl{Kind: plan.Original}
	}
	name := i.Patch
	if lp := s.owner[i.Patch]; lp != nil {
		name = lp.Name
	}
	return plan.Impl{Kind: plan.Replaced, Livepatch: name, New: i.New}
}

// Functions is what every watched function runs once the running
// transition, if any, completes.
func (s *Session) Functions() map[string]plan.Impl {
	out := make(map[string]plan.Impl, len(s.ids))
	for _, id := range s.ids {
		out[s.keys[id]] = s.impl(s.k.Now(id))
	}
	return out
}

// Running is what a watched function runs for a task that has, or has not
// yet, switched to the running transition's target; its key is the one
// the plan shows. Functions are visited in a fixed order.
func (s *Session) Running(taskPatched bool, visit func(key string, i plan.Impl) bool) {
	for _, id := range s.ids {
		if !visit(s.keys[id], s.impl(s.k.Resolve(id, taskPatched))) {
			return
		}
	}
}

// Record is what every watched function runs once the running
// transition, if any, completes, and its func_stack: the trace of a step.
// The keys are fixed by the first call; Watch must not add functions
// after it.
func (s *Session) Record() plan.Functions {
	if s.fkeys == nil || len(s.pos) != len(s.ids) {
		keys := make([]string, len(s.ids))
		for i, id := range s.ids {
			keys[i] = s.keys[id]
		}
		s.fkeys = plan.NewKeys(keys)
		s.pos = make([]int, len(s.ids))
		for i, key := range keys {
			s.pos[i], _ = s.fkeys.Index(key)
		}
		s.implID = make([]uint32, len(s.ids))
		s.stackID = make([]uint32, len(s.ids))
		s.last = make([]plan.Impl, len(s.ids))
		s.lastStack = make([][]*klp.Func, len(s.ids))
		// Zero is the trace's number for no implementation and for the
		// empty stack (NewTrace), which the fresh slices already hold.
	}
	out := plan.NewFunctions(s.trace, s.fkeys)
	var scratch []plan.StackEntry
	for i, id := range s.ids {
		impl := s.impl(s.k.Now(id))
		if impl != s.last[i] {
			s.last[i] = impl
			s.implID[i] = s.trace.InternImpl(impl)
		}
		// A stack of the same klp_funcs is the same stack.
		stack := s.k.StackView(id)
		if !slices.Equal(stack, s.lastStack[i]) {
			s.lastStack[i] = append(s.lastStack[i][:0], stack...)
			scratch = scratch[:0]
			for _, f := range stack {
				e := plan.StackEntry{Module: f.Patch().Module, New: f.New, Nop: f.Nop}
				if lp := s.owner[e.Module]; lp != nil {
					e.Livepatch = lp.Name
				}
				scratch = append(scratch, e)
			}
			s.stackID[i] = s.trace.InternStack(scratch)
		}
		out.Set(s.pos[i], s.implID[i], s.stackID[i])
	}
	return out
}

// SysfsView is /sys/kernel/livepatch with the attributes of the line.
func (s *Session) SysfsView() []plan.SysfsPatch {
	out := []plan.SysfsPatch{}
	for _, p := range s.k.Sysfs() {
		out = append(out, plan.SysfsPatch{Module: p.Name, Enabled: p.Enabled, Transition: p.Transition, Replace: p.Replace, StackOrder: p.StackOrder})
	}
	return out
}

// Sysfs is what /sys/kernel/livepatch lists, oldest first, and the loaded
// livepatch modules, sorted.
func (s *Session) Sysfs() (enabled, loaded []string) {
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

// StateConflict explains why klp_is_patch_compatible would refuse a module
// now, or returns nil.
func (s *Session) StateConflict(m *plan.Module) *plan.StateConflict {
	c := s.k.StateConflict(m.Replace, stateSpecs(m))
	if c == nil {
		return nil
	}
	installed := c.Installed.Module
	if lp := s.owner[installed]; lp != nil {
		installed = lp.Name
	}
	return &plan.StateConflict{Installed: installed, ID: c.State.ID, Version: c.State.Version, New: c.New}
}
