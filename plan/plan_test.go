package plan

import (
	"path/filepath"
	"testing"

	"github.com/klpc/klpc/internal/fixture"
	"github.com/klpc/klpc/lang"
)

// TestDiagnostics plans each fixture directory and checks its diagnostics
// against the markers in its files.
func TestDiagnostics(t *testing.T) {
	files, _ := filepath.Glob("testdata/diagnostics/*.klp.hcl")
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			cfg, diags := lang.NewParser().LoadSources(filepath.Dir(f), map[string][]byte{f: mustRead(t, f)})
			p := New(cfg, diags, Options{})
			fixture.Check(t, p.HCL, f)
		})
	}
}

// TestSymbolDiagnostics resolves against the real kernel fixtures.
func TestSymbolDiagnostics(t *testing.T) {
	f := "testdata/symbols/symbols.klp.hcl"
	cfg, diags := lang.NewParser().LoadSources(filepath.Dir(f), map[string][]byte{f: mustRead(t, f)})
	p := New(cfg, diags, Options{NoCache: true})
	fixture.Check(t, p.HCL, f)
}
