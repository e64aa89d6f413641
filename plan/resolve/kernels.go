package resolve

import (
	"fmt"
	"path"
	"strconv"
	"strings"

	"github.com/klpc/klpc/diag"
	"github.com/klpc/klpc/kabi"
	"github.com/klpc/klpc/lang"
	"github.com/klpc/klpc/plan"
	"github.com/klpc/klpc/plan/klp"
	"github.com/klpc/klpc/target"
)

// KernelBuild is one kernel block with, where it names symbol files, the
// symbols of that build. Simulation asks it what the kernel's symbol
// lookups would find.
type KernelBuild struct {
	decl *lang.Kernel
	b    *target.Build // nil when the block names no symbol files, or they cannot be read
	line klp.Line
	// livepatchModules are the configuration's own livepatch modules.
	livepatchModules map[string]bool
	// modBuilds caches the module_build files read, by build name.
	modBuilds map[string]*modBuild
	// selected is the module_build the simulation has loaded, by module;
	// modules not in it are the kernel's own build (SelectBuild).
	selected map[string]*modBuild
	// pinned is, while one release is resolved, the module_build it is
	// restricted to, by module (livepatch module_builds).
	pinned map[string]*modBuild

	// resolved caches the symbol lookups that succeeded, shared by the
	// kernel builds of a run (see resolveKey).
	resolved map[resolveKey]int
}

// resolveKey is a symbol lookup: the object's symbols as read (kernel
// blocks that name the same files share them, and the same function is
// looked up once for every release that carries it), the symbol, its
// sympos and file, and whether it must be a function.
type resolveKey struct {
	object       *target.Object
	name, file   string
	sympos       int
	wantFunction bool
}

// Line is the kernel line whose livepatch core models the build.
func (kb *KernelBuild) Line() klp.Line { return kb.line }

// Release is the kernel's uname -r.
func (kb *KernelBuild) Release() string { return kb.decl.Release.Value }

// Known reports whether the build's symbols were read.
func (kb *KernelBuild) Known() bool { return kb != nil && kb.b != nil }

// HasObject reports whether the build has that object; without symbols
// every object is taken to exist.
func (kb *KernelBuild) HasObject(object string) bool {
	if !kb.Known() || object == kabi.Vmlinux || kb.livepatchModules[object] {
		return true
	}
	_, ok := kb.object(object)
	return ok
}

// damaged returns why the build's module file for object could not be
// read, or nil.
func (kb *KernelBuild) damaged(object string) error {
	if !kb.Known() {
		return nil
	}
	return kb.b.Damaged[object]
}

// Symbols is what the kernel model asks of the build, or nil when the
// build's symbols are unknown (then the model finds everything).
func (kb *KernelBuild) Symbols() klp.Symbols {
	if !kb.Known() {
		return nil
	}
	return modelSymbols{kb}
}

func (r *resolver) kernel(k *lang.Kernel) *plan.Kernel {
	out := &plan.Kernel{Name: k.Name, Release: k.Release.Value, Arch: "x86_64",
		Headers: k.Headers.Get(), Source: k.Source.Get(), Config: k.Config.Get(), Vmlinux: k.Vmlinux.Get(), Inputs: []string{}}
	if k.Arch != nil {
		out.Arch = k.Arch.Value
	}
	for _, p := range k.Inputs() {
		out.Inputs = append(out.Inputs, p.Abs)
	}
	if r.resolved == nil {
		r.resolved = map[resolveKey]int{}
	}
	kb := &KernelBuild{decl: k, livepatchModules: r.livepatchModules, resolved: r.resolved}
	r.builds[k.Name] = kb
	kb.line, out.Line = r.line(k)
	if !k.HasSymbols() {
		r.warnf(diag.KernelWithoutSymbols, lang.RangePtr(k.DeclRange), "Kernel build without symbols",
			"The kernel %q names no kallsyms, system_map, vmlinux, vmlinuz or modules, so klpc cannot check that the functions its releases patch exist, are unique or traceable on that build; sympos is taken as written.", k.Name)
		return out
	}
	if b := r.loadSymbols(k); b != nil {
		kb.b = b
		out.Resolved = true
		out.Vermagic = kb.vermagic()
	}
	return out
}

// line chooses the model of a kernel: the line the kernel block names, or
// the one its release belongs to (klp.LineFor); a release of a version no
// line was verified on gets the nearest older line, with a warning.
func (r *resolver) line(k *lang.Kernel) (klp.Line, plan.Line) {
	var l klp.Line
	exact, override := false, k.Line != nil
	if override {
		for _, cand := range klp.Lines() {
			if cand.String() == k.Line.Value {
				l = cand
			}
		}
		if l == 0 {
			var names []string
			for _, cand := range klp.Lines() {
				names = append(names, strconv.Quote(cand.String()))
			}
			r.errorf(diag.UnknownLine, lang.RangePtr(k.Line.Range), "Unknown kernel line",
				"klpc models the livepatch core of the kernel lines %s; %q is not one of them.", strings.Join(names, ", "), k.Line.Value)
			l = klp.Line6_1
		}
		_, exact, _ = klp.LineFor(k.Release.Value)
	} else {
		var err error
		l, exact, err = klp.LineFor(k.Release.Value)
		if err != nil {
			l = klp.Line6_1
		}
		if !exact {
			r.warnf(diag.LineNotVerified, lang.RangePtr(k.Release.Range), "Kernel line not modelled",
				"The kernel %q is release %s; klpc has no model verified on its version and simulates it with the livepatch core of Linux %s (verified on %s), the nearest older line it models. Set line = \"...\" in the kernel block to choose another.",
				k.Name, k.Release.Value, l, l.Verified())
		}
	}
	return l, plan.Line{Name: l.String(), Verified: l.Verified(), Exact: exact, Override: override,
		ClearsModuleRelocs: l.ClearsModuleRelocs(), SysfsReplace: l.SysfsReplace(), SysfsStackOrder: l.SysfsStackOrder()}
}

// loadSymbols reads the symbol files a kernel block names, through the
// index cache. A file that cannot be read is an error on the attribute
// that names it.
func (r *resolver) loadSymbols(k *lang.Kernel) *target.Build {
	spec := target.Spec{
		Kallsyms: k.Kallsyms.Get(), SystemMap: k.SystemMap.Get(), Vmlinux: k.Vmlinux.Get(), Vmlinuz: k.Vmlinuz.Get(), Modules: k.Modules.Get(),
		Symvers: k.Symvers.Get(), Config: k.Config.Get(), Ftrace: k.Ftrace.Get(),
	}
	b, err := target.LoadCached(spec, target.Options{NoCache: r.opts.NoCache, Budget: r.budget, Shared: r.shared})
	if err != nil {
		rng := k.DeclRange
		for _, p := range k.Inputs() {
			if strings.Contains(err.Error(), p.Abs) {
				rng = p.Range
			}
		}
		r.errorf(diag.KernelUnreadable, lang.RangePtr(rng), "Cannot read kernel build", "Reading the symbols of kernel %q failed: %s", k.Name, err)
		return nil
	}
	if b.Vmlinux == nil {
		r.warnf(diag.NoVmlinuxSymbols, lang.RangePtr(k.DeclRange), "No vmlinux symbols",
			"The kernel %q names no kallsyms, system_map, vmlinux or vmlinuz, so functions of vmlinux are not checked on it.", k.Name)
	}
	return b
}

// resolveFunc returns the sympos a release's function has on a build.
func (r *resolver) resolveFunc(kb *KernelBuild, l *lang.Livepatch, kr lang.Ref, object string, rf *relFunc) (int, bool) {
	fn := rf.decl
	if r.livepatchModules[object] {
		r.warnf(diag.LivepatchModuleObject, lang.RangePtr(fn.NameRange), "Patches a livepatch module",
			"The livepatch %q patches %s of %q, a livepatch module of this configuration: the kernel applies it when that module loads (klp_module_coming runs for livepatch modules too) and reverts it when the module goes, and a call then runs the end of the chain of replacements. No kernel build holds the module, so sympos %d is taken as written.",
			l.Name, fn.Name, object, fn.SymposValue())
		return fn.SymposValue(), true
	}
	if !kb.Known() {
		if fn.File != nil {
			r.errorf(diag.FileSelectFailed, lang.RangePtr(fn.File.Range), "Cannot select a symbol by file",
				"The function %s selects its symbol by source file, but the kernel %q has no symbol files to look the file up in; give sympos instead, or name the build's symbols in the kernel block.",
				fn.Name, kr.Name)
			return 0, false
		}
		return fn.SymposValue(), true
	}
	if err := kb.damaged(object); err != nil {
		r.errorf(diag.ModuleDamaged, lang.RangePtr(kr.Range), "Module file damaged",
			"The livepatch %q patches object %q (fix %q), but the kernel %q's module file for it cannot be read: %s. The rest of the build is read; only releases that patch %s are affected.",
			l.Name, object, rf.fix.Name, kr.Name, err, object).WithRelated("the function it patches", lang.Range(fn.DeclRange))
		return 0, false
	}
	if !kb.HasObject(object) {
		r.errorf(diag.ObjectNotInKernel, lang.RangePtr(kr.Range), "Object not in kernel build",
			"The livepatch %q patches object %q (fix %q), but the kernel %q has no module of that name.",
			l.Name, object, rf.fix.Name, kr.Name).WithRelated("the function it patches", lang.Range(fn.DeclRange))
		return 0, false
	}
	pos, prob := kb.resolve(object, fn.Name, fn.SymposValue(), fn.File.Get(), true)
	if prob != nil && object != kabi.Vmlinux {
		if o, ok := kb.object(object); ok {
			if alt := o.ResolveLoading(fn.Name, fn.SymposValue(), fn.File.Get()); alt.Problem == target.OK && alt.Chosen >= 0 {
				c := alt.Candidates[alt.Chosen]
				r.warnf(diag.InitFunction, lang.RangePtr(fn.NameRange), "Patches an __init function",
					"On kernel %q, %s of %s exists only while the module loads (its init code, freed by do_init_module): livepatch %q patches it only when %s loads after the livepatch (klp_module_coming finds the symbol in the module's full symbol table), and the kernel refuses the livepatch (EINVAL) while %s is already loaded. A later replace release must not carry it as a nop either.",
					kr.Name, fn.Name, object, l.Name, object, object)
				pos, prob = c.Sympos, nil
				if fn.File == nil {
					pos = fn.SymposValue()
				}
			}
		}
	}
	if prob != nil {
		rng := fn.NameRange
		if fn.File != nil && prob.code == diag.FileSelectFailed {
			rng = fn.File.Range
		}
		r.errorf(prob.code, lang.RangePtr(rng), prob.summary, "On kernel %q (release %s), for livepatch %q: %s",
			kr.Name, kb.Release(), l.Name, prob.detail)
		return 0, false
	}
	return pos, true
}

// resolveSymbol checks a symbol the replacement code refers to.
func (r *resolver) resolveSymbol(kb *KernelBuild, l *lang.Livepatch, kr lang.Ref, object string, rs *relSymbol) (*plan.Symbol, bool) {
	s := rs.decl
	sym := &plan.Symbol{Name: s.Name, Sympos: s.SymposValue(), Fix: rs.fix.Name, Range: lang.Range(s.NameRange)}
	if !kb.Known() {
		if s.File != nil {
			r.errorf(diag.FileSelectFailed, lang.RangePtr(s.File.Range), "Cannot select a symbol by file",
				"The symbol %s selects its definition by source file, but the kernel %q has no symbol files to look the file up in; give sympos instead.", s.Name, kr.Name)
			return nil, false
		}
		return sym, true
	}
	pos, prob := kb.resolve(object, s.Name, s.SymposValue(), s.File.Get(), false)
	if prob != nil {
		r.errorf(prob.code, lang.RangePtr(s.NameRange), prob.summary, "On kernel %q (release %s), for livepatch %q: %s",
			kr.Name, kb.Release(), l.Name, prob.detail)
		return nil, false
	}
	sym.Sympos = pos
	sym.Exported = kb.exported(object, s.Name)
	if sym.Exported {
		r.warnf(diag.SymbolExported, lang.RangePtr(s.NameRange), "Symbol is exported",
			"On kernel %q, Module.symvers exports %s from %s: the replacement code can use it through an ordinary relocation, and a .klp.sym entry is not needed.", kr.Name, s.Name, object)
	}
	return sym, true
}

// symbolProblem is why a symbol cannot be used on a build: the kernel's
// own words where it has them, and a fuller explanation.
type symbolProblem struct {
	code    diag.Code
	summary string
	detail  string
	// refusal is what the kernel logs when it meets the problem.
	refusal *klp.Refusal
}

// resolve finds a function or symbol of an object; file, when not empty,
// selects a duplicated name by its source file.
func (kb *KernelBuild) resolve(object, name string, sympos int, file string, wantFunc bool) (int, *symbolProblem) {
	if kb.livepatchModules[object] {
		return sympos, nil // built by this configuration: not in the build
	}
	o, ok := kb.object(object)
	if !ok {
		if object == kabi.Vmlinux {
			return sympos, nil // no vmlinux symbols: nothing to check
		}
		return 0, &symbolProblem{
			code:    diag.ObjectNotInKernel,
			summary: "Object not in kernel build",
			detail:  fmt.Sprintf("the build has no module %q.", object),
			refusal: &klp.Refusal{Errno: klp.ENOENT, Log: []string{fmt.Sprintf("modprobe: FATAL: Module %s not found", object)}},
		}
	}
	key := resolveKey{object: o, name: name, file: file, sympos: sympos, wantFunction: wantFunc}
	if pos, ok := kb.resolved[key]; ok {
		return pos, nil
	}
	pos, prob := kb.resolveIn(o, object, name, sympos, file, wantFunc)
	if prob == nil && kb.resolved != nil {
		kb.resolved[key] = pos
	}
	return pos, prob
}

// resolveIn is resolve's lookup in the object's symbols.
func (kb *KernelBuild) resolveIn(o *target.Object, object, name string, sympos int, file string, wantFunc bool) (int, *symbolProblem) {
	res := o.Resolve(name, sympos, file)
	switch res.Problem {
	case target.OK:
	case target.NotFunction:
		if wantFunc {
			// ftrace has no call site in data: klp_patch_func fails.
			return 0, problem(diag.NotAFunction, "Not a function", res, klp.EINVAL,
				fmt.Sprintf("livepatch: failed to find location for function '%s'", name))
		}
	case target.NotTraceable:
		if wantFunc {
			return 0, problem(diag.NotTraceable, "Function cannot be livepatched", res, klp.EINVAL,
				fmt.Sprintf("livepatch: failed to find location for function '%s'", name))
		}
	case target.NotFound:
		return 0, problem(diag.SymbolNotFound, "Symbol not found", res, klp.EINVAL, fmt.Sprintf("livepatch: symbol '%s' not found in symbol table", name))
	case target.Ambiguous:
		return 0, problem(diag.SymbolAmbiguous, "Ambiguous symbol", res, klp.EINVAL, fmt.Sprintf("livepatch: unresolvable ambiguity for symbol '%s' in object '%s'", name, object))
	case target.SymposOutOfRange:
		return 0, problem(diag.SymposNotFound, "Symbol position not found", res, klp.EINVAL, fmt.Sprintf("livepatch: symbol position %d for symbol '%s' in object '%s' not found", sympos, name, object))
	default:
		return 0, problem(diag.FileSelectFailed, "Cannot select symbol by file", res, klp.EINVAL, "")
	}
	if res.Chosen < 0 || file == "" {
		return sympos, nil
	}
	return res.Candidates[res.Chosen].Sympos, nil
}

func problem(code diag.Code, summary string, res target.Resolution, errno klp.Errno, log string) *symbolProblem {
	detail := res.Describe()
	if !strings.HasSuffix(detail, "?") && !strings.Contains(detail, "\n") {
		detail += "."
	}
	if log == "" {
		log = "livepatch: " + res.Describe()
	}
	return &symbolProblem{code: code, summary: summary, detail: detail, refusal: &klp.Refusal{Errno: errno, Log: []string{log}}}
}

func (kb *KernelBuild) target(object string) *plan.TargetMod {
	if !kb.Known() || object == kabi.Vmlinux {
		return nil
	}
	o, ok := kb.object(object)
	if !ok || (o.SrcVersion == "" && o.Vermagic == "") {
		return nil
	}
	return &plan.TargetMod{SrcVersion: o.SrcVersion, Vermagic: o.Vermagic}
}

func (kb *KernelBuild) exported(object, name string) bool {
	e, ok := kb.b.Export(name)
	if !ok {
		return false
	}
	return e.Module == object || path.Base(e.Module) == object || target.ModuleName(path.Base(e.Module)) == object
}

func (kb *KernelBuild) vermagic() string {
	for _, n := range kb.b.ModuleNames() {
		if v := kb.b.Modules[n].Vermagic; v != "" {
			return v
		}
	}
	return ""
}

// modelSymbols lets the kernel model ask a build's symbols.
type modelSymbols struct{ kb *KernelBuild }

// InitOnly reports whether a module's function exists only while the
// module loads (klp.InitSymbols).
func (m modelSymbols) InitOnly(object, name string, sympos int) bool {
	if rb := m.kb.selectedBuild(object); rb != nil {
		return rb.obj.InitOnly(name, sympos)
	}
	o, ok := m.kb.object(object)
	return ok && object != kabi.Vmlinux && o.InitOnly(name, sympos)
}

// Find answers klp_find_object_symbol. A module's init symbols are found
// too (the full table a COMING module has); the model refuses them for a
// live module through InitOnly.
func (m modelSymbols) Find(object, name string, sympos int) *klp.Refusal {
	if rb := m.kb.selectedBuild(object); rb != nil {
		return buildRefusal(object, name, sympos, false, rb)
	}
	_, prob := m.kb.resolve(object, name, sympos, "", false)
	if prob != nil && m.foundLoading(object, name, sympos) {
		return nil
	}
	if prob != nil {
		return prob.refusal
	}
	return nil
}

// Traceable answers ftrace_location for the function Find found.
func (m modelSymbols) Traceable(object, name string, sympos int) *klp.Refusal {
	if rb := m.kb.selectedBuild(object); rb != nil {
		return buildRefusal(object, name, sympos, true, rb)
	}
	_, prob := m.kb.resolve(object, name, sympos, "", true)
	if prob != nil && m.foundLoading(object, name, sympos) {
		return nil
	}
	if prob != nil {
		return prob.refusal
	}
	return nil
}

// foundLoading reports whether a module's full symbol table, init symbols
// included, has the function at that sympos.
func (m modelSymbols) foundLoading(object, name string, sympos int) bool {
	if object == kabi.Vmlinux {
		return false
	}
	o, ok := m.kb.object(object)
	if !ok {
		return false
	}
	r := o.ResolveLoading(name, sympos, "")
	return r.Problem == target.OK && r.Chosen >= 0
}
