package plan

import (
	"fmt"
	"strings"

	"github.com/hashicorp/hcl/v2"

	"github.com/klpc/klpc/lang"
	"github.com/klpc/klpc/plan/klp"
)

// Options tune planning.
type Options struct {
	// Deploy limits the simulation to the deploy block of that name.
	Deploy string
	// NoCache reads kernel builds afresh instead of from the index cache.
	NoCache bool
}

// New plans a configuration that lang has read (with its diagnostics).
// It always returns a plan; the plan's diagnostics say what is wrong.
func New(cfg *lang.Config, langDiags hcl.Diagnostics, opts Options) *Plan {
	pl := &planner{cfg: cfg, opts: opts, plan: &Plan{
		FormatVersion: FormatVersion,
		Diagnostics:   []*Diagnostic{},
		Kernels:       []*Kernel{},
		Fixes:         []*Fix{},
		Livepatches:   []*Livepatch{},
		Deployments:   []*Deployment{},
		Files:         cfg.Files,
	}}
	pl.diags = append(pl.diags, langDiags...)
	if opts.Deploy != "" && !langDiags.HasErrors() {
		found := false
		for _, d := range cfg.Deploys {
			found = found || d.Name == opts.Deploy
		}
		if !found {
			pl.diags = append(pl.diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "No such deployment",
				Detail:   fmt.Sprintf("No deploy block is named %q.", opts.Deploy),
			})
		}
	}
	// Semantics need a configuration whose references hold; with errors
	// from lang only what stands on its own is planned.
	if !langDiags.HasErrors() {
		pl.run()
	}
	pl.plan.HCL = pl.diags
	pl.plan.Diagnostics = jsonDiagnostics(pl.diags)
	return pl.plan
}

type planner struct {
	cfg   *lang.Config
	opts  Options
	plan  *Plan
	diags hcl.Diagnostics

	builds map[string]*kernelBuild // by kernel block name
	// relocWarned remembers the (release, object) pairs already warned
	// about by checkModuleRelocs.
	relocWarned map[string]bool
}

func (pl *planner) errorf(rng *hcl.Range, summary, format string, args ...any) {
	pl.diags = append(pl.diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: summary, Detail: fmt.Sprintf(format, args...), Subject: rng})
}

func (pl *planner) warnf(rng *hcl.Range, summary, format string, args ...any) {
	pl.diags = append(pl.diags, &hcl.Diagnostic{Severity: hcl.DiagWarning, Summary: summary, Detail: fmt.Sprintf(format, args...), Subject: rng})
}

func (pl *planner) run() {
	pl.builds = map[string]*kernelBuild{}
	pl.relocWarned = map[string]bool{}
	for _, k := range pl.cfg.Kernels {
		pl.plan.Kernels = append(pl.plan.Kernels, pl.kernel(k))
	}
	for _, f := range pl.cfg.Fixes {
		pl.plan.Fixes = append(pl.plan.Fixes, planFix(f))
	}
	for _, l := range pl.cfg.Livepatches {
		pl.plan.Livepatches = append(pl.plan.Livepatches, pl.livepatch(l))
	}
	for _, d := range pl.cfg.Deploys {
		if pl.opts.Deploy != "" && d.Name != pl.opts.Deploy {
			continue
		}
		pl.plan.Deployments = append(pl.plan.Deployments, pl.deploy(d))
	}
	pl.upgrades()
}

func planFix(f *lang.Fix) *Fix {
	out := &Fix{Name: f.Name, Description: f.Description.Get(), Patch: f.Patch.Get(), Source: f.Source.Get(),
		Objects: []*FixObject{}, States: []*State{}}
	for _, o := range f.Objects {
		fo := &FixObject{Name: o.Name, Funcs: []*FixFunc{}, Callbacks: callbacks(o)}
		for _, fn := range o.Funcs {
			ff := &FixFunc{Name: fn.Name, New: fn.New.Value, Sympos: fn.SymposValue(), File: fn.File.Get()}
			fo.Funcs = append(fo.Funcs, ff)
		}
		out.Objects = append(out.Objects, fo)
	}
	for _, s := range f.States {
		out.States = append(out.States, &State{Name: s.Name, ID: s.ID.Value, Version: s.Version.Value, Fix: f.Name})
	}
	return out
}

func callbacks(o *lang.Object) Callbacks {
	return Callbacks{PrePatch: o.PrePatch.Get(), PostPatch: o.PostPatch.Get(), PreUnpatch: o.PreUnpatch.Get(), PostUnpatch: o.PostUnpatch.Get()}
}

// FuncKey is the key of a function in deployment steps:
// "<object>:<function>", with ",<sympos>" when sympos is not 0.
func FuncKey(object, name string, sympos int) string {
	if sympos == 0 {
		return object + ":" + name
	}
	return fmt.Sprintf("%s:%s,%d", object, name, sympos)
}

// PerObjectModuleName is the module of one object of a per-object release.
func PerObjectModuleName(livepatch, object string) string {
	return lang.ModuleName(livepatch) + "__" + object
}

func (pl *planner) livepatch(l *lang.Livepatch) *Livepatch {
	out := &Livepatch{
		Name:    l.Name,
		Replace: l.ReplaceValue(),
		Layout:  l.LayoutValue(),
		License: "GPL",
		Fixes:   refNames(l.Fixes),
		Drops:   refNames(l.Drops),
		Builds:  []*Build{},
	}
	out.Description = l.Description.Get()
	if l.License != nil {
		out.License = l.License.Value
	}
	objects := pl.mergeFixes(l)
	states := pl.releaseStates(l)
	if out.Layout == lang.LayoutPerObject {
		pl.checkPerObject(l, objects)
	}
	for _, kr := range l.Kernels.Refs {
		out.Builds = append(out.Builds, pl.build(l, objects, states, pl.builds[kr.Name], kr))
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

// relObject is one object of a release with the functions of all its
// fixes, in fix order.
type relObject struct {
	name      string
	funcs     []*relFunc
	symbols   []*relSymbol
	callbacks Callbacks
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

// mergeFixes gathers the objects of a release's fixes. The same function
// patched by two fixes is an error unless both name the same replacement:
// one klp_object cannot hold two klp_funcs for one function.
func (pl *planner) mergeFixes(l *lang.Livepatch) []*relObject {
	var objects []*relObject
	byName := map[string]*relObject{}
	for _, fr := range l.Fixes.Refs {
		f := pl.cfg.Fix(fr.Name)
		for _, o := range f.Objects {
			ro := byName[o.Name]
			if ro == nil {
				ro = &relObject{name: o.Name}
				byName[o.Name] = ro
				objects = append(objects, ro)
			}
			if cb := callbacks(o); !cb.Empty() {
				if !ro.callbacks.Empty() {
					pl.errorf(o.DeclRange.Ptr(), "Conflicting callbacks",
						"The livepatch %q carries fixes %q and %q that both set callbacks for object %q; one klp_object has one set of callbacks. Merge them into one fix.",
						l.Name, ro.cbFix, f.Name, o.Name)
				} else {
					ro.callbacks, ro.cbFix = cb, f.Name
				}
			}
		next:
			for _, fn := range o.Funcs {
				for _, prev := range ro.funcs {
					if !sameFunc(prev.decl, fn) {
						continue
					}
					if prev.decl.New.Value != fn.New.Value {
						pl.errorf(fn.NameRange.Ptr(), "Function patched twice in one release",
							"The livepatch %q carries fix %q, which replaces %s with %s, and fix %q (%s), which replaces it with %s. One klp_object cannot hold two replacements for one function: combine the fixes into one replacement, or ship them in different releases.",
							l.Name, f.Name, FuncKey(o.Name, fn.Name, fn.SymposValue()), fn.New.Value, prev.fix.Name, prev.decl.NameRange, prev.decl.New.Value)
					}
					continue next
				}
				ro.funcs = append(ro.funcs, &relFunc{fix: f, decl: fn})
			}
			for _, s := range o.Symbols {
				ro.symbols = append(ro.symbols, &relSymbol{fix: f, decl: s})
			}
		}
	}
	return objects
}

func sameFunc(a, b *lang.Func) bool {
	if a.Name != b.Name {
		return false
	}
	if a.File != nil || b.File != nil {
		return a.File != nil && b.File != nil && a.File.Value == b.File.Value
	}
	return max(a.SymposValue(), 1) == max(b.SymposValue(), 1)
}

// checkPerObject refuses what one module per object cannot do on a real
// kernel, and module names kbuild would refuse.
func (pl *planner) checkPerObject(l *lang.Livepatch, objects []*relObject) {
	if l.ReplaceValue() && len(objects) > 1 {
		var names []string
		for _, o := range objects {
			names = append(names, o.name)
		}
		rng := l.DeclRange.Ptr()
		if l.Layout != nil {
			rng = l.Layout.Range.Ptr()
		}
		pl.errorf(rng, "Per-object modules cannot each replace",
			"The livepatch %q patches %d objects (%s) with layout = \"per-object\" and replace = true. On the kernel a replace patch replaces ALL installed patches, whatever object they patch (klp_add_nops), so each per-object module would revert the functions the others patch the moment it loads. Either use layout = \"combined\" (one module, one klp_patch, atomic replace of everything), or set replace = false and upgrade with the ordered load, disable and unload steps klpc emits.",
			l.Name, len(objects), strings.Join(names, ", "))
	}
	for _, o := range objects {
		name := PerObjectModuleName(l.Name, o.name)
		if len(name) > lang.ModuleNameMax {
			pl.errorf(l.NameRange.Ptr(), "Per-object module name too long",
				"The module for object %q of livepatch %q would be named %q (%d characters); the kernel keeps at most %d. Shorten the livepatch name.",
				o.name, l.Name, name, len(name), lang.ModuleNameMax)
		}
	}
}

// build resolves a release for one kernel.
func (pl *planner) build(l *lang.Livepatch, objects []*relObject, states []*State, kb *kernelBuild, kr lang.Ref) *Build {
	b := &Build{Kernel: kr.Name, Modules: []*Module{}}
	var resolved []*Object
	for _, ro := range objects {
		o := &Object{Name: ro.name, Funcs: []*Func{}, Symbols: []*Symbol{}, Callbacks: ro.callbacks}
		for _, rf := range ro.funcs {
			// A function that does not resolve stays in the module as
			// written, so that deployments show how the kernel refuses it.
			sympos, ok := kb.resolveFunc(pl, l, kr, ro.name, rf)
			if !ok {
				sympos = rf.decl.SymposValue()
			}
			o.Funcs = append(o.Funcs, &Func{Name: rf.decl.Name, New: rf.decl.New.Value, Sympos: sympos, Fix: rf.fix.Name, Key: FuncKey(ro.name, rf.decl.Name, sympos)})
		}
		for _, rs := range ro.symbols {
			sym, ok := kb.resolveSymbol(pl, l, kr, ro.name, rs)
			if ok {
				o.Symbols = append(o.Symbols, sym)
			}
		}
		o.Target = kb.target(ro.name)
		resolved = append(resolved, o)
		pl.checkModuleRelocs(l, o, ro)
	}
	if l.LayoutValue() == lang.LayoutPerObject {
		for i, o := range resolved {
			m := &Module{Name: PerObjectModuleName(l.Name, o.Name), Replace: l.ReplaceValue(), Objects: []*Object{o}, States: []*State{}}
			// States belong to the whole release; the first module carries them.
			if i == 0 {
				m.States = append(m.States, states...)
			}
			b.Modules = append(b.Modules, m)
		}
	} else {
		m := &Module{Name: l.ModuleName(), Replace: l.ReplaceValue(), Objects: resolved, States: []*State{}}
		m.States = append(m.States, states...)
		b.Modules = append(b.Modules, m)
	}
	return b
}

// releaseStates gathers the states of a release's fixes and refuses two
// fixes declaring one state id.
func (pl *planner) releaseStates(l *lang.Livepatch) []*State {
	var states []*State
	for _, fr := range l.Fixes.Refs {
		f := pl.cfg.Fix(fr.Name)
		for _, s := range f.States {
			states = append(states, &State{Name: s.Name, ID: s.ID.Value, Version: s.Version.Value, Fix: f.Name})
		}
	}
	seen := map[int64]*State{}
	var out []*State
	for _, s := range states {
		if prev, ok := seen[s.ID]; ok && prev.Fix != s.Fix {
			pl.errorf(l.Fixes.Range.Ptr(), "State declared by two fixes",
				"The livepatch %q carries fixes %q and %q that both declare state id %d; klp_get_state only ever finds the first, so one of them would silently lose its state. Declare the state once.",
				l.Name, prev.Fix, s.Fix, s.ID)
			continue
		}
		seen[s.ID] = s
		out = append(out, s)
	}
	return out
}

// checkModuleRelocs warns about .klp.rela relocations against a module's
// own symbols: 6.1 writes them when the module loads
// (klp_apply_object_relocs) and never clears them when it goes, so x86's
// apply_relocate_add refuses to write them again and the module cannot be
// loaded a second time while the livepatch is.
func (pl *planner) checkModuleRelocs(l *lang.Livepatch, o *Object, ro *relObject) {
	if o.Name == klp.Vmlinux || !hasKlpSymbols(o) {
		return
	}
	key := l.Name + "\x00" + o.Name
	if pl.relocWarned[key] {
		return
	}
	pl.relocWarned[key] = true
	var names []string
	for _, s := range o.Symbols {
		if !s.Exported {
			names = append(names, s.Name)
		}
	}
	rng := l.NameRange.Ptr()
	for _, rs := range ro.symbols {
		if !rs.decl.NameRange.Empty() {
			rng = rs.decl.NameRange.Ptr()
			break
		}
	}
	pl.warnf(rng, "Module relocations apply only once",
		"The replacement code of livepatch %q refers to %s of module %q through .klp.rela.%s sections. Linux 6.1 writes those relocations when %s loads and does not clear them when it is removed, so once %s has been unloaded the kernel refuses to load it again (ENOEXEC) for as long as %q is loaded. Disable and unload the livepatch before reloading the module, or use exported symbols.",
		l.Name, strings.Join(names, ", "), o.Name, o.Name, o.Name, o.Name, l.Name)
}
