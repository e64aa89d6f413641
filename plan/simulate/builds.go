package simulate

import (
	"github.com/klpc/klpc/diag"
	"github.com/klpc/klpc/lang"
)

// BuildSelector is implemented by kernels that know other builds of their
// modules (module_build): the model's symbol lookups for a module then
// answer from the build loaded, as klp_find_object_symbol searches the
// loaded module's own symbol table (kernel/livepatch/core.c, 6.1, 6.12,
// 7.x).
type BuildSelector interface {
	// SelectBuild makes build ("" for the kernel's own) the one a
	// module_load of module loads from now on.
	SelectBuild(module, build string) error
	// ResetBuilds selects the kernel's own build of every module.
	ResetBuilds()
}

// BuildMatcher is implemented by kernels that can tell which build of a
// module a host has loaded from its srcversion (module_build).
type BuildMatcher interface {
	// BuildOfSrcversion names the build of module with that srcversion,
	// "" for the kernel's own; ok is false when builds of the module have
	// srcversions and none is this one, known then lists them.
	BuildOfSrcversion(module, srcversion string) (build string, known []string, ok bool)
}

// selectBuild picks the build a module_load step loads. A module already
// loaded keeps its build: insmod of another is refused with EEXIST by the
// kernel, which the model reports when the load runs.
func (s *Session) selectBuild(st *lang.Step, build string) (string, *diag.Diagnostic) {
	sel, ok := s.facts.(BuildSelector)
	if !ok {
		if build != "" {
			return "no module builds", diag.Errorf(diag.UnknownModuleBuild, lang.RangePtr(st.Build.Range), "Unknown module build",
				"The kernel has no module_build %q.", build)
		}
		return "", nil
	}
	if s.k.Loaded(st.Module.Value) {
		return "", nil
	}
	if err := sel.SelectBuild(st.Module.Value, build); err != nil {
		return err.Error(), diag.Errorf(diag.UnknownModuleBuild, lang.RangePtr(st.Build.Range), "Unknown module build", "%s", err)
	}
	return "", nil
}

// resetBuilds starts a session on the kernel's own builds.
func resetBuilds(facts Kernel) {
	if sel, ok := facts.(BuildSelector); ok {
		sel.ResetBuilds()
	}
}
