// Package planjson renders the typed plan as the versioned plan JSON that
// `klpc plan -o json` prints. The JSON is a public format: fields are
// only added (with a minor version bump) or the major version changes.
// Arrays are never null, maps are sorted, output is deterministic.
//
// Version history:
//   - 1.0: the first format.
//   - 1.1: diagnostics gain "code" and "related"; a step's diagnostics no
//     longer carry the step's place in the detail text (it is in related);
//     kernels gain "line" (the modelled kernel line), steps "sysfs" (what
//     /sys/kernel/livepatch shows, with the line's attributes); steps gain
//     "task", "function", "pre_patch_returns", "callbacks" and "transition"
//     (the new block, release, enable and force steps).
//   - 1.2: builds gain "module_builds" (per module_build of the kernel:
//     name, module, id, funcs and symbols as that build resolves them);
//     steps gain "build" (the module_build a module_load loads);
//     deployments gain "from", the host snapshot a deployment starts
//     from (deploy's from), as klpc snapshot writes it; absent otherwise.
//   - 1.3: livepatches gain "module_builds", the module_builds a release
//     is made for (livepatch module_builds); absent when it is made for
//     the kernel's own builds.
package planjson

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"

	"github.com/klpc/klpc/diag"
	"github.com/klpc/klpc/hostsnap"
	"github.com/klpc/klpc/plan"
)

// FormatVersion is the version of the plan JSON.
const FormatVersion = "1.3"

// Marshal renders a plan as indented JSON, ending in a newline.
func Marshal(p *plan.Plan) ([]byte, error) {
	var b bytes.Buffer
	if err := Write(&b, p); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// Write writes Marshal's bytes to w, one release and one deployment at a
// time: a fleet's plan JSON is hundreds of MB, and its tree several times
// that. The bytes are those json.MarshalIndent(From(p), "", "  ") gives,
// and a newline.
func Write(w io.Writer, p *plan.Plan) error {
	b, err := json.MarshalIndent(from(p, false), "", "  ")
	if err != nil {
		return err
	}
	// Livepatches and Deployments are the last fields: the head ends
	// with their empty arrays.
	const tail = "[],\n  \"deployments\": []\n}"
	if !bytes.HasSuffix(b, []byte(tail)) {
		return fmt.Errorf("planjson: unexpected end of the plan JSON")
	}
	if _, err := w.Write(b[:len(b)-len(tail)]); err != nil {
		return err
	}
	if err := writeArray(w, len(p.Livepatches), func(i int) any { return livepatch(p.Livepatches[i]) }); err != nil {
		return err
	}
	if _, err := io.WriteString(w, ",\n  \"deployments\": "); err != nil {
		return err
	}
	if err := writeArray(w, len(p.Deployments), func(i int) any { return deployment(p.Deployments[i]) }); err != nil {
		return err
	}
	_, err = io.WriteString(w, "\n}\n")
	return err
}

// writeArray writes an array of n elements at the first level of the
// plan as json.MarshalIndent does, making each element when it is written.
func writeArray(w io.Writer, n int, elem func(int) any) error {
	if n == 0 {
		_, err := io.WriteString(w, "[]")
		return err
	}
	sep := "[\n    "
	for i := range n {
		// An element is at the second level of indentation.
		b, err := json.MarshalIndent(elem(i), "    ", "  ")
		if err != nil {
			return err
		}
		if _, err := io.WriteString(w, sep); err != nil {
			return err
		}
		if _, err := w.Write(b); err != nil {
			return err
		}
		sep = ",\n    "
	}
	_, err := io.WriteString(w, "\n  ]")
	return err
}

// Plan is the plan JSON.
type Plan struct {
	FormatVersion string        `json:"format_version"`
	Diagnostics   []*Diagnostic `json:"diagnostics"`
	Kernels       []*Kernel     `json:"kernels"`
	Fixes         []*Fix        `json:"fixes"`
	Livepatches   []*Livepatch  `json:"livepatches"`
	Deployments   []*Deployment `json:"deployments"`
}

// Diagnostic is one error or warning.
type Diagnostic struct {
	Severity string     `json:"severity"` // "error" or "warning"
	Code     string     `json:"code"`
	Summary  string     `json:"summary"`
	Detail   string     `json:"detail"`
	Range    *Range     `json:"range,omitempty"`
	Related  []*Related `json:"related,omitempty"`
}

// Related is another place a diagnostic concerns.
type Related struct {
	Message string `json:"message"`
	Range   Range  `json:"range"`
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

// Kernel is a kernel build.
type Kernel struct {
	Name     string `json:"name"`
	Release  string `json:"release"`
	Arch     string `json:"arch"`
	Vermagic string `json:"vermagic,omitempty"`
	Headers  string `json:"headers,omitempty"`
	Source   string `json:"source,omitempty"`
	Config   string `json:"config,omitempty"`
	Vmlinux  string `json:"vmlinux,omitempty"`
	Resolved bool   `json:"resolved"`
	Line     Line   `json:"line"`
}

// Line is the kernel line whose livepatch core models a kernel build.
type Line struct {
	Name               string `json:"name"`
	Verified           string `json:"verified"`
	Exact              bool   `json:"exact"`
	Override           bool   `json:"override"`
	ClearsModuleRelocs bool   `json:"clears_module_relocs"`
	SysfsReplace       bool   `json:"sysfs_replace"`
	SysfsStackOrder    bool   `json:"sysfs_stack_order"`
}

// SysfsPatch is /sys/kernel/livepatch/<patch>; replace and stack_order
// appear where the kernel's line has them.
type SysfsPatch struct {
	Module     string `json:"module"`
	Enabled    bool   `json:"enabled"`
	Transition bool   `json:"transition"`
	Replace    *bool  `json:"replace,omitempty"`
	StackOrder int    `json:"stack_order,omitempty"`
}

// Fix is a fix as written.
type Fix struct {
	Name        string       `json:"name"`
	Description string       `json:"description,omitempty"`
	Patch       string       `json:"patch,omitempty"`
	Source      string       `json:"source,omitempty"`
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

// Callbacks names the C functions of klp_callbacks.
type Callbacks struct {
	PrePatch    string `json:"pre_patch,omitempty"`
	PostPatch   string `json:"post_patch,omitempty"`
	PreUnpatch  string `json:"pre_unpatch,omitempty"`
	PostUnpatch string `json:"post_unpatch,omitempty"`
}

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
	// ModuleBuilds names the module_builds the release is made for.
	ModuleBuilds []string   `json:"module_builds,omitempty"`
	Builds       []*Build   `json:"builds"`
	Upgrades     []*Upgrade `json:"upgrades,omitempty"`
}

// Build is a release made for one kernel.
type Build struct {
	Kernel  string    `json:"kernel"`
	Modules []*Module `json:"modules"`
	// ModuleBuilds is what the release does on each module_build.
	ModuleBuilds []*ModuleBuild `json:"module_builds,omitempty"`
}

// ModuleBuild is what a release does on another build of a module.
type ModuleBuild struct {
	Name    string               `json:"name"`
	Module  string               `json:"module"`
	ID      string               `json:"id"`
	Funcs   []*ModuleBuildFunc   `json:"funcs"`
	Symbols []*ModuleBuildSymbol `json:"symbols"`
}

// ModuleBuildFunc is one patched function on a module build.
type ModuleBuildFunc struct {
	Key     string `json:"key"`
	Name    string `json:"name"`
	Sympos  int    `json:"sympos"`
	Problem string `json:"problem,omitempty"`
}

// ModuleBuildSymbol is one symbol the replacement uses, on a module build.
type ModuleBuildSymbol struct {
	Name    string `json:"name"`
	Sympos  int    `json:"sympos"`
	Problem string `json:"problem,omitempty"`
}

// Module is one livepatch module.
type Module struct {
	Name    string    `json:"name"`
	Replace bool      `json:"replace"`
	Objects []*Object `json:"objects"`
	States  []*State  `json:"states"`
}

// Object is one klp_object.
type Object struct {
	Name      string     `json:"name"`
	Funcs     []*Func    `json:"funcs"`
	Symbols   []*Symbol  `json:"symbols"`
	Callbacks Callbacks  `json:"callbacks"`
	Target    *TargetMod `json:"target,omitempty"`
}

// TargetMod pins the build of a patched module.
type TargetMod struct {
	SrcVersion string `json:"srcversion,omitempty"`
	Vermagic   string `json:"vermagic,omitempty"`
}

// Func is one klp_func.
type Func struct {
	Name   string `json:"name"`
	New    string `json:"new"`
	Sympos int    `json:"sympos"`
	Fix    string `json:"fix"`
	Key    string `json:"key"`
}

// Symbol is a symbol the replacement code refers to.
type Symbol struct {
	Name     string `json:"name"`
	Sympos   int    `json:"sympos"`
	Fix      string `json:"fix"`
	Exported bool   `json:"exported"`
}

// Upgrade is a verified per-object upgrade procedure.
type Upgrade struct {
	From     string         `json:"from"`
	Kernel   string         `json:"kernel"`
	Steps    []*UpgradeStep `json:"steps"`
	Guarded  []string       `json:"guarded"`
	Verified bool           `json:"verified"`
	Reason   string         `json:"reason,omitempty"`
}

// UpgradeStep is one operation of an upgrade.
type UpgradeStep struct {
	Index     int               `json:"index"`
	Action    string            `json:"action"`
	Livepatch string            `json:"livepatch"`
	Module    string            `json:"module"`
	Object    string            `json:"object"`
	OK        bool              `json:"ok"`
	Reason    string            `json:"reason,omitempty"`
	Functions map[string]string `json:"functions"`
}

// Deployment is the simulation of one deploy block.
type Deployment struct {
	Name    string   `json:"name"`
	Kernel  string   `json:"kernel"`
	Modules []string `json:"modules"`
	Steps   []*Step  `json:"steps"`
	// From is the host snapshot the deployment starts from.
	From *hostsnap.Snapshot `json:"from,omitempty"`
}

// Step is one step and what the kernel makes of it.
type Step struct {
	Index     int    `json:"index"`
	Action    string `json:"action"`
	Livepatch string `json:"livepatch,omitempty"`
	Module    string `json:"module,omitempty"`
	Build     string `json:"build,omitempty"`
	Task      string `json:"task,omitempty"`
	Function  string `json:"function,omitempty"`
	// PrePatchReturns is what the step makes pre_patch callbacks return.
	PrePatchReturns string `json:"pre_patch_returns,omitempty"`
	Expect          string `json:"expect"`
	OK              bool   `json:"ok"`
	Reason          string `json:"reason,omitempty"`
	Errno           string `json:"errno,omitempty"`
	// Callbacks lists the klp_callbacks the step ran, in order.
	Callbacks []string `json:"callbacks"`
	// Transition is the transition the step left pending, if any.
	Transition *Transition `json:"transition,omitempty"`
	// Functions maps "<object>:<function>[,<sympos>]" to "original",
	// "absent" or "<livepatch>:<new function>".
	Functions   map[string]string `json:"functions"`
	Changes     []*Change         `json:"changes"`
	Enabled     []string          `json:"enabled"`
	Sysfs       []*SysfsPatch     `json:"sysfs"`
	Loaded      []string          `json:"loaded"`
	Diagnostics []int             `json:"diagnostics"`
}

// Transition is a transition tasks keep pending.
type Transition struct {
	Livepatch  string            `json:"livepatch"`
	Module     string            `json:"module"`
	Target     string            `json:"target"`
	Stuck      []string          `json:"stuck"`
	Unswitched map[string]string `json:"unswitched"`
}

// Change is one function whose implementation a step changed.
type Change struct {
	Kind     string `json:"kind"`
	Function string `json:"function"`
	From     string `json:"from"`
	To       string `json:"to"`
}

// From converts the typed plan to its JSON form.
func From(p *plan.Plan) *Plan { return from(p, true) }

// from is From, with or without the releases and deployments.
func from(p *plan.Plan, deployments bool) *Plan {
	out := &Plan{FormatVersion: FormatVersion, Diagnostics: []*Diagnostic{}, Kernels: []*Kernel{}, Fixes: []*Fix{},
		Livepatches: []*Livepatch{}, Deployments: []*Deployment{}}
	for _, d := range p.Diagnostics {
		out.Diagnostics = append(out.Diagnostics, diagnostic(d))
	}
	for _, k := range p.Kernels {
		out.Kernels = append(out.Kernels, &Kernel{Name: k.Name, Release: k.Release, Arch: k.Arch, Vermagic: k.Vermagic,
			Headers: k.Headers, Source: k.Source, Config: k.Config, Vmlinux: k.Vmlinux, Resolved: k.Resolved,
			Line: Line{Name: k.Line.Name, Verified: k.Line.Verified, Exact: k.Line.Exact, Override: k.Line.Override,
				ClearsModuleRelocs: k.Line.ClearsModuleRelocs, SysfsReplace: k.Line.SysfsReplace, SysfsStackOrder: k.Line.SysfsStackOrder}})
	}
	for _, f := range p.Fixes {
		out.Fixes = append(out.Fixes, fix(f))
	}
	if deployments {
		for _, l := range p.Livepatches {
			out.Livepatches = append(out.Livepatches, livepatch(l))
		}
		for _, d := range p.Deployments {
			out.Deployments = append(out.Deployments, deployment(d))
		}
	}
	return out
}

func diagnostic(d *diag.Diagnostic) *Diagnostic {
	out := &Diagnostic{Severity: d.Severity.String(), Code: string(d.Code), Summary: d.Summary, Detail: d.Detail}
	if d.Subject != nil {
		r := rangeOf(*d.Subject)
		out.Range = &r
	}
	for _, r := range d.Related {
		out.Related = append(out.Related, &Related{Message: r.Message, Range: rangeOf(r.Range)})
	}
	return out
}

func rangeOf(r diag.Range) Range {
	return Range{Filename: r.Filename,
		Start: Pos{Line: r.Start.Line, Column: r.Start.Column, Byte: r.Start.Byte},
		End:   Pos{Line: r.End.Line, Column: r.End.Column, Byte: r.End.Byte}}
}

func callbacks(c plan.Callbacks) Callbacks {
	return Callbacks{PrePatch: c.PrePatch, PostPatch: c.PostPatch, PreUnpatch: c.PreUnpatch, PostUnpatch: c.PostUnpatch}
}

func states(in []*plan.State) []*State {
	out := []*State{}
	for _, s := range in {
		out = append(out, &State{Name: s.Name, ID: s.ID, Version: s.Version, Fix: s.Fix})
	}
	return out
}

func fix(f *plan.Fix) *Fix {
	out := &Fix{Name: f.Name, Description: f.Description, Patch: f.Patch, Source: f.Source, Objects: []*FixObject{}, States: states(f.States)}
	for _, o := range f.Objects {
		fo := &FixObject{Name: o.Name, Funcs: []*FixFunc{}, Callbacks: callbacks(o.Callbacks)}
		for _, fn := range o.Funcs {
			fo.Funcs = append(fo.Funcs, &FixFunc{Name: fn.Name, New: fn.New, Sympos: fn.Sympos, File: fn.File})
		}
		out.Objects = append(out.Objects, fo)
	}
	return out
}

func livepatch(l *plan.Livepatch) *Livepatch {
	out := &Livepatch{Name: l.Name, Description: l.Description, Replace: l.Replace, Layout: string(l.Layout), License: l.License,
		Fixes: nonNil(l.Fixes), Drops: nonNil(l.Drops), ModuleBuilds: l.ModuleBuilds, Builds: []*Build{}}
	for _, b := range l.Builds {
		jb := &Build{Kernel: b.Kernel, Modules: []*Module{}}
		for _, mb := range b.ModuleBuilds {
			jmb := &ModuleBuild{Name: mb.Name, Module: mb.Module, ID: mb.ID, Funcs: []*ModuleBuildFunc{}, Symbols: []*ModuleBuildSymbol{}}
			for _, f := range mb.Funcs {
				jmb.Funcs = append(jmb.Funcs, &ModuleBuildFunc{Key: f.Key, Name: f.Name, Sympos: f.Sympos, Problem: f.Problem})
			}
			for _, sym := range mb.Symbols {
				jmb.Symbols = append(jmb.Symbols, &ModuleBuildSymbol{Name: sym.Name, Sympos: sym.Sympos, Problem: sym.Problem})
			}
			jb.ModuleBuilds = append(jb.ModuleBuilds, jmb)
		}
		for _, m := range b.Modules {
			jm := &Module{Name: m.Name, Replace: m.Replace, Objects: []*Object{}, States: states(m.States)}
			for _, o := range m.Objects {
				jo := &Object{Name: o.Name, Funcs: []*Func{}, Symbols: []*Symbol{}, Callbacks: callbacks(o.Callbacks)}
				for _, f := range o.Funcs {
					jo.Funcs = append(jo.Funcs, &Func{Name: f.Name, New: f.New, Sympos: f.Sympos, Fix: f.Fix, Key: f.Key})
				}
				for _, s := range o.Symbols {
					jo.Symbols = append(jo.Symbols, &Symbol{Name: s.Name, Sympos: s.Sympos, Fix: s.Fix, Exported: s.Exported})
				}
				if o.Target != nil {
					jo.Target = &TargetMod{SrcVersion: o.Target.SrcVersion, Vermagic: o.Target.Vermagic}
				}
				jm.Objects = append(jm.Objects, jo)
			}
			jb.Modules = append(jb.Modules, jm)
		}
		out.Builds = append(out.Builds, jb)
	}
	for _, u := range l.Upgrades {
		ju := &Upgrade{From: u.From, Kernel: u.Kernel, Steps: []*UpgradeStep{}, Guarded: nonNil(u.Guarded), Verified: u.Verified, Reason: u.Reason}
		for _, s := range u.Steps {
			ju.Steps = append(ju.Steps, &UpgradeStep{Index: s.Index, Action: string(s.Action), Livepatch: s.Livepatch, Module: s.Module,
				Object: s.Object, OK: s.OK, Reason: s.Reason, Functions: functions(s.Functions)})
		}
		out.Upgrades = append(out.Upgrades, ju)
	}
	return out
}

func deployment(d *plan.Deployment) *Deployment {
	out := &Deployment{Name: d.Name, Kernel: d.Kernel, Modules: nonNil(d.Modules), Steps: []*Step{}, From: d.From}
	for _, s := range d.Steps {
		js := &Step{Index: s.Index, Action: string(s.Action), Livepatch: s.Livepatch, Module: s.Module, Build: s.Build, Expect: string(s.Expect),
			Task: s.Task, Function: s.Function, PrePatchReturns: s.PrePatchReturns, Callbacks: nonNil(s.Callbacks),
			OK: s.OK, Reason: s.Reason, Errno: s.Errno, Functions: functions(s.Functions.Map()), Changes: []*Change{},
			Enabled: nonNil(s.Enabled), Loaded: nonNil(s.Loaded), Diagnostics: append([]int{}, s.Diagnostics...)}
		if t := s.Transition; t != nil {
			js.Transition = &Transition{Livepatch: t.Livepatch, Module: t.Module, Target: t.Target, Stuck: nonNil(t.Stuck), Unswitched: functions(t.Unswitched)}
		}
		js.Sysfs = []*SysfsPatch{}
		for _, sp := range s.Sysfs {
			js.Sysfs = append(js.Sysfs, &SysfsPatch{Module: sp.Module, Enabled: sp.Enabled, Transition: sp.Transition, Replace: sp.Replace, StackOrder: sp.StackOrder})
		}
		for _, c := range s.Changes() {
			js.Changes = append(js.Changes, &Change{Kind: string(c.Kind), Function: c.Function, From: c.From.String(), To: c.To.String()})
		}
		out.Steps = append(out.Steps, js)
	}
	return out
}

func functions(in map[string]plan.Impl) map[string]string {
	out := make(map[string]string, len(in))
	for k, v := range in {
		out[k] = v.String()
	}
	return out
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
