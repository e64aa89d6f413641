package planner

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/klpc/klpc/diag"
	"github.com/klpc/klpc/lang"
)

// TestDamagedModuleFailsOnlyItsReleases: one damaged .ko among good ones is
// one error for the release that patches it; the release that patches a
// good module of the same build is planned as usual.
func TestDamagedModuleFailsOnlyItsReleases(t *testing.T) {
	dir := t.TempDir()
	mods := filepath.Join(dir, "modules")
	os.MkdirAll(mods, 0o755)
	fixture := filepath.Join("..", "..", "kernels", "6.1.0-56-amd64")
	data, err := os.ReadFile(filepath.Join(fixture, "modules", "tcp_scalable.ko"))
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(mods, "tcp_scalable.ko"), data, 0o644)
	os.WriteFile(filepath.Join(mods, "nfsd.ko"), data[:len(data)/3], 0o644) // truncated
	kallsyms, _ := filepath.Abs(filepath.Join(fixture, "kallsyms.gz"))
	for _, n := range []string{"a.c", "b.c"} {
		os.WriteFile(filepath.Join(dir, n), []byte("/* replacement */\n"), 0o644)
	}
	src := `
kernel "k" {
  release  = "6.1.0-56-amd64"
  kallsyms = "` + kallsyms + `"
  modules  = "modules"
}
fix "a" {
  source = "a.c"
  object "nfsd" {
    func "nfsd_open" { new = "klpc_nfsd_open" }
  }
}
fix "b" {
  source = "b.c"
  object "tcp_scalable" {
    func "tcp_scalable_ssthresh" { new = "klpc_ssthresh" }
  }
}
livepatch "damaged" {
  kernels = [kernel.k]
  fixes   = [fix.a]
}
livepatch "good" {
  kernels = [kernel.k]
  fixes   = [fix.b]
}
`
	main := filepath.Join(dir, "main.klp.hcl")
	cfg, diags := lang.NewParser().LoadSources(dir, map[string][]byte{main: []byte(src)})
	p := Plan(cfg, diags, Options{NoCache: true})
	if got := p.Diagnostics.Codes(); len(got) != 1 || got[0] != diag.ModuleDamaged {
		t.Fatalf("want one module-damaged, got:\n%s", p.Diagnostics.String())
	}
	if !p.Kernels[0].Resolved {
		t.Error("the build is not resolved")
	}
}
