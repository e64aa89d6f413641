package plan

import (
	"fmt"
	"path"
	"strings"

	"github.com/klpc/klpc/lang"
	"github.com/klpc/klpc/plan/klp"
	"github.com/klpc/klpc/target"
)

// kernelBuild is one kernel block with, where it names symbol files, the
// symbols of that build.
type kernelBuild struct {
	decl *lang.Kernel
	syms symbolSource // nil when the block names no symbol files
}

// symbolSource is what the planner asks of a kernel build's target.
type symbolSource interface {
	// resolve finds a function or symbol of an object; file, when not
	// empty, selects a duplicated name by its source file.
	resolve(object, name string, sympos int, file string, wantFunc bool) (int, *symbolProblem)
	// hasObject reports whether the build has that object.
	hasObject(object string) bool
	// target returns the module's srcversion and vermagic, or nil.
	target(object string) *TargetMod
	// exported reports whether Module.symvers exports the symbol.
	exported(object, name string) bool
	vermagic() string
}

// symbolProblem is why a symbol cannot be used on a build: the kernel's
// own words where it has them, and a fuller explanation.
type symbolProblem struct {
	summary string
	detail  string
	// refusal is what the kernel logs when it meets the problem.
	refusal *klp.Refusal
}

func (pl *planner) kernel(k *lang.Kernel) *Kernel {
	out := &Kernel{Name: k.Name, Release: k.Release.Value, Arch: "x86_64",
		Headers: k.Headers.Get(), Source: k.Source.Get(), Config: k.Config.Get(), Vmlinux: k.Vmlinux.Get()}
	if k.Arch != nil {
		out.Arch = k.Arch.Value
	}
	kb := &kernelBuild{decl: k}
	pl.builds[k.Name] = kb
	if !k.HasSymbols() {
		pl.warnf(k.DeclRange.Ptr(), "Kernel build without symbols",
			"The kernel %q names no kallsyms, system_map, vmlinux or modules, so klpc cannot check that the functions its releases patch exist, are unique or traceable on that build; sympos is taken as written.", k.Name)
		return out
	}
	syms, ok := pl.loadSymbols(k)
	if ok {
		kb.syms = syms
		out.Resolved = true
		out.Vermagic = syms.vermagic()
	}
	return out
}

// resolveFunc returns the sympos a release's function has on a build.
func (kb *kernelBuild) resolveFunc(pl *planner, l *lang.Livepatch, kr lang.Ref, object string, rf *relFunc) (int, bool) {
	fn := rf.decl
	if kb == nil || kb.syms == nil {
		if fn.File != nil {
			pl.errorf(fn.File.Range.Ptr(), "Cannot select a symbol by file",
				"The function %s selects its symbol by source file, but the kernel %q has no symbol files to look the file up in; give sympos instead, or name the build's symbols in the kernel block.",
				fn.Name, kr.Name)
			return 0, false
		}
		return fn.SymposValue(), true
	}
	file := fn.File.Get()
	if !kb.syms.hasObject(object) {
		pl.errorf(kr.Range.Ptr(), "Object not in kernel build",
			"The livepatch %q patches object %q (fix %q, %s), but the kernel %q has no module of that name.",
			l.Name, object, rf.fix.Name, fn.DeclRange, kr.Name)
		return 0, false
	}
	pos, prob := kb.syms.resolve(object, fn.Name, fn.SymposValue(), file, true)
	if prob != nil {
		rng := fn.NameRange.Ptr()
		if fn.File != nil && strings.HasPrefix(prob.summary, "Cannot select") {
			rng = fn.File.Range.Ptr()
		}
		pl.errorf(rng, prob.summary, "On kernel %q (release %s), for livepatch %q: %s",
			kr.Name, kb.decl.Release.Value, l.Name, prob.detail)
		return 0, false
	}
	return pos, true
}

// resolveSymbol checks a symbol the replacement code refers to.
func (kb *kernelBuild) resolveSymbol(pl *planner, l *lang.Livepatch, kr lang.Ref, object string, rs *relSymbol) (*Symbol, bool) {
	s := rs.decl
	sym := &Symbol{Name: s.Name, Sympos: s.SymposValue(), Fix: rs.fix.Name}
	if kb == nil || kb.syms == nil {
		if s.File != nil {
			pl.errorf(s.File.Range.Ptr(), "Cannot select a symbol by file",
				"The symbol %s selects its definition by source file, but the kernel %q has no symbol files to look the file up in; give sympos instead.", s.Name, kr.Name)
			return nil, false
		}
		return sym, true
	}
	file := s.File.Get()
	pos, prob := kb.syms.resolve(object, s.Name, s.SymposValue(), file, false)
	if prob != nil {
		pl.errorf(s.NameRange.Ptr(), prob.summary, "On kernel %q (release %s), for livepatch %q: %s",
			kr.Name, kb.decl.Release.Value, l.Name, prob.detail)
		return nil, false
	}
	sym.Sympos = pos
	sym.Exported = kb.syms.exported(object, s.Name)
	if sym.Exported {
		pl.warnf(s.NameRange.Ptr(), "Symbol is exported",
			"On kernel %q, Module.symvers exports %s from %s: the replacement code can use it through an ordinary relocation, and a .klp.sym entry is not needed.", kr.Name, s.Name, object)
	}
	return sym, true
}

func (kb *kernelBuild) target(object string) *TargetMod {
	if kb == nil || kb.syms == nil || object == klp.Vmlinux {
		return nil
	}
	return kb.syms.target(object)
}

// loadSymbols reads the symbol files a kernel block names, through the
// index cache. A file that cannot be read is an error on the attribute
// that names it.
func (pl *planner) loadSymbols(k *lang.Kernel) (symbolSource, bool) {
	spec := target.Spec{
		Kallsyms: k.Kallsyms.Get(), SystemMap: k.SystemMap.Get(), Vmlinux: k.Vmlinux.Get(), Modules: k.Modules.Get(),
		Symvers: k.Symvers.Get(), Config: k.Config.Get(), Ftrace: k.Ftrace.Get(),
	}
	attrs := map[string]*lang.Path{}
	for _, p := range []*lang.Path{k.Kallsyms, k.SystemMap, k.Vmlinux, k.Modules, k.Symvers, k.Config, k.Ftrace} {
		if p != nil {
			attrs[p.Abs] = p
		}
	}
	b, err := target.LoadCached(spec, target.Options{NoCache: pl.opts.NoCache})
	if err != nil {
		rng := k.DeclRange
		for abs, p := range attrs {
			if strings.Contains(err.Error(), abs) {
				rng = p.Range
			}
		}
		pl.errorf(rng.Ptr(), "Cannot read kernel build", "Reading the symbols of kernel %q failed: %s", k.Name, err)
		return nil, false
	}
	if b.Vmlinux == nil {
		pl.warnf(k.DeclRange.Ptr(), "No vmlinux symbols",
			"The kernel %q names no kallsyms, system_map or vmlinux, so functions of vmlinux are not checked on it.", k.Name)
	}
	return buildSymbols{b: b, name: k.Name}, true
}

// buildSymbols answers the planner's questions from a target.Build.
type buildSymbols struct {
	b    *target.Build
	name string
}

func (s buildSymbols) hasObject(object string) bool {
	if object == klp.Vmlinux {
		return true
	}
	_, ok := s.b.Object(object)
	return ok
}

func (s buildSymbols) resolve(object, name string, sympos int, file string, wantFunc bool) (int, *symbolProblem) {
	o, ok := s.b.Object(object)
	if !ok {
		if object == klp.Vmlinux {
			return sympos, nil // no vmlinux symbols: nothing to check
		}
		return 0, &symbolProblem{
			summary: "Object not in kernel build",
			detail:  fmt.Sprintf("the build has no module %q.", object),
			refusal: &klp.Refusal{Errno: klp.ENOENT, Log: []string{fmt.Sprintf("modprobe: FATAL: Module %s not found", object)}},
		}
	}
	r := o.Resolve(name, sympos, file)
	switch r.Problem {
	case target.OK:
	case target.NotFunction:
		if wantFunc {
			// ftrace has no call site in data: klp_patch_func fails.
			return 0, problem("Not a function", r, klp.EINVAL,
				fmt.Sprintf("livepatch: failed to find location for function '%s'", name))
		}
	case target.NotTraceable:
		if wantFunc {
			return 0, problem("Function cannot be livepatched", r, klp.EINVAL,
				fmt.Sprintf("livepatch: failed to find location for function '%s'", name))
		}
	case target.NotFound:
		return 0, problem("Symbol not found", r, klp.EINVAL, fmt.Sprintf("livepatch: symbol '%s' not found in symbol table", name))
	case target.Ambiguous:
		return 0, problem("Ambiguous symbol", r, klp.EINVAL, fmt.Sprintf("livepatch: unresolvable ambiguity for symbol '%s' in object '%s'", name, object))
	case target.SymposOutOfRange:
		return 0, problem("Symbol position not found", r, klp.EINVAL, fmt.Sprintf("livepatch: symbol position %d for symbol '%s' in object '%s' not found", sympos, name, object))
	default:
		return 0, problem("Cannot select symbol by file", r, klp.EINVAL, "")
	}
	if r.Chosen < 0 {
		return sympos, nil
	}
	if file == "" {
		return sympos, nil
	}
	return r.Candidates[r.Chosen].Sympos, nil
}

func problem(summary string, r target.Resolution, errno klp.Errno, log string) *symbolProblem {
	detail := r.Describe()
	if !strings.HasSuffix(detail, "?") && !strings.Contains(detail, "\n") {
		detail += "."
	}
	p := &symbolProblem{summary: summary, detail: detail}
	p.refusal = &klp.Refusal{Errno: errno}
	if log == "" {
		log = "livepatch: " + r.Describe()
	}
	p.refusal.Log = []string{log}
	return p
}

func (s buildSymbols) target(object string) *TargetMod {
	o, ok := s.b.Object(object)
	if !ok || object == klp.Vmlinux || (o.SrcVersion == "" && o.Vermagic == "") {
		return nil
	}
	return &TargetMod{SrcVersion: o.SrcVersion, Vermagic: o.Vermagic}
}

func (s buildSymbols) exported(object, name string) bool {
	e, ok := s.b.Export(name)
	if !ok {
		return false
	}
	return e.Module == object || path.Base(e.Module) == object || target.ModuleName(path.Base(e.Module)) == object
}

func (s buildSymbols) vermagic() string {
	for _, n := range s.b.ModuleNames() {
		if v := s.b.Modules[n].Vermagic; v != "" {
			return v
		}
	}
	return ""
}
