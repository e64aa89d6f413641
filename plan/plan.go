// Package plan resolves a klpc configuration against its kernel builds and
// simulates every deployment on a model of the kernel's livepatch core
// (package plan/klp), producing a Plan: what each release is on each kernel
// and what every patched function runs after every step, with diagnostics
// for whatever the kernel would refuse or what would silently regress.
//
// The Plan is the contract with the emitter and the JSON that
// `klpc plan -o json` prints: emit/ reads nothing else.
package plan

import "github.com/hashicorp/hcl/v2"

// FormatVersion is the version of the plan JSON.
const FormatVersion = "1.0"

// Plan is the result of planning a configuration.
type Plan struct {
	FormatVersion string        `json:"format_version"`
	Diagnostics   []*Diagnostic `json:"diagnostics"`
	Kernels       []*Kernel     `json:"kernels"`
	Fixes         []*Fix        `json:"fixes"`
	Livepatches   []*Livepatch  `json:"livepatches"`
	Deployments   []*Deployment `json:"deployments"`

	// HCL keeps the diagnostics with their full ranges and the parsed
	// files, for text rendering with source snippets.
	HCL   hcl.Diagnostics      `json:"-"`
	Files map[string]*hcl.File `json:"-"`
}

// HasErrors reports whether any diagnostic is an error.
func (p *Plan) HasErrors() bool { return p.HCL.HasErrors() }

// Livepatch returns the release of that name, or nil.
func (p *Plan) Livepatch(name string) *Livepatch {
	for _, l := range p.Livepatches {
		if l.Name == name {
			return l
		}
	}
	return nil
}

// Diagnostic is one error or warning, as the JSON plan carries it.
type Diagnostic struct {
	Severity string `json:"severity"` // "error" or "warning"
	Summary  string `json:"summary"`
	Detail   string `json:"detail"`
	Range    *Range `json:"range,omitempty"`
}

// Range is a span of a source file.
type Range struct {
	Filename string `json:"filename"`
	Start    Pos    `json:"start"`
	End      Pos    `json:"end"`
}

// Pos is a position in a source file; line and column count from 1.
type Pos struct {
	Line   int `json:"line"`
	Column int `json:"column"`
	Byte   int `json:"byte"`
}

// Kernel is a kernel build the configuration targets.
type Kernel struct {
	Name    string `json:"name"`
	Release string `json:"release"`
	Arch    string `json:"arch"`
	// Vermagic is the vermagic string modules of this build carry, where
	// the symbol source tells it.
	Vermagic string `json:"vermagic,omitempty"`
	Headers  string `json:"headers,omitempty"`
	Source   string `json:"source,omitempty"`
	Config   string `json:"config,omitempty"`
	Vmlinux  string `json:"vmlinux,omitempty"`
	// Resolved is true when the build's symbols were read and every
	// release was resolved against them.
	Resolved bool `json:"resolved"`
}

// Fix is a fix as the releases use it.
type Fix struct {
	Name        string       `json:"name"`
	Description string       `json:"description,omitempty"`
	Patch       string       `json:"patch,omitempty"`  // absolute path of the source diff
	Source      string       `json:"source,omitempty"` // absolute path of the C source
	Objects     []*FixObject `json:"objects"`
	States      []*State     `json:"states"`
}

// FixObject is what a fix changes in one object.
type FixObject struct {
	Name      string     `json:"name"`
	Funcs     []*FixFunc `json:"funcs"`
	Callbacks Callbacks  `json:"callbacks"`
}

// FixFunc is a function a fix replaces, as written.
type FixFunc struct {
	Name   string `json:"name"`
	New    string `json:"new"`
	Sympos int    `json:"sympos"`
	File   string `json:"file,omitempty"`
}

// Callbacks names the C functions of klp_callbacks; "" when unset.
type Callbacks struct {
	PrePatch    string `json:"pre_patch,omitempty"`
	PostPatch   string `json:"post_patch,omitempty"`
	PreUnpatch  string `json:"pre_unpatch,omitempty"`
	PostUnpatch string `json:"post_unpatch,omitempty"`
}

// Empty reports whether no callback is set.
func (c Callbacks) Empty() bool { return c == Callbacks{} }

// State is a klp_state.
type State struct {
	Name    string `json:"name"`
	ID      int64  `json:"id"`
	Version int64  `json:"version"`
	Fix     string `json:"fix"`
}

// Livepatch is a release.
type Livepatch struct {
	Name        string   `json:"name"`
	Description string   `json:"description,omitempty"`
	Replace     bool     `json:"replace"`
	Layout      string   `json:"layout"`
	License     string   `json:"license"`
	Fixes       []string `json:"fixes"`
	Drops       []string `json:"drops"`
	Builds      []*Build `json:"builds"`
	// Upgrades holds, for a per-object release, the verified procedure
	// that takes each kernel over from the per-object release before it
	// (see upgrade.go); empty for other releases.
	Upgrades []*Upgrade `json:"upgrades,omitempty"`
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

// Build is a release made for one kernel: one module, or one per object.
type Build struct {
	Kernel  string    `json:"kernel"`
	Modules []*Module `json:"modules"`
}

// Module is one livepatch module to build: one struct klp_patch.
type Module struct {
	// Name is the module name as kbuild gives it.
	Name    string    `json:"name"`
	Replace bool      `json:"replace"`
	Objects []*Object `json:"objects"`
	States  []*State  `json:"states"`
}

// Object is one struct klp_object of a module, resolved for its kernel.
type Object struct {
	Name      string     `json:"name"`
	Funcs     []*Func    `json:"funcs"`
	Symbols   []*Symbol  `json:"symbols"`
	Callbacks Callbacks  `json:"callbacks"`
	Target    *TargetMod `json:"target,omitempty"`
}

// TargetMod pins the build of a patched module that a livepatch is made for.
type TargetMod struct {
	SrcVersion string `json:"srcversion,omitempty"`
	Vermagic   string `json:"vermagic,omitempty"`
}

// Func is one struct klp_func.
type Func struct {
	Name   string `json:"name"`
	New    string `json:"new"`
	Sympos int    `json:"sympos"`
	Fix    string `json:"fix"`
	// Key is the function's key in deployment steps.
	Key string `json:"key"`
}

// Symbol is a symbol of the patched object the replacement code refers to.
type Symbol struct {
	Name     string `json:"name"`
	Sympos   int    `json:"sympos"`
	Fix      string `json:"fix"`
	Exported bool   `json:"exported"`
}

// Deployment is the simulation of one deploy block.
type Deployment struct {
	Name    string   `json:"name"`
	Kernel  string   `json:"kernel"`
	Modules []string `json:"modules"`
	Steps   []*Step  `json:"steps"`
}

// Step is one step of a deployment and what the kernel makes of it.
type Step struct {
	Index     int    `json:"index"` // from 1
	Action    string `json:"action"`
	Livepatch string `json:"livepatch,omitempty"`
	Module    string `json:"module,omitempty"`
	Expect    string `json:"expect"`
	OK        bool   `json:"ok"`
	Reason    string `json:"reason,omitempty"`
	// Errno names the error the kernel returns when it refuses the step,
	// such as "EINVAL".
	Errno string `json:"errno,omitempty"`
	// Functions maps "<object>:<function>[,<sympos>]" to what runs after
	// the step: "original", "<livepatch>:<new function>" or "absent".
	Functions map[string]string `json:"functions"`
	// Changes lists the functions whose implementation the step changed.
	Changes []*Change `json:"changes"`
	// Enabled lists the livepatch modules /sys/kernel/livepatch shows
	// after the step, oldest first.
	Enabled []string `json:"enabled"`
	// Loaded lists the loaded livepatch modules after the step, sorted.
	Loaded []string `json:"loaded"`
	// Diagnostics holds the indexes, in the plan's diagnostics, of those
	// this step raised.
	Diagnostics []int `json:"diagnostics"`
}

// ChangeKind is how a function's implementation changed; its value is the
// symbol the text plan shows.
type ChangeKind string

// The kinds of change.
const (
	Patched   ChangeKind = "+" // was original or absent, now a replacement
	Repatched ChangeKind = "~" // now another replacement
	Reverted  ChangeKind = "-" // back to the original code
	Presence  ChangeKind = "*" // its module came or went
)

// Change is one function whose implementation a step changed.
type Change struct {
	Kind     ChangeKind `json:"kind"`
	Function string     `json:"function"`
	From     string     `json:"from"`
	To       string     `json:"to"`
}
