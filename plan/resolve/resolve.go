// Package resolve is the first stage of planning: it reads the kernel
// builds a configuration names (through package target and its index
// cache) and resolves every release on every kernel it is built for: the
// modules, klp_objects and klp_funcs with the sympos each function has on
// that build. It finds what the text alone cannot tell: functions that do
// not exist, are ambiguous, not traceable or not functions on a build;
// releases whose fixes conflict. It simulates nothing.
package resolve

import (
	"strings"

	"github.com/klpc/klpc/diag"
	"github.com/klpc/klpc/internal/safeio"
	"github.com/klpc/klpc/kabi"
	"github.com/klpc/klpc/lang"
	"github.com/klpc/klpc/plan"
	"github.com/klpc/klpc/target"
)

// Options tune resolution.
type Options struct {
	// NoCache reads kernel builds afresh instead of from the index cache.
	NoCache bool
}

// Result is what resolution hands to simulation.
type Result struct {
	Kernels     []*plan.Kernel
	Fixes       []*plan.Fix
	Livepatches []*plan.Livepatch
	// Builds holds every kernel block with its symbols, by name.
	Builds map[string]*KernelBuild
}

type resolver struct {
	// livepatchModules are the module names of the configuration's own
	// releases: a fix may patch one of them (klp_module_coming runs for
	// livepatch modules too), and no kernel build ships them.
	livepatchModules map[string]bool
	// budget bounds the bytes decompressed while reading every kernel
	// build of the run together.
	budget *safeio.Budget
	// shared holds the builds of this run: kernel blocks that name the
	// same files share one loaded target.Build.
	shared *target.Shared
	cfg    *lang.Config
	opts   Options
	diags  diag.Diagnostics
	builds map[string]*KernelBuild
	// unexportedSeen: the (kernel, fix, symbol) already reported by
	// checkUnexported.
	unexportedSeen map[string]bool
	// sources holds each fix source checkUnexported read and scanned, by
	// absolute path: a source is read and scanned once per run, however
	// many releases and kernels carry its fix.
	sources map[string]*scannedSource
	// funcs interns the resolved klp_funcs: a function's klp_func is the
	// same value in every release that carries its fix and on every
	// kernel where it resolves alike, so builds share one.
	funcs map[plan.Func]*plan.Func
	// resolved is the kernel builds' shared cache of symbol lookups.
	resolved map[resolveKey]int
}

// Resolve resolves a configuration whose references hold (lang reported
// no errors).
func Resolve(cfg *lang.Config, opts Options) (*Result, diag.Diagnostics) {
	r := &resolver{cfg: cfg, opts: opts, builds: map[string]*KernelBuild{}, budget: safeio.NewBudget(safeio.DefaultBudget),
		shared:           target.NewShared(),
		livepatchModules: livepatchModules(cfg)}
	out := &Result{Kernels: []*plan.Kernel{}, Fixes: []*plan.Fix{}, Livepatches: []*plan.Livepatch{}, Builds: r.builds}
	for _, k := range cfg.Kernels {
		out.Kernels = append(out.Kernels, r.kernel(k))
	}
	for _, f := range cfg.Fixes {
		out.Fixes = append(out.Fixes, planFix(f))
	}
	for _, l := range cfg.Livepatches {
		out.Livepatches = append(out.Livepatches, r.livepatch(l))
	}
	return out, r.diags
}

func (r *resolver) errorf(code diag.Code, rng *diag.Range, summary, format string, args ...any) *diag.Diagnostic {
	d := diag.Errorf(code, rng, summary, format, args...)
	r.diags = append(r.diags, d)
	return d
}

func (r *resolver) warnf(code diag.Code, rng *diag.Range, summary, format string, args ...any) {
	r.diags = append(r.diags, diag.Warnf(code, rng, summary, format, args...))
}

// livepatchModules lists the module names every release of the
// configuration builds.
func livepatchModules(cfg *lang.Config) map[string]bool {
	out := map[string]bool{}
	for _, l := range cfg.Livepatches {
		out[l.ModuleName()] = true
		if l.LayoutValue() == kabi.LayoutPerObject && l.Fixes != nil {
			for _, fr := range l.Fixes.Refs {
				if f := cfg.Fix(fr.Name); f != nil {
					for _, o := range f.Objects {
						out[kabi.PerObjectModuleName(l.Name, o.Name)] = true
					}
				}
			}
		}
	}
	return out
}

func planFix(f *lang.Fix) *plan.Fix {
	out := &plan.Fix{Name: f.Name, Description: f.Description.Get(), Patch: f.Patch.Get(), Source: f.Source.Get(),
		Objects: []*plan.FixObject{}, States: []*plan.State{}}
	for _, o := range f.Objects {
		fo := &plan.FixObject{Name: o.Name, Funcs: []*plan.FixFunc{}, Callbacks: callbacks(o)}
		for _, fn := range o.Funcs {
			fo.Funcs = append(fo.Funcs, &plan.FixFunc{Name: fn.Name, New: fn.New.Value, Sympos: fn.SymposValue(), File: fn.File.Get()})
		}
		out.Objects = append(out.Objects, fo)
	}
	for _, s := range f.States {
		out.States = append(out.States, &plan.State{Name: s.Name, ID: s.ID.Value, Version: s.Version.Value, Fix: f.Name})
	}
	return out
}

func callbacks(o *lang.Object) plan.Callbacks {
	return plan.Callbacks{PrePatch: o.PrePatch.Get(), PostPatch: o.PostPatch.Get(), PreUnpatch: o.PreUnpatch.Get(), PostUnpatch: o.PostUnpatch.Get()}
}

func (r *resolver) livepatch(l *lang.Livepatch) *plan.Livepatch {
	out := &plan.Livepatch{
		Name:         l.Name,
		Description:  l.Description.Get(),
		Replace:      l.ReplaceValue(),
		Layout:       l.LayoutValue(),
		License:      "GPL",
		Fixes:        refNames(l.Fixes),
		Drops:        refNames(l.Drops),
		ModuleBuilds: stringValues(l.ModuleBuilds),
		Builds:       []*plan.Build{},
		NameRange:    lang.Range(l.NameRange),
		FixesRange:   lang.Range(l.Fixes.Range),
	}
	if l.License != nil {
		out.License = l.License.Value
	}
	objects := r.mergeFixes(l)
	states := r.releaseStates(l)
	if out.Layout == kabi.LayoutPerObject {
		r.checkPerObject(l, objects)
	}
	for _, kr := range l.Kernels.Refs {
		unpin := r.pin(r.builds[kr.Name], l)
		b := r.build(l, objects, states, r.builds[kr.Name], kr)
		b.ModuleBuilds = r.moduleBuilds(r.builds[kr.Name], l, objects)
		r.pinnedOwnDiffers(r.builds[kr.Name], l, objects)
		unpin()
		out.Builds = append(out.Builds, b)
	}
	return out
}

func refNames(l *lang.RefList) []string {
	names := []string{}
	if l != nil {
		for _, r := range l.Refs {
			names = append(names, r.Name)
		}
	}
	return names
}

// stringValues is the values of a string list, in order; never nil.
func stringValues(l []*lang.String) []string {
	out := make([]string, 0, len(l))
	for _, s := range l {
		out = append(out, s.Value)
	}
	return out
}

// relObject is one object of a release with the functions of all its
// fixes, in fix order.
type relObject struct {
	name      string
	funcs     []*relFunc
	symbols   []*relSymbol
	callbacks plan.Callbacks
	cbFix     string
}

type relFunc struct {
	fix  *lang.Fix
	decl *lang.Func
}

type relSymbol struct {
	fix  *lang.Fix
	decl *lang.Symbol
}

// funcIdentity is how the kernel tells functions of one object apart when
// it looks for one (klp_find_func in 6.1 treats sympos 0 and 1 alike), or
// the file that selects it.
type funcIdentity struct {
	name, file string
	pos        int
}

func identityOf(fn *lang.Func) funcIdentity {
	if fn.File != nil {
		return funcIdentity{name: fn.Name, file: fn.File.Value}
	}
	return funcIdentity{name: fn.Name, pos: max(fn.SymposValue(), 1)}
}

// mergeFixes gathers the objects of a release's fixes. The same function
// patched by two fixes is an error unless both name the same replacement:
// one klp_object cannot hold two klp_funcs for one function.
func (r *resolver) mergeFixes(l *lang.Livepatch) []*relObject {
	var objects []*relObject
	byName := map[string]*relObject{}
	seen := map[string]map[funcIdentity]*relFunc{} // object -> function -> first declaration
	for _, fr := range l.Fixes.Refs {
		f := r.cfg.Fix(fr.Name)
		for _, o := range f.Objects {
			ro := byName[o.Name]
			if ro == nil {
				ro = &relObject{name: o.Name}
				byName[o.Name] = ro
				objects = append(objects, ro)
				seen[o.Name] = map[funcIdentity]*relFunc{}
			}
			if cb := callbacks(o); !cb.Empty() {
				if !ro.callbacks.Empty() {
					r.errorf(diag.ConflictingCallbacks, lang.RangePtr(o.DeclRange), "Conflicting callbacks",
						"The livepatch %q carries fixes %q and %q that both set callbacks for object %q; one klp_object has one set of callbacks. Merge them into one fix.",
						l.Name, ro.cbFix, f.Name, o.Name)
				} else {
					ro.callbacks, ro.cbFix = cb, f.Name
				}
			}
			for _, fn := range o.Funcs {
				id := identityOf(fn)
				if prev := seen[o.Name][id]; prev != nil {
					if spelled0and1(prev.decl, fn) {
						// Two klp_funcs, one sysfs name: see sysfsCollision.
						r.sysfsCollision(l, o.Name, prev, &relFunc{fix: f, decl: fn})
						ro.funcs = append(ro.funcs, &relFunc{fix: f, decl: fn})
						continue
					}
					if prev.decl.New.Value != fn.New.Value {
						r.errorf(diag.FunctionPatchedTwice, lang.RangePtr(fn.NameRange), "Function patched twice in one release",
							"The livepatch %q carries fix %q, which replaces %s with %s, and fix %q, which replaces it with %s. One klp_object cannot hold two replacements for one function: combine the fixes into one replacement, or ship them in different releases.",
							l.Name, f.Name, plan.FuncKey(o.Name, fn.Name, fn.SymposValue()), fn.New.Value, prev.fix.Name, prev.decl.New.Value).
							WithRelated("the other replacement", lang.Range(prev.decl.NameRange))
					}
					continue
				}
				rf := &relFunc{fix: f, decl: fn}
				seen[o.Name][id] = rf
				ro.funcs = append(ro.funcs, rf)
			}
			for _, s := range o.Symbols {
				ro.symbols = append(ro.symbols, &relSymbol{fix: f, decl: s})
			}
		}
	}
	return objects
}

// spelled0and1 reports whether two declarations of one function spell its
// sympos differently, one 0 and the other 1.
func spelled0and1(a, b *lang.Func) bool {
	return a.File == nil && b.File == nil && a.SymposValue() != b.SymposValue()
}

// sysfsCollision explains what the kernel makes of two fixes that spell a
// function's sympos as 0 and 1: the release gets two klp_funcs for it, and
// klp_init_func names both sysfs directories "name,1" (sympos 0 shows as
// 1, on 6.1, 6.12 and 7.x), so kobject_add fails with -EEXIST and the
// livepatch module's init fails: insmod reports EEXIST on 6.1 and 6.12,
// EBUSY on 7.x (do_init_module maps an init's -EEXIST to -EBUSY). The
// deployment steps that load the release show the refusal.
func (r *resolver) sysfsCollision(l *lang.Livepatch, object string, a, b *relFunc) {
	r.diags = append(r.diags, diag.Warnf(diag.DuplicateSysfsName, lang.RangePtr(b.decl.NameRange), "Function spelled with sympos 0 and 1",
		"The livepatch %q carries fix %q, which patches %s of %s with sympos %d, and fix %q, which spells it with sympos %d. To the kernel they are one function, but the release gets two klp_funcs for it, and both get the sysfs name \"%s,1\" (klp_init_func shows sympos 0 as 1): kobject_add fails with EEXIST and the module does not load (insmod reports EEXIST on 6.1 and 6.12, EBUSY on 7.x). Spell the function the same way in both fixes.",
		l.Name, b.fix.Name, b.decl.Name, object, b.decl.SymposValue(), a.fix.Name, a.decl.SymposValue(), b.decl.Name).
		WithRelated("the other spelling", lang.Range(a.decl.NameRange)))
}

// checkPerObject refuses what one module per object cannot do on a real
// kernel, and module names kbuild would refuse.
func (r *resolver) checkPerObject(l *lang.Livepatch, objects []*relObject) {
	if l.ReplaceValue() && len(objects) > 1 {
		var names []string
		for _, o := range objects {
			names = append(names, o.name)
		}
		rng := l.DeclRange
		if l.Layout != nil {
			rng = l.Layout.Range
		}
		r.errorf(diag.PerObjectReplace, lang.RangePtr(rng), "Per-object modules cannot each replace",
			"The livepatch %q patches %d objects (%s) with layout = \"per-object\" and replace = true. On the kernel a replace patch replaces ALL installed patches, whatever object they patch (klp_add_nops), so each per-object module would revert the functions the others patch the moment it loads. Either use layout = \"combined\" (one module, one klp_patch, atomic replace of everything), or set replace = false and upgrade with the ordered load, disable and unload steps klpc emits.",
			l.Name, len(objects), strings.Join(names, ", "))
	}
	for _, o := range objects {
		name := kabi.PerObjectModuleName(l.Name, o.name)
		if len(name) > kabi.ModuleNameMax {
			r.errorf(diag.PerObjectNameTooLong, lang.RangePtr(l.NameRange), "Per-object module name too long",
				"The module for object %q of livepatch %q would be named %q (%d characters); the kernel keeps at most %d. Shorten the livepatch name.",
				o.name, l.Name, name, len(name), kabi.ModuleNameMax)
		}
	}
}

// build resolves a release for one kernel.
func (r *resolver) build(l *lang.Livepatch, objects []*relObject, states []*plan.State, kb *KernelBuild, kr lang.Ref) *plan.Build {
	b := &plan.Build{Kernel: kr.Name, Modules: []*plan.Module{}}
	r.checkUnexported(l, objects, kb, kr)
	var resolved []*plan.Object
	for _, ro := range objects {
		o := &plan.Object{Name: ro.name, Funcs: []*plan.Func{}, Symbols: []*plan.Symbol{}, Callbacks: ro.callbacks}
		for _, rf := range ro.funcs {
			// A function that does not resolve stays in the module as
			// written, so that deployments show how the kernel refuses it.
			sympos, ok := r.resolveFunc(kb, l, kr, ro.name, rf)
			if !ok {
				sympos = rf.decl.SymposValue()
			}
			o.Funcs = append(o.Funcs, r.internFunc(plan.Func{Name: rf.decl.Name, New: rf.decl.New.Value, Sympos: sympos, Fix: rf.fix.Name}, ro.name))
		}
		for _, rs := range ro.symbols {
			if sym, ok := r.resolveSymbol(kb, l, kr, ro.name, rs); ok {
				o.Symbols = append(o.Symbols, sym)
			}
		}
		o.Target = kb.target(ro.name)
		resolved = append(resolved, o)
	}
	if l.LayoutValue() == kabi.LayoutPerObject {
		for i, o := range resolved {
			m := &plan.Module{Name: kabi.PerObjectModuleName(l.Name, o.Name), Replace: l.ReplaceValue(), Objects: []*plan.Object{o}, States: []*plan.State{}}
			// States belong to the whole release; the first module carries them.
			if i == 0 {
				m.States = append(m.States, states...)
			}
			b.Modules = append(b.Modules, m)
		}
	} else {
		m := &plan.Module{Name: l.ModuleName(), Replace: l.ReplaceValue(), Objects: resolved, States: []*plan.State{}}
		m.States = append(m.States, states...)
		b.Modules = append(b.Modules, m)
	}
	return b
}

// internFunc returns the shared klp_func of a function of an object,
// with its Key; the plan's Funcs are never modified once made.
func (r *resolver) internFunc(f plan.Func, object string) *plan.Func {
	lookup := f
	lookup.Key = object // the object stands for the key it makes
	if p, ok := r.funcs[lookup]; ok {
		return p
	}
	if r.funcs == nil {
		r.funcs = map[plan.Func]*plan.Func{}
	}
	p := new(plan.Func) // only a new value is allocated
	*p = f
	p.Key = plan.FuncKey(object, f.Name, f.Sympos)
	r.funcs[lookup] = p
	return p
}

// releaseStates gathers the states of a release's fixes and refuses two
// fixes declaring one state id.
func (r *resolver) releaseStates(l *lang.Livepatch) []*plan.State {
	seen := map[int64]*plan.State{}
	var out []*plan.State
	for _, fr := range l.Fixes.Refs {
		f := r.cfg.Fix(fr.Name)
		for _, s := range f.States {
			st := &plan.State{Name: s.Name, ID: s.ID.Value, Version: s.Version.Value, Fix: f.Name}
			if prev, ok := seen[st.ID]; ok && prev.Fix != st.Fix {
				r.errorf(diag.StateDeclaredTwice, lang.RangePtr(l.Fixes.Range), "State declared by two fixes",
					"The livepatch %q carries fixes %q and %q that both declare state id %d; klp_get_state only ever finds the first, so one of them would silently lose its state. Declare the state once.",
					l.Name, prev.Fix, st.Fix, st.ID)
				continue
			}
			seen[st.ID] = st
			out = append(out, st)
		}
	}
	return out
}
