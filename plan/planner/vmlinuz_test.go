package planner

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/klpc/klpc/plan"
)

// TestPlanFromKernelImage resolves a release against the symbols decoded
// from Debian's kernel image alone (no booted kernel, no debug package),
// and finds the same sympos and ftrace sites as with the captured
// /proc/kallsyms and available_filter_functions.
func TestPlanFromKernelImage(t *testing.T) {
	image, _ := filepath.Abs(filepath.Join("..", "..", ".cache", "kernels", "6.1.0-56-amd64", "boot", "vmlinuz-6.1.0-56-amd64"))
	if _, err := os.Stat(image); err != nil {
		if os.Getenv("KLPC_INTEGRATION") == "1" {
			t.Fatalf("KLPC_INTEGRATION=1 but the image is missing: %v", err)
		}
		t.Skipf("no cached kernel image (scripts/fetch-kernels.sh 6.1.0-56): %v", err)
	}
	fixture, _ := filepath.Abs(filepath.Join("..", "..", "kernels", "6.1.0-56-amd64"))
	src := func(symbols string) string {
		return `
kernel "k" {
  release = "6.1.0-56-amd64"
  ` + symbols + `
}
fix "f" {
  source = "f.c"
  object "vmlinux" {
    func "cmdline_proc_show" { new = "klpc_cmdline" }
    func "version_proc_show" { new = "klpc_version" }
  }
}
livepatch "lp" {
  kernels = [kernel.k]
  fixes   = [fix.f]
}
`
	}
	fromImage := planFiles(t, src(`vmlinuz = "`+image+`"`), "f.c")
	fromCapture := planFiles(t, src(`kallsyms = "`+fixture+`/kallsyms.gz"
  ftrace = "`+fixture+`/available_filter_functions.gz"`), "f.c")
	for _, p := range []*plan.Plan{fromImage, fromCapture} {
		if p.HasErrors() || !p.Kernels[0].Resolved {
			t.Fatalf("errors: %s", p.Diagnostics.String())
		}
	}
	a, b := fromImage.Livepatches[0].Builds[0].Modules[0], fromCapture.Livepatches[0].Builds[0].Modules[0]
	for i, f := range a.Objects[0].Funcs {
		if g := b.Objects[0].Funcs[i]; f.Key != g.Key || f.Sympos != g.Sympos {
			t.Errorf("image: %s sympos %d, capture: %s sympos %d", f.Key, f.Sympos, g.Key, g.Sympos)
		}
	}
}
