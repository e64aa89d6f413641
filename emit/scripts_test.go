package emit

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/klpc/klpc/diag"
	"github.com/klpc/klpc/plan"
)

// TestGeneratedScripts: every script emit writes parses (sh -n) and is
// clean for shellcheck where it is installed (scripts/e2e-setup.sh installs
// it for the full suite), including for a kernel whose release uses every
// character a release may hold.
func TestGeneratedScripts(t *testing.T) {
	shellcheck, _ := exec.LookPath("shellcheck")
	if shellcheck == "" && os.Getenv("KLPC_E2E") == "1" {
		t.Fatal("KLPC_E2E=1 but shellcheck is not installed")
	}
	for name, dir := range cases {
		t.Run(name, func(t *testing.T) {
			p := planDir(t, dir)
			for _, k := range p.Kernels {
				k.Release = "6.12.57+deb13~rc1_x-amd64." + k.Release
			}
			out := filepath.Join(t.TempDir(), "out")
			tree, d := Emit(context.Background(), p, out, Options{})
			if d.HasErrors() {
				t.Fatal(d.String())
			}
			n := 0
			for _, f := range tree.Files {
				if !strings.HasSuffix(f.Path, ".sh") {
					continue
				}
				n++
				path := filepath.Join(out, filepath.FromSlash(f.Path))
				if b, err := exec.Command("sh", "-n", path).CombinedOutput(); err != nil {
					t.Errorf("sh -n %s: %v\n%s", f.Path, err, b)
				}
				if shellcheck != "" {
					if b, err := exec.Command(shellcheck, "-s", "sh", path).CombinedOutput(); err != nil {
						t.Errorf("shellcheck %s: %v\n%s", f.Path, err, b)
					}
				}
			}
			if n == 0 && name != "quickstart" {
				t.Error("no scripts emitted")
			}
		})
	}
}

// TestHostileKernelTextRefused: a plan whose kernel release or headers
// would run commands from a Makefile or script is refused by emit itself,
// not only by lang.
func TestHostileKernelTextRefused(t *testing.T) {
	for what, edit := range map[string]func(k *plan.Kernel){
		"release":       func(k *plan.Kernel) { k.Release = "6.1\n$(shell touch /tmp/pwned)" },
		"headers":       func(k *plan.Kernel) { k.Headers = "/usr/src/$(shell id)" },
		"headers space": func(k *plan.Kernel) { k.Headers = "/usr/src/a b" },
	} {
		p := planDir(t, cases["perobject"])
		edit(p.Kernels[0])
		if tree, d := Generate(p); tree != nil || !d.HasErrors() || d[0].Code != diag.InvalidEmitName {
			t.Errorf("%s: %s", what, d.String())
		}
	}
}
