package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/klpc/klpc/internal/golden"
)

func TestSnapshotCommand(t *testing.T) {
	root := t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "proc", "sys", "kernel"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "proc", "sys", "kernel", "osrelease"), []byte("6.1.0-56-amd64\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errs := runCLI("snapshot", "--root", root)
	if code != 0 || !strings.Contains(out, `"kernel": "6.1.0-56-amd64"`) {
		t.Fatalf("exit %d\n%s%s", code, out, errs)
	}
	if code, _, errs := runCLI("snapshot", "--root", t.TempDir()); code != 1 || !strings.Contains(errs, "osrelease") {
		t.Fatalf("a root without proc: exit %d %s", code, errs)
	}
}

// TestPlanHosts keeps the pre-flight table of examples/hosts and the text
// plan of its deployment from a snapshot as golden files.
func TestPlanHosts(t *testing.T) {
	ex := filepath.Join("..", "..", "examples", "hosts")
	code, out, errs := runCLI("plan", ex, "--hosts", filepath.Join(ex, "hosts"), "--step", "load ns3")
	if code != 1 { // web-19 runs a release this configuration does not know
		t.Fatalf("exit %d\n%s%s", code, out, errs)
	}
	golden.Check(t, filepath.Join("testdata", "hosts.table.txt"), []byte(out))
	code, out, errs = runCLI("plan", ex)
	if code != 0 {
		t.Fatalf("exit %d\n%s%s", code, out, errs)
	}
	golden.Check(t, filepath.Join("testdata", "hosts.plan.txt"), []byte(out))

	for _, args := range [][]string{
		{"plan", ex, "--hosts", ex},
		{"plan", ex, "--hosts", ex, "--step", "load"},
		{"plan", ex, "--hosts", ex, "--step", "frobnicate ns3"},
		{"plan", ex, "--hosts", ex, "--step", "load no-such"},
	} {
		if code, _, errs := runCLI(args...); code != 2 {
			t.Errorf("%q: exit %d, want 2: %s", args, code, errs)
		}
	}
}
