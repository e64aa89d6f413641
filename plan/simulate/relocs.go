package simulate

import (
	"github.com/klpc/klpc/plan"
	"github.com/klpc/klpc/plan/klp"
)

// relocSymbols are the symbols of a module object that its klp relocation
// sections name (.klp.sym.<object>.<name>,<sympos>): the ones not exported,
// which klp_resolve_symbols looks up in the module when it is present
// (kernel/livepatch/core.c, 6.1, 6.12, 7.x).
func relocSymbols(o *plan.Object) []klp.SymbolSpec {
	var out []klp.SymbolSpec
	for _, s := range o.Symbols {
		if !s.Exported {
			out = append(out, klp.SymbolSpec{Name: s.Name, Sympos: s.Sympos})
		}
	}
	return out
}
