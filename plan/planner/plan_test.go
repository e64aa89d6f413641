package planner

import (
	"path/filepath"
	"strings"
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
			p := Plan(cfg, diags, Options{})
			fixture.Check(t, p.Diagnostics, f)
		})
	}
}

// TestSymbolDiagnostics resolves against the real kernel fixtures.
func TestSymbolDiagnostics(t *testing.T) {
	f := "testdata/symbols/symbols.klp.hcl"
	cfg, diags := lang.NewParser().LoadSources(filepath.Dir(f), map[string][]byte{f: mustRead(t, f)})
	p := Plan(cfg, diags, Options{NoCache: true})
	fixture.Check(t, p.Diagnostics, f)
}

// TestPerObjectDeployment: the module of each object is loaded with its
// target, and disable and unload act on the modules that are there.
func TestPerObjectDeployment(t *testing.T) {
	cfg, diags := lang.LoadDir("testdata/perobject")
	p := Plan(cfg, diags, Options{})
	d := p.Deployments[0]
	want := []struct {
		enabled string
		funcs   map[string]string
	}{
		{"po__xfs", map[string]string{"xfs:xfs_open": "po:a_xfs_open", "nfsd:nfsd_open": "absent"}},
		{"po__xfs po__nfsd", map[string]string{"xfs:xfs_open": "po:a_xfs_open", "nfsd:nfsd_open": "po:a_nfsd_open"}},
		{"", map[string]string{"xfs:xfs_open": "original", "nfsd:nfsd_open": "original"}},
		{"", map[string]string{"xfs:xfs_open": "original", "nfsd:nfsd_open": "original"}},
	}
	for i, w := range want {
		s := d.Steps[i]
		if !s.OK {
			t.Errorf("step %d refused: %s", s.Index, s.Reason)
		}
		if got := strings.Join(s.Enabled, " "); got != w.enabled {
			t.Errorf("step %d: sysfs lists %q, want %q", s.Index, got, w.enabled)
		}
		for k, v := range w.funcs {
			if s.Functions.Impl(k).String() != v {
				t.Errorf("step %d: %s runs %s, want %s", s.Index, k, s.Functions.Impl(k).String(), v)
			}
		}
	}
	if got := strings.Join(d.Steps[3].Loaded, " "); got != "" {
		t.Errorf("livepatch modules left loaded: %q", got)
	}
	// With no target loaded no module of the release loads; disabling then
	// finds no patch, as the kernel would say.
	d = p.Deployments[1]
	if !d.Steps[0].OK || len(d.Steps[0].Enabled) != 0 {
		t.Errorf("load with no target: %+v", d.Steps[0])
	}
	if d.Steps[1].OK || d.Steps[1].Errno != "ENOENT" {
		t.Errorf("disable with no module loaded: ok=%v errno=%s", d.Steps[1].OK, d.Steps[1].Errno)
	}
}
