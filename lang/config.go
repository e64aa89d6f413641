package lang

import (
	"github.com/hashicorp/hcl/v2"
	"github.com/klpc/klpc/kabi"
)

// Config is everything one directory of *.klp.hcl files declares, in source
// order (files sorted by name, blocks in the order they appear).
type Config struct {
	Dir         string
	Kernels     []*Kernel
	Fixes       []*Fix
	Livepatches []*Livepatch
	Deploys     []*Deploy

	// Files holds every parsed file by name, for diagnostic snippets.
	Files map[string]*hcl.File
}

// Kernel returns the kernel block with the given name, or nil.
func (c *Config) Kernel(name string) *Kernel {
	for _, k := range c.Kernels {
		if k.Name == name {
			return k
		}
	}
	return nil
}

// Fix returns the fix block with the given name, or nil.
func (c *Config) Fix(name string) *Fix {
	for _, f := range c.Fixes {
		if f.Name == name {
			return f
		}
	}
	return nil
}

// Livepatch returns the livepatch block with the given name, or nil.
func (c *Config) Livepatch(name string) *Livepatch {
	for _, l := range c.Livepatches {
		if l.Name == name {
			return l
		}
	}
	return nil
}

// String is a literal string attribute with its range. A nil *String means
// the attribute was not set.
type String struct {
	Value string
	Range hcl.Range
}

// Get returns the value, or "" when the attribute was not set.
func (s *String) Get() string {
	if s == nil {
		return ""
	}
	return s.Value
}

// Int is a literal integer attribute with its range.
type Int struct {
	Value int64
	Range hcl.Range
}

// Bool is a literal boolean attribute with its range.
type Bool struct {
	Value bool
	Range hcl.Range
}

// Path is a file or folder attribute. Value is as written; Abs is resolved
// against the folder of the file that names it.
type Path struct {
	Value string
	Abs   string
	Range hcl.Range
}

// Get returns the resolved path, or "" when the attribute was not set.
func (p *Path) Get() string {
	if p == nil {
		return ""
	}
	return p.Abs
}

// Ref is a reference to another block, such as kernel.deb12 or fix.cve-1.
type Ref struct {
	Type  string // "kernel", "fix" or "livepatch"
	Name  string
	Range hcl.Range
}

// RefList is a list of references with the range of the whole list.
type RefList struct {
	Refs  []Ref
	Range hcl.Range
}

// Kernel is a kernel build that livepatches are made for.
type Kernel struct {
	Name      string
	Release   *String // uname -r; also the vermagic prefix
	Arch      *String
	Kallsyms  *Path
	SystemMap *Path
	Vmlinux   *Path
	Vmlinuz   *Path // a kernel image (bzImage): kallsyms and ftrace sites decoded from it
	Modules   *Path
	Symvers   *Path
	Config    *Path
	Ftrace    *Path // a saved available_filter_functions
	Headers   *Path
	Source    *Path
	// Line overrides the kernel line whose livepatch core models the
	// build ("6.1", "6.12", "7.x"); by default the release chooses it.
	Line *String

	DeclRange hcl.Range
	NameRange hcl.Range
	// ModuleBuilds are other builds of the kernel's modules.
	ModuleBuilds []*ModuleBuild
}

// HasSymbols reports whether the block names any source of symbols.
func (k *Kernel) HasSymbols() bool {
	return k.Kallsyms != nil || k.SystemMap != nil || k.Vmlinux != nil || k.Vmlinuz != nil || k.Modules != nil
}

// Inputs lists the kernel input files the block names (symbol files,
// Module.symvers, config, ftrace), in a fixed order.
func (k *Kernel) Inputs() []*Path {
	var out []*Path
	for _, p := range []*Path{k.Kallsyms, k.SystemMap, k.Vmlinux, k.Vmlinuz, k.Modules, k.Symvers, k.Config, k.Ftrace} {
		if p != nil {
			out = append(out, p)
		}
	}
	return out
}

// Fix is one logical change, reused by every release that carries it.
type Fix struct {
	Name        string
	Description *String
	Patch       *Path
	Source      *Path
	Objects     []*Object
	States      []*State

	DeclRange hcl.Range
	NameRange hcl.Range
}

// Object is "vmlinux" or a module that a fix patches.
type Object struct {
	Name  string
	Funcs []*Func
	// Symbols lists the non-exported symbols of this object that the
	// replacement code refers to; they become .klp.sym relocations.
	Symbols []*Symbol
	// Callbacks names C functions of the fix's source run by the livepatch
	// core for this object (klp_callbacks).
	PrePatch, PostPatch, PreUnpatch, PostUnpatch *String

	DeclRange hcl.Range
	NameRange hcl.Range
}

// Func is one function replaced by a fix.
type Func struct {
	Name   string
	New    *String
	Sympos *Int    // nil means 0: the name must be unique in the object
	File   *String // selects a duplicated name by its source file instead of a number

	DeclRange hcl.Range
	NameRange hcl.Range
}

// SymposValue is the sympos as written, 0 when unset.
func (f *Func) SymposValue() int {
	if f.Sympos == nil {
		return 0
	}
	return int(f.Sympos.Value)
}

// Symbol is a symbol of the patched object that replacement code refers to.
type Symbol struct {
	Name   string
	Sympos *Int
	File   *String

	DeclRange hcl.Range
	NameRange hcl.Range
}

// SymposValue is the sympos as written, 0 when unset.
func (s *Symbol) SymposValue() int {
	if s.Sympos == nil {
		return 0
	}
	return int(s.Sympos.Value)
}

// State is a klp_state a fix introduces or updates.
type State struct {
	Name    string
	ID      *Int
	Version *Int

	DeclRange hcl.Range
	NameRange hcl.Range
}

// Livepatch is a release: one klp_patch, or one module per object.
type Livepatch struct {
	Name        string
	Description *String
	Replace     *Bool // nil means true
	Layout      *String
	Kernels     *RefList
	Fixes       *RefList
	Drops       *RefList
	License     *String
	// ModuleBuilds restricts the release to these module_builds of its
	// kernels: the release is made for them, and the modules they are
	// builds of are resolved in them instead of the kernel's own build.
	ModuleBuilds []*String

	DeclRange hcl.Range
	NameRange hcl.Range
}

// ReplaceValue is the replace attribute, true when unset.
func (l *Livepatch) ReplaceValue() bool {
	return l.Replace == nil || l.Replace.Value
}

// LayoutValue is the layout attribute, "combined" when unset.
func (l *Livepatch) LayoutValue() kabi.Layout {
	if l.Layout == nil {
		return kabi.LayoutCombined
	}
	return kabi.Layout(l.Layout.Value)
}

// ModuleName is the name kbuild gives the release's module: every '-' of the
// block name becomes '_' (scripts/Makefile.lib, modname).
func (l *Livepatch) ModuleName() string {
	return kabi.ModuleName(l.Name)
}

// Deploy is a sequence of operator steps on one kernel.
type Deploy struct {
	Name    string
	Kernel  *Ref
	Modules []*String // ordinary modules loaded when the deployment starts
	// From is a host snapshot (klpc snapshot) the deployment starts from
	// instead of a fresh boot; relative to the file that names it.
	From  *String
	Steps []*Step

	DeclRange hcl.Range
	NameRange hcl.Range
}

// Step is one operator action of a deployment.
type Step struct {
	Action    kabi.Action
	Livepatch *Ref    // load, disable, unload
	Module    *String // module_load, module_unload
	// Expect says whether the kernel should accept the step ("ok", the
	// default) or refuse it ("refused"), for deployments that rehearse a
	// refusal on purpose.
	Expect *String
	// Task names a task (a kernel thread) for block and release steps;
	// Function is "OBJECT:FUNCTION", where a block step's task sleeps.
	Task     *String
	Function *String
	// PrePatchReturns is what the pre_patch callbacks of the release being
	// loaded (load) or of the loaded releases with an object of the module
	// (module_load) return from this step on: "0" or an errno name, as a
	// module parameter of the fix's callbacks would make them.
	PrePatchReturns *String
	// Build names the kernel's module_build a module_load step loads;
	// nil loads the kernel's own build of the module.
	Build *String

	DeclRange hcl.Range
	TypeRange hcl.Range
}

// ExpectValue is the expect attribute, "ok" when unset.
func (s *Step) ExpectValue() kabi.Expect {
	if s.Expect == nil {
		return kabi.ExpectOK
	}
	return kabi.Expect(s.Expect.Value)
}
