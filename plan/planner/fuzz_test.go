package planner

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/klpc/klpc/lang"
)

// FuzzPlan plans arbitrary configurations, symbol files left out: reading,
// resolving and simulating must report diagnostics, never panic.
func FuzzPlan(f *testing.F) {
	seeds, _ := filepath.Glob("testdata/diagnostics/*.klp.hcl")
	more, _ := filepath.Glob("../../e2e/testdata/differential/*.klp.hcl")
	for _, s := range append(seeds, more...) {
		if src, err := os.ReadFile(s); err == nil {
			f.Add(src)
		}
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		cfg, diags := lang.NewParser().LoadSources("fuzz", map[string][]byte{"fuzz/main.klp.hcl": src})
		p := Plan(cfg, diags, Options{NoCache: true})
		if p == nil || p.Diagnostics == nil {
			t.Fatal("no plan")
		}
	})
}
