package resolve

import (
	"fmt"

	"github.com/klpc/klpc/diag"
	"github.com/klpc/klpc/lang"
	"github.com/klpc/klpc/target"
)

// object is the build of a module that lookups answer from: the
// module_build the release being resolved is restricted to (pinned), else
// the kernel's own build, else, for a module that exists only as
// module_builds (an out-of-tree module, a kernel module package), the
// first of them that can be read. modprobe loads whatever file is on disk;
// klp_find_object_symbol then searches that module's own symbol table
// (kernel/livepatch/core.c, 6.1, 6.12, 7.x).
func (kb *KernelBuild) object(name string) (*target.Object, bool) {
	if kb == nil || kb.b == nil {
		return nil, false
	}
	if rb := kb.pinned[name]; rb != nil {
		return rb.obj, true
	}
	if o, ok := kb.b.Object(name); ok {
		return o, true
	}
	if rb := kb.defaultBuild(name); rb != nil {
		return rb.obj, true
	}
	return nil, false
}

// defaultBuild is the module_build a module_load without build loads for
// a module the kernel's own build lacks (object has looked there first):
// the first declared that can be read, or nil.
func (kb *KernelBuild) defaultBuild(module string) *modBuild {
	for _, mb := range kb.buildsOf(module) {
		if rb := kb.readBuild(mb); rb.err == nil {
			return rb
		}
	}
	return nil
}

// buildsOf lists the kernel's module_builds of module, in declaration
// order.
func (kb *KernelBuild) buildsOf(module string) []*lang.ModuleBuild {
	var out []*lang.ModuleBuild
	if kb == nil || kb.decl == nil {
		return nil
	}
	for _, mb := range kb.decl.ModuleBuilds {
		if mb.Module != nil && mb.Path != nil && target.ModuleName(mb.Module.Value) == module {
			out = append(out, mb)
		}
	}
	return out
}

// readBuild reads a module_build once per kernel build.
func (kb *KernelBuild) readBuild(mb *lang.ModuleBuild) *modBuild {
	if kb.modBuilds == nil {
		kb.modBuilds = map[string]*modBuild{}
	}
	rb := kb.modBuilds[mb.Name]
	if rb == nil {
		rb = readModuleBuild(mb)
		kb.modBuilds[mb.Name] = rb
	}
	return rb
}

// pin restricts lookups to the module_builds a release names
// (livepatch module_builds) while it is resolved for kb, and returns the
// function that lifts the restriction. A name the kernel has no
// module_build of, two builds of one module, or an unreadable build is an
// error at the name.
func (r *resolver) pin(kb *KernelBuild, l *lang.Livepatch) func() {
	if kb == nil || kb.decl == nil || len(l.ModuleBuilds) == 0 {
		return func() {}
	}
	pinned := map[string]*modBuild{}
	by := map[string]string{}
	for _, name := range l.ModuleBuilds {
		mb := kb.moduleBuild(name.Value)
		if mb == nil {
			r.errorf(diag.UnknownModuleBuild, lang.RangePtr(name.Range), "Unknown module build",
				"The livepatch %q is restricted to module build %q, but the kernel %q has no module_build of that name.", l.Name, name.Value, kb.decl.Name)
			continue
		}
		module := target.ModuleName(mb.Module.Value)
		if prev, ok := by[module]; ok {
			r.errorf(diag.ModuleBuildsConflict, lang.RangePtr(name.Range), "Two builds of one module",
				"The livepatch %q is restricted to module builds %q and %q of kernel %q, both builds of %s: a release is made for one build of a module.", l.Name, prev, name.Value, kb.decl.Name, module)
			continue
		}
		by[module] = mb.Name
		rb := kb.readBuild(mb)
		if rb.err != nil {
			r.errorf(diag.ModuleBuildUnreadable, lang.RangePtr(name.Range), "Module build unreadable",
				"Module build %q of kernel %q, which livepatch %q is restricted to: %s.", mb.Name, kb.decl.Name, l.Name, rb.err)
			continue
		}
		pinned[module] = rb
	}
	kb.pinned = pinned
	return func() { kb.pinned = nil }
}

// pinnedOwnDiffers warns, for a release restricted to a module_build of
// a module the kernel also has its own build of, about each function or
// symbol that the own build would not resolve as the restricted build
// does: there the kernel refuses the release (klp_find_object_symbol,
// 6.1, 6.12, 7.x).
func (r *resolver) pinnedOwnDiffers(kb *KernelBuild, l *lang.Livepatch, objects []*relObject) {
	if kb == nil || kb.b == nil || len(kb.pinned) == 0 {
		return
	}
	for _, ro := range objects {
		rb := kb.pinned[ro.name]
		if rb == nil {
			continue
		}
		own, ok := kb.b.Object(ro.name)
		if !ok {
			continue
		}
		var rng *lang.String
		for _, name := range l.ModuleBuilds {
			if mb := kb.modBuilds[name.Value]; mb == rb {
				rng = name
			}
		}
		if rng == nil {
			continue
		}
		var differs []string
		for _, rf := range ro.funcs {
			want, _ := resolveIn(rb.obj, rf.decl.Name, rf.decl.SymposValue(), rf.decl.File.Get(), true)
			got, prob := resolveIn(own, rf.decl.Name, rf.decl.SymposValue(), rf.decl.File.Get(), true)
			switch {
			case prob != "":
				differs = append(differs, fmt.Sprintf("function %s: %s", rf.decl.Name, prob))
			case got != want:
				differs = append(differs, fmt.Sprintf("function %s: sympos %d there, %d in build %q", rf.decl.Name, got, want, rng.Value))
			}
		}
		for _, rs := range ro.symbols {
			if _, prob := resolveIn(own, rs.decl.Name, rs.decl.SymposValue(), rs.decl.File.Get(), false); prob != "" {
				differs = append(differs, fmt.Sprintf("symbol %s: %s", rs.decl.Name, prob))
			}
		}
		for _, d := range differs {
			r.warnf(diag.ModuleBuildDiffers, lang.RangePtr(rng.Range), "Release differs on a module build",
				"Livepatch %q is made for module build %q of %s; on kernel %q's own build of %s the kernel would refuse it or patch otherwise: %s", l.Name, rng.Value, ro.name, kb.decl.Name, ro.name, sentence(d))
		}
	}
}
