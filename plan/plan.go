// Package plan is the typed plan: what each release is on each kernel
// build, and what the kernel makes of every step of every deployment. It
// holds data only; the stages that make it live beside it:
//
//	lang (config) ─> plan/resolve ─> plan/simulate ─> plan/check
//	                  per-kernel      a trace per       findings over
//	                  builds          deployment        the trace
//
// plan/planner runs the three stages in order and gathers their
// diagnostics; plan/planjson renders the versioned plan JSON; emit and the
// text renderer read this package's types, never the configuration.
package plan

import (
	"github.com/klpc/klpc/diag"
	"github.com/klpc/klpc/kabi"
)

// Plan is the result of planning a configuration.
type Plan struct {
	Kernels     []*Kernel
	Fixes       []*Fix
	Livepatches []*Livepatch
	Deployments []*Deployment
	// Diagnostics holds every finding of every stage, in stage order.
	Diagnostics diag.Diagnostics
	// Sources holds the configuration files, for diagnostic snippets.
	Sources diag.Sources
}

// HasErrors reports whether any diagnostic is an error.
func (p *Plan) HasErrors() bool { return p.Diagnostics.HasErrors() }

// Kernel returns the kernel of that name, or nil.
func (p *Plan) Kernel(name string) *Kernel {
	for _, k := range p.Kernels {
		if k.Name == name {
			return k
		}
	}
	return nil
}

// Livepatch returns the release of that name, or nil.
func (p *Plan) Livepatch(name string) *Livepatch {
	for _, l := range p.Livepatches {
		if l.Name == name {
			return l
		}
	}
	return nil
}

// Kernel is a kernel build the configuration targets.
type Kernel struct {
	Name    string
	Release string
	Arch    string
	// Vermagic is the vermagic string modules of this build carry, where
	// the symbol source tells it.
	Vermagic string
	Headers  string
	Source   string
	Config   string
	Vmlinux  string
	// Inputs are the kernel input files the plan read (absolute paths).
	Inputs []string
	// Line is the modelled kernel line whose livepatch core the plan
	// simulates for this build.
	Line Line
	// Resolved is true when the build's symbols were read and every
	// release was resolved against them.
	Resolved bool
}

// Line is a modelled kernel line and the facts of its livepatch core
// that a plan shows.
type Line struct {
	// Name is "6.1", "6.12" or "7.x"; Verified the release the model was
	// checked on.
	Name     string
	Verified string
	// Exact is true when the build's release is of the line's own
	// version; Override when the kernel block chose the line.
	Exact    bool
	Override bool
	// ClearsModuleRelocs: the core clears module-specific klp relocations
	// when their module goes (6.12 on), so the module can come back.
	ClearsModuleRelocs bool
	// SysfsReplace and SysfsStackOrder: /sys/kernel/livepatch/<p> has the
	// replace (6.12 on) and stack_order (7.x) attributes.
	SysfsReplace    bool
	SysfsStackOrder bool
}

// Fix is a fix as the releases use it.
type Fix struct {
	Name        string
	Description string
	Patch       string // absolute path of the source diff
	Source      string // absolute path of the C source
	Objects     []*FixObject
	States      []*State
}

// FixObject is what a fix changes in one object.
type FixObject struct {
	Name      string
	Funcs     []*FixFunc
	Callbacks Callbacks
}

// FixFunc is a function a fix replaces, as written.
type FixFunc struct {
	Name   string
	New    string
	Sympos int
	File   string
}

// Callbacks names the C functions of klp_callbacks; "" when unset.
type Callbacks struct {
	PrePatch    string
	PostPatch   string
	PreUnpatch  string
	PostUnpatch string
}

// Empty reports whether no callback is set.
func (c Callbacks) Empty() bool { return c == Callbacks{} }

// State is a klp_state.
type State struct {
	Name    string
	ID      int64
	Version int64
	Fix     string
}

// Livepatch is a release.
type Livepatch struct {
	Name        string
	Description string
	Replace     bool
	Layout      kabi.Layout
	License     string
	Fixes       []string
	Drops       []string
	// ModuleBuilds names the module_builds the release is made for
	// (livepatch module_builds): the modules they are builds of are
	// resolved in them, not in the kernel's own build. Empty: the
	// kernel's own builds.
	ModuleBuilds []string
	Builds       []*Build
	// Upgrades holds, for a per-object release, the verified procedure
	// that takes each kernel over from the per-object release before it;
	// empty for other releases.
	Upgrades []*Upgrade

	// NameRange and FixesRange are where the release and its fixes are
	// declared, for diagnostics.
	NameRange  diag.Range
	FixesRange diag.Range
}

// Build returns the release's build for a kernel, or nil.
func (l *Livepatch) Build(kernel string) *Build {
	for _, b := range l.Builds {
		if b.Kernel == kernel {
			return b
		}
	}
	return nil
}

// FixOf returns the fix of the release that patches the function with
// that key on a kernel, or "".
func (l *Livepatch) FixOf(kernel, key string) string {
	if b := l.Build(kernel); b != nil {
		for _, m := range b.Modules {
			for _, o := range m.Objects {
				for _, f := range o.Funcs {
					if f.Key == key {
						return f.Fix
					}
				}
			}
		}
	}
	return ""
}

// Build is a release made for one kernel: one module, or one per object.
type Build struct {
	Kernel  string
	Modules []*Module
	// ModuleBuilds is what the release does on each module_build of the
	// kernel for a module it patches, in declaration order.
	ModuleBuilds []*ModuleBuild
}

// Module returns the build's module of that name, or nil.
func (b *Build) Module(name string) *Module {
	for _, m := range b.Modules {
		if m.Name == name {
			return m
		}
	}
	return nil
}

// Module is one livepatch module to build: one struct klp_patch.
type Module struct {
	// Name is the module name as kbuild gives it.
	Name    string
	Replace bool
	Objects []*Object
	States  []*State
}

// Object is what the module patches: the first object's name, or vmlinux.
func (m *Module) Object() string {
	if len(m.Objects) == 0 {
		return kabi.Vmlinux
	}
	return m.Objects[0].Name
}

// Object is one struct klp_object of a module, resolved for its kernel.
type Object struct {
	Name      string
	Funcs     []*Func
	Symbols   []*Symbol
	Callbacks Callbacks
	Target    *TargetMod
}

// NeedsKlpRelocs reports whether the object's replacement code refers to
// symbols that need .klp.rela relocations (not exported ones).
func (o *Object) NeedsKlpRelocs() bool {
	for _, s := range o.Symbols {
		if !s.Exported {
			return true
		}
	}
	return false
}

// TargetMod pins the build of a patched module that a livepatch is made for.
type TargetMod struct {
	SrcVersion string
	Vermagic   string
}

// Func is one struct klp_func.
type Func struct {
	Name   string
	New    string
	Sympos int
	Fix    string
	// Key is the function's key in deployment steps (FuncKey).
	Key string
}

// Symbol is a symbol of the patched object the replacement code refers to.
type Symbol struct {
	Name     string
	Sympos   int
	Fix      string
	Exported bool
	// Range is where the symbol block names it.
	Range diag.Range
}
