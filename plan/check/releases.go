package check

import (
	"strings"

	"github.com/klpc/klpc/diag"
	"github.com/klpc/klpc/kabi"
	"github.com/klpc/klpc/plan"
)

// RelocationsOnce warns about .klp.rela relocations against a module's own
// symbols on kernels of the 6.1 line: 6.1 writes them when the module
// loads (klp_apply_object_relocs) and never clears them when it goes, so
// x86's apply_relocate_add refuses to write them again and the module
// cannot be loaded a second time while the livepatch is. 6.12 and 7.x
// clear them (klp_cleanup_module_patches_limited -> clear_relocate_add).
var RelocationsOnce = &Analyzer{
	Name:  "relocations-once",
	Doc:   "Module-specific klp relocations are written once on 6.1: the module cannot be reloaded while the livepatch is loaded.",
	Codes: []diag.Code{diag.RelocationsOnce},
	Run: func(pass *Pass) {
		for _, lp := range pass.Plan.Livepatches {
			warned := map[string]bool{}
			for _, b := range lp.Builds {
				k := pass.Plan.Kernel(b.Kernel)
				if k == nil || k.Line.ClearsModuleRelocs {
					continue
				}
				for _, m := range b.Modules {
					for _, o := range m.Objects {
						if o.Name == kabi.Vmlinux || !o.NeedsKlpRelocs() || warned[o.Name] {
							continue
						}
						warned[o.Name] = true
						pass.Report(relocationsOnce(lp, o, k))
					}
				}
			}
		}
	},
}

func relocationsOnce(lp *plan.Livepatch, o *plan.Object, k *plan.Kernel) *diag.Diagnostic {
	var names []string
	rng := lp.NameRange
	for _, s := range o.Symbols {
		if !s.Exported {
			names = append(names, s.Name)
			if rng == lp.NameRange && !s.Range.Empty() {
				rng = s.Range
			}
		}
	}
	return diag.Warnf(diag.RelocationsOnce, rng.Ptr(), "Module relocations apply only once",
		"The replacement code of livepatch %q refers to %s of module %q through .klp.rela.%s sections. On kernel %q (the %s line), Linux writes those relocations when %s loads and does not clear them when it is removed, so once %s has been unloaded the kernel refuses to load it again (ENOEXEC) for as long as %q is loaded. Disable and unload the livepatch before reloading the module, or use exported symbols.",
		lp.Name, strings.Join(names, ", "), o.Name, o.Name, k.Name, k.Line.Name, o.Name, o.Name, lp.Name)
}

// UpgradeSafety reports a per-object upgrade procedure that the simulation
// could not verify: a step the kernel refuses, or a moment where a
// function both releases fix runs the original code.
var UpgradeSafety = &Analyzer{
	Name:  "upgrade-safety",
	Doc:   "Every per-object upgrade must keep the fixes the two releases share in force at every step and during every transition.",
	Codes: []diag.Code{diag.UnsafeUpgrade},
	Run: func(pass *Pass) {
		for _, lp := range pass.Plan.Livepatches {
			for _, u := range lp.Upgrades {
				if u.Verified {
					continue
				}
				pass.Report(diag.Errorf(diag.UnsafeUpgrade, lp.NameRange.Ptr(), "Unsafe per-object upgrade",
					"Upgrading from %q to %q on kernel %q: %s Fix what the kernel refuses, or make sure %q patches every function the fixes it shares with %q patch.",
					u.From, lp.Name, u.Kernel, u.Reason, lp.Name, u.From))
			}
		}
	},
}
