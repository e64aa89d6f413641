package planner

import (
	"testing"

	"github.com/klpc/klpc/lang"
)

// BenchmarkPlanQuickstart plans examples/quickstart with a warm index
// cache, as `klpc plan examples/quickstart` does on a second run.
func BenchmarkPlanQuickstart(b *testing.B) {
	cfg, diags := lang.LoadDir("../../examples/quickstart")
	Plan(cfg, diags, Options{}) // warms the cache
	b.ResetTimer()
	for b.Loop() {
		cfg, diags := lang.LoadDir("../../examples/quickstart")
		if p := Plan(cfg, diags, Options{}); p.HasErrors() {
			b.Fatal(p.Diagnostics.String())
		}
	}
}
