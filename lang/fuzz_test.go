package lang

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzLoad feeds arbitrary text to the reader: it must report diagnostics,
// never panic.
func FuzzLoad(f *testing.F) {
	seeds, _ := filepath.Glob("testdata/diagnostics/*.klp.hcl")
	examples, _ := filepath.Glob("../examples/*/*.klp.hcl")
	for _, s := range append(seeds, examples...) {
		if src, err := os.ReadFile(s); err == nil {
			f.Add(src)
		}
	}
	f.Add([]byte(`livepatch "x" { kernels = [kernel.k] fixes = [fix.f] drops = [fix.f] }`))
	// Deep nesting and hostile text (see TestDeepNesting, TestHostileConfigs).
	f.Add([]byte(`kernel "k" { release = ` + strings.Repeat("[", 5000) + `}`))
	f.Add([]byte(`kernel "k" { release = "` + strings.Repeat("${", 5000) + `" }`))
	f.Add([]byte("kernel \"k\" {\n release = \"6.1\\n$(shell id)\"\n headers = \"/a b/$(x)\"\n}\n"))
	f.Fuzz(func(t *testing.T, src []byte) {
		cfg, diags := NewParser().LoadSources("testdata", map[string][]byte{"fuzz.klp.hcl": src})
		if cfg == nil {
			t.Fatal("nil config")
		}
		_ = diags.String()
	})
}
