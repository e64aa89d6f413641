package cli

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// fixtureDir is the committed real-kernel fixture set.
var fixtureDir = filepath.Join("..", "..", "kernels", "6.1.0-56-amd64")

func runIndex(t *testing.T, args ...string) (string, error) {
	t.Helper()
	t.Setenv("KLPC_CACHE_DIR", t.TempDir())
	cmd := newIndexCommand()
	var out, errOut bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(&errOut)
	cmd.SetArgs(args)
	err := cmd.Execute()
	if errOut.Len() > 0 && err == nil {
		t.Errorf("unexpected stderr (not a terminal): %q", errOut.String())
	}
	return out.String(), err
}

func TestIndexFixtures(t *testing.T) {
	for _, args := range [][]string{{fixtureDir}, {"--no-cache", fixtureDir}} {
		out, err := runIndex(t, args...)
		if err != nil {
			t.Fatalf("index %v: %v", args, err)
		}
		for _, want := range []string{
			"vmlinux:     94266 symbols from kallsyms",
			"modules:     4",
			"exports:     24683",
			"config:      yes",
			"input files: 8",
		} {
			if !strings.Contains(out, want) {
				t.Errorf("index %v: output lacks %q:\n%s", args, want, out)
			}
		}
		if strings.Contains(out, "traceable:   unknown") {
			t.Errorf("traceability should be known from available_filter_functions and __mcount_loc:\n%s", out)
		}
	}
}

func TestIndexErrorsNameTheFile(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "Module.symvers")
	if err := os.WriteFile(bad, []byte("0x1234\tfoo\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := runIndex(t, dir)
	if err == nil || !strings.Contains(err.Error(), bad+":1:") {
		t.Fatalf("want an error naming %s:1, got %v", bad, err)
	}
	if _, err := runIndex(t, t.TempDir()); err == nil || !strings.Contains(err.Error(), "no kernel build files") {
		t.Fatalf("empty folder: got %v", err)
	}
}

func TestIndexDebianPlaceholderSystemMap(t *testing.T) {
	img := filepath.Join("..", "..", ".cache", "kernels", "6.1.0-56-amd64")
	if _, err := os.Stat(filepath.Join(img, "boot")); err != nil {
		t.Skip("unpacked Debian kernel not in .cache (scripts/fetch-kernels.sh 6.1.0-56)")
	}
	out, err := runIndex(t, img)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"vmlinux:     none", "linux-image-<version>-dbg", "modules:     4023"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}
