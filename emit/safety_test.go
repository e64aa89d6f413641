package emit

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/klpc/klpc/diag"
)

// TestForceNeverReplacesWhatKlpcDidNotWrite: --force replaces only a folder
// with klpc's marker, and never the configuration, an input or the
// working folder, whichever way a symbolic link leads there.
func TestForceNeverReplacesWhatKlpcDidNotWrite(t *testing.T) {
	dir := t.TempDir()
	cfgDir := filepath.Join(dir, "cfg")
	copyDir(t, cases["perobject"], cfgDir)
	kernelInputs := filepath.Join(dir, "kernel")
	if err := os.MkdirAll(kernelInputs, 0o755); err != nil {
		t.Fatal(err)
	}
	p := planDir(t, cfgDir)
	p.Kernels[0].Inputs = append(p.Kernels[0].Inputs, filepath.Join(kernelInputs, "kallsyms"))
	if err := os.Symlink(cfgDir, filepath.Join(dir, "link-to-cfg")); err != nil {
		t.Fatal(err)
	}
	foreign := filepath.Join(dir, "foreign")
	if err := os.MkdirAll(foreign, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(foreign, "data"), []byte("keep"), 0o644); err != nil {
		t.Fatal(err)
	}
	wd, _ := os.Getwd()
	for _, tc := range []struct {
		name, out string
		code      diag.Code
	}{
		{"kernel input folder", kernelInputs, diag.OutputHoldsInput},
		{"configuration through a symlink", filepath.Join(dir, "link-to-cfg"), diag.OutputHoldsInput},
		{"ancestor of the configuration", dir, diag.OutputHoldsInput},
		{"working folder", ".", diag.OutputHoldsInput},
		{"ancestor of the working folder", filepath.Dir(wd), diag.OutputHoldsInput},
		{"folder klpc did not write", foreign, diag.OutputExists},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, d := Emit(context.Background(), p, tc.out, Options{Force: true})
			if !d.HasErrors() || d[0].Code != tc.code {
				t.Fatalf("want %s, got %s", tc.code, d.String())
			}
		})
	}
	if data, err := os.ReadFile(filepath.Join(foreign, "data")); err != nil || string(data) != "keep" {
		t.Error("the foreign folder was changed")
	}
	if _, err := os.Stat(filepath.Join(cfgDir, "main.klp.hcl")); err != nil {
		t.Error("the configuration was removed")
	}
	// A folder klpc emitted is replaced.
	out := filepath.Join(dir, "out")
	for range 2 {
		if _, d := Emit(context.Background(), p, out, Options{Force: true}); d.HasErrors() {
			t.Fatal(d.String())
		}
	}
	if !hasMarker(out) {
		t.Error("no marker in the output")
	}
}

// TestStaleTemporaryFolders: a temporary folder a killed emit left is
// removed by the next emit; one another running emit writes, and folders
// klpc did not write, are left alone.
func TestStaleTemporaryFolders(t *testing.T) {
	dir := t.TempDir()
	p := planDir(t, cases["perobject"])
	stale := filepath.Join(dir, ".out.klpc-111")
	live := filepath.Join(dir, ".out.klpc-222")
	other := filepath.Join(dir, ".out.klpc-333")
	for _, d := range []string{stale, live, other} {
		if err := os.MkdirAll(filepath.Join(d, "sub"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	// pid 1 runs (init); a pid beyond pid_max never does.
	os.WriteFile(filepath.Join(stale, Marker), []byte(markerText+"pid 99999999\n"), 0o644)
	os.WriteFile(filepath.Join(live, Marker), []byte(markerText+"pid 1\n"), 0o644)
	os.WriteFile(filepath.Join(other, "data"), []byte("not klpc's"), 0o644)
	if _, d := Emit(context.Background(), p, filepath.Join(dir, "out"), Options{}); d.HasErrors() {
		t.Fatal(d.String())
	}
	if _, err := os.Stat(stale); !errors.Is(err, os.ErrNotExist) {
		t.Error("the stale temporary folder is still there")
	}
	for _, d := range []string{live, other} {
		if _, err := os.Stat(d); err != nil {
			t.Errorf("%s was removed", d)
		}
	}
}

// TestInterruptedEmit: when the context ends (SIGINT, SIGTERM) the writing
// stops, the temporary folder goes and the previous output stays.
func TestInterruptedEmit(t *testing.T) {
	dir := t.TempDir()
	p := planDir(t, cases["perobject"])
	out := filepath.Join(dir, "out")
	if _, d := Emit(context.Background(), p, out, Options{}); d.HasErrors() {
		t.Fatal(d.String())
	}
	before := readTree(t, out)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, d := Emit(ctx, p, out, Options{Force: true})
	if !d.HasErrors() || !strings.Contains(d.String(), "interrupted") {
		t.Fatalf("want an interruption, got %s", d.String())
	}
	if !sameTree(before, readTree(t, out)) {
		t.Error("the output changed")
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("temporary folders left: %v", entries)
	}
}

// TestSymlinkedParentFolder: an output folder whose parent is reached
// through a symbolic link is written there, not reported missing.
func TestSymlinkedParentFolder(t *testing.T) {
	dir := t.TempDir()
	real := filepath.Join(dir, "real")
	if err := os.MkdirAll(real, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(real, filepath.Join(dir, "link")); err != nil {
		t.Fatal(err)
	}
	p := planDir(t, cases["perobject"])
	if _, d := Emit(context.Background(), p, filepath.Join(dir, "link", "out"), Options{}); d.HasErrors() {
		t.Fatalf("emit through a symlinked parent: %s", d.String())
	}
	if !hasMarker(filepath.Join(real, "out")) {
		t.Error("the output is not in the folder the link leads to")
	}
}
