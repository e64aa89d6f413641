package lang

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/klpc/klpc/internal/fixture"
)

// TestDiagnostics loads each fixture on its own and checks its diagnostics
// against the "# ERROR:" markers it carries.
func TestDiagnostics(t *testing.T) {
	files, _ := filepath.Glob("testdata/diagnostics/*.klp.hcl")
	if len(files) == 0 {
		t.Fatal("no fixtures")
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			src, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			_, diags := NewParser().LoadSources(filepath.Dir(f), map[string][]byte{f: src})
			fixture.Check(t, diags, f)
		})
	}
}
