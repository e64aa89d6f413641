package resolve

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"strings"

	"github.com/klpc/klpc/diag"
	"github.com/klpc/klpc/internal/safeio"
	"github.com/klpc/klpc/lang"
	"github.com/klpc/klpc/plan"
	"github.com/klpc/klpc/plan/klp"
	"github.com/klpc/klpc/target"
)

// maxModuleBuild caps a module_build file hashed for its identity.
const maxModuleBuild = 256 << 20

// modBuild is one module_build, read.
type modBuild struct {
	obj *target.Object
	id  string
	err error
	// reported is set once err has been reported at the module_build.
	reported bool
}

// readModuleBuild reads a module_build's .ko (the file, or the module's
// file in the folder) and identifies it by srcversion, else by SHA-256.
func readModuleBuild(mb *lang.ModuleBuild) *modBuild {
	module := target.ModuleName(mb.Module.Value)
	st, err := os.Stat(mb.Path.Abs)
	if err != nil {
		return &modBuild{err: err}
	}
	var obj *target.Object
	if st.IsDir() {
		mods, err := target.ReadModules(mb.Path.Abs)
		if err != nil {
			return &modBuild{err: err}
		}
		if obj = mods[module]; obj == nil {
			return &modBuild{err: fmt.Errorf("%s holds no module %s", mb.Path.Abs, module)}
		}
	} else {
		if obj, err = target.ReadModule(mb.Path.Abs); err != nil {
			return &modBuild{err: err}
		}
		if obj.Name != module {
			return &modBuild{err: fmt.Errorf("%s is module %s, not %s", mb.Path.Abs, obj.Name, module)}
		}
	}
	if obj.SrcVersion != "" {
		return &modBuild{obj: obj, id: "srcversion:" + obj.SrcVersion}
	}
	data, err := safeio.ReadFile(obj.Path, maxModuleBuild)
	if err != nil {
		return &modBuild{err: err}
	}
	sum := sha256.Sum256(data)
	return &modBuild{obj: obj, id: "sha256:" + hex.EncodeToString(sum[:])}
}

// moduleBuilds resolves a release's objects against every module_build of
// the kernel for a module the release patches, as klp_find_object_symbol
// (kernel/livepatch/core.c, 6.1, 6.12, 7.x) would look them up in that
// build if it were the one loaded. A function or symbol that resolves
// otherwise than on the kernel's own build, or not at all, is a warning at
// the module_build.
func (r *resolver) moduleBuilds(kb *KernelBuild, l *lang.Livepatch, objects []*relObject) []*plan.ModuleBuild {
	out := []*plan.ModuleBuild{}
	if kb == nil || kb.decl == nil {
		return out
	}
	for _, mb := range kb.decl.ModuleBuilds {
		if mb.Module == nil || mb.Path == nil {
			continue
		}
		module := target.ModuleName(mb.Module.Value)
		var ro *relObject
		for _, o := range objects {
			if o.name == module {
				ro = o
			}
		}
		if ro == nil {
			continue
		}
		rb := kb.readBuild(mb)
		if rb.err != nil {
			if !rb.reported {
				rb.reported = true
				r.errorf(diag.ModuleBuildUnreadable, lang.RangePtr(mb.DeclRange), "Module build unreadable",
					"Module build %q of kernel %q: %s.", mb.Name, kb.decl.Name, rb.err)
			}
			continue
		}
		pb := &plan.ModuleBuild{Name: mb.Name, Module: module, ID: rb.id, Funcs: []*plan.ModuleBuildFunc{}, Symbols: []*plan.ModuleBuildSymbol{}}
		var differs []string
		for _, rf := range ro.funcs {
			own, _ := kb.resolveOwn(module, rf.decl.Name, rf.decl.SymposValue(), rf.decl.File.Get(), true)
			f := &plan.ModuleBuildFunc{Key: plan.FuncKey(module, rf.decl.Name, own), Name: rf.decl.Name}
			f.Sympos, f.Problem = resolveIn(rb.obj, rf.decl.Name, rf.decl.SymposValue(), rf.decl.File.Get(), true)
			switch {
			case f.Problem != "":
				differs = append(differs, fmt.Sprintf("function %s: %s", rf.decl.Name, f.Problem))
			case own > 0 && f.Sympos != own:
				differs = append(differs, fmt.Sprintf("function %s: sympos %d here, %d in the kernel's own build", rf.decl.Name, f.Sympos, own))
			}
			pb.Funcs = append(pb.Funcs, f)
		}
		for _, rs := range ro.symbols {
			s := &plan.ModuleBuildSymbol{Name: rs.decl.Name}
			s.Sympos, s.Problem = resolveIn(rb.obj, rs.decl.Name, rs.decl.SymposValue(), rs.decl.File.Get(), false)
			if s.Problem != "" {
				differs = append(differs, fmt.Sprintf("symbol %s: %s", rs.decl.Name, s.Problem))
			}
			pb.Symbols = append(pb.Symbols, s)
		}
		for _, d := range differs {
			r.warnf(diag.ModuleBuildDiffers, lang.RangePtr(mb.DeclRange), "Release differs on a module build",
				"Livepatch %q on module build %q (%s) of kernel %q: %s", l.Name, mb.Name, rb.id, kb.decl.Name, sentence(d))
		}
		out = append(out, pb)
	}
	return out
}

// resolveOwn is the sympos the kernel's own build gives, or 0.
func (kb *KernelBuild) resolveOwn(object, name string, sympos int, file string, wantFunc bool) (int, bool) {
	if !kb.Known() {
		return 0, false
	}
	if _, ok := kb.object(object); !ok {
		return 0, false
	}
	pos, prob := kb.resolve(object, name, sympos, file, wantFunc)
	return pos, prob == nil
}

// resolveIn resolves a name in one module build as KernelBuild.resolve does
// in the kernel's own build.
func resolveIn(o *target.Object, name string, sympos int, file string, wantFunc bool) (int, string) {
	res := o.Resolve(name, sympos, file)
	switch res.Problem {
	case target.OK:
	case target.NotFunction, target.NotTraceable:
		if wantFunc {
			return 0, res.Describe()
		}
	default:
		return 0, res.Describe()
	}
	if res.Chosen < 0 || file == "" {
		return sympos, ""
	}
	return res.Candidates[res.Chosen].Sympos, ""
}

// SelectBuild makes the module_build named build the one the model's
// lookups in module answer from; "" selects the kernel's own build.
func (kb *KernelBuild) SelectBuild(module, build string) error {
	if kb == nil {
		return fmt.Errorf("no kernel build to choose module builds of")
	}
	module = target.ModuleName(module)
	if build == "" {
		delete(kb.selected, module)
		return nil
	}
	mb := kb.moduleBuild(build)
	if mb == nil {
		return fmt.Errorf("kernel %q has no module_build %q", kb.decl.Name, build)
	}
	if target.ModuleName(mb.Module.Value) != module {
		return fmt.Errorf("module build %q of kernel %q is a build of %s, not %s", build, kb.decl.Name, mb.Module.Value, module)
	}
	rb := kb.readBuild(mb)
	if rb.err != nil {
		return fmt.Errorf("module build %q cannot be read: %v", build, rb.err)
	}
	if kb.selected == nil {
		kb.selected = map[string]*modBuild{}
	}
	kb.selected[module] = rb
	return nil
}

// moduleBuild is the kernel's module_build named name (names are unique
// per kernel), or nil; one without a module or path is none.
func (kb *KernelBuild) moduleBuild(name string) *lang.ModuleBuild {
	for _, mb := range kb.decl.ModuleBuilds {
		if mb.Name == name && mb.Module != nil && mb.Path != nil {
			return mb
		}
	}
	return nil
}

// ResetBuilds selects the kernel's own build of every module.
func (kb *KernelBuild) ResetBuilds() {
	if kb != nil {
		kb.selected = nil
	}
}

// selectedBuild is the module_build the model loads for object, or nil.
func (kb *KernelBuild) selectedBuild(object string) *modBuild {
	if kb == nil {
		return nil
	}
	return kb.selected[object]
}

// buildRefusal is what the kernel logs when a lookup fails in a
// module_build (the messages of klp_find_object_symbol and
// klp_patch_func's ftrace_location check).
func buildRefusal(object, name string, sympos int, wantFunc bool, rb *modBuild) *klp.Refusal {
	res := rb.obj.Resolve(name, sympos, "")
	switch res.Problem {
	case target.OK:
		return nil
	case target.NotFunction, target.NotTraceable:
		if !wantFunc {
			return nil
		}
		return &klp.Refusal{Errno: klp.EINVAL, Log: []string{fmt.Sprintf("livepatch: failed to find location for function '%s'", name)}}
	case target.NotFound:
		return &klp.Refusal{Errno: klp.EINVAL, Log: []string{fmt.Sprintf("livepatch: symbol '%s' not found in symbol table", name)}}
	case target.Ambiguous:
		return &klp.Refusal{Errno: klp.EINVAL, Log: []string{fmt.Sprintf("livepatch: unresolvable ambiguity for symbol '%s' in object '%s'", name, object)}}
	default:
		return &klp.Refusal{Errno: klp.EINVAL, Log: []string{fmt.Sprintf("livepatch: symbol position %d for symbol '%s' in object '%s' not found", sympos, name, object)}}
	}
}

// BuildOfSrcversion names the build of module whose srcversion is
// srcversion, as /sys/module/<module>/srcversion shows it on a host: ""
// for the kernel's own build, else a module_build's name. ok is false when
// some build of the module has a srcversion and none has this one; a
// module none of whose builds has a srcversion (modpost writes one only for
// modules with MODULE_VERSION, or with CONFIG_MODULE_SRCVERSION_ALL) gives
// the kernel's own build.
func (kb *KernelBuild) BuildOfSrcversion(module, srcversion string) (build string, known []string, ok bool) {
	if kb == nil || srcversion == "" {
		return "", nil, true
	}
	module = target.ModuleName(module)
	if kb.b != nil {
		if o, found := kb.b.Object(module); found && o.SrcVersion != "" {
			if o.SrcVersion == srcversion {
				return "", nil, true
			}
			known = append(known, "the kernel's own "+o.SrcVersion)
		}
	}
	for _, mb := range kb.buildsOf(module) {
		rb := kb.readBuild(mb)
		if rb.err != nil || rb.obj.SrcVersion == "" {
			continue
		}
		if rb.obj.SrcVersion == srcversion {
			return mb.Name, nil, true
		}
		known = append(known, mb.Name+" "+rb.obj.SrcVersion)
	}
	return "", known, len(known) == 0
}

// sentence ends a difference with a full stop unless it ends a question
// or a sentence already.
func sentence(d string) string {
	if !strings.HasSuffix(d, "?") && !strings.HasSuffix(d, ".") {
		d += "."
	}
	return d
}
