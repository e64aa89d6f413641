package emit

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestMakefileWithoutKlpc runs the Makefile of a module that needs klpc
// klp-convert with no klpc on PATH: make stops before kbuild with a
// message that says how to install klpc or point KLPC at it.
func TestMakefileWithoutKlpc(t *testing.T) {
	makeBin, err := exec.LookPath("make")
	if err != nil {
		t.Skip("make is not installed")
	}
	tree := generate(t, planDir(t, "../examples/klp-symbols"))
	var mf *File
	for _, f := range tree.Files {
		if strings.HasSuffix(f.Path, "/Makefile") && strings.Contains(string(f.Data), "KLPC ?= klpc") {
			mf = f
		}
	}
	if mf == nil {
		t.Fatal("no module Makefile of examples/klp-symbols uses KLPC")
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "Makefile"), mf.Data, 0o644); err != nil {
		t.Fatal(err)
	}
	empty := t.TempDir() // a PATH with no klpc, and nothing else
	cmd := exec.Command(makeBin, "-C", dir, "KDIR=/nonexistent")
	cmd.Env = []string{"PATH=" + empty}
	out, err := cmd.CombinedOutput()
	if err == nil {
		t.Fatalf("make succeeded without klpc:\n%s", out)
	}
	for _, want := range []string{"klpc not found", "go install github.com/klpc/klpc/cmd/klpc@latest", "KLPC=/path/to/klpc"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("make output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(string(out), "nonexistent") {
		t.Errorf("make went on to kbuild:\n%s", out)
	}
}
