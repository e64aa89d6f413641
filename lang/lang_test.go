package lang

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/klpc/klpc/diag"
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

func TestLoadDirProblems(t *testing.T) {
	_, diags := LoadDir(t.TempDir())
	if len(diags) != 1 || diags[0].Code != diag.NoConfigFiles {
		t.Errorf("empty folder: %v", diags)
	}
	_, diags = LoadDir(filepath.Join(t.TempDir(), "missing"))
	if len(diags) != 1 || diags[0].Code != diag.ConfigUnreadable {
		t.Errorf("missing folder: %v", diags)
	}
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "x"+FileSuffix), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "unreadable"+FileSuffix), nil, 0o000); err != nil {
		t.Fatal(err)
	}
	if os.Getuid() != 0 { // root reads anything
		_, diags = LoadDir(dir)
		if len(diags) == 0 || diags[0].Code != diag.ConfigUnreadable {
			t.Errorf("unreadable file: %v", diags)
		}
	}
}

// TestExamplesLoadCleanly reads every example without a diagnostic from
// lang.
func TestExamplesLoadCleanly(t *testing.T) {
	dirs, _ := filepath.Glob("../examples/*")
	for _, d := range dirs {
		if _, diags := LoadDir(d); len(diags) > 0 {
			t.Errorf("%s: %s", d, diags.String())
		}
	}
}
