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
	maps, _ := filepath.Glob(filepath.Join(img, "boot", "System.map-*"))
	if len(maps) == 0 {
		t.Skip("unpacked Debian kernel not in .cache (scripts/fetch-kernels.sh 6.1.0-56)")
	}
	// The placeholder alone: no vmlinux, and the reason.
	dir := t.TempDir()
	data, err := os.ReadFile(maps[0])
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, filepath.Base(maps[0])), data, 0o644)
	os.WriteFile(filepath.Join(dir, "config"), []byte("CONFIG_MODULES=y\n"), 0o644)
	out, err := runIndex(t, dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"vmlinux:     none", "linux-image-<version>-dbg"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

// TestIndexDebianImage indexes Debian's 6.1.0-56 kernel as the package
// unpacks it, from its root and from its modules folder: vmlinux comes
// from the kernel image (boot/vmlinuz-*), not the placeholder System.map.
func TestIndexDebianImage(t *testing.T) {
	img := filepath.Join("..", "..", ".cache", "kernels", "6.1.0-56-amd64")
	if _, err := os.Stat(filepath.Join(img, "boot")); err != nil {
		t.Skip("unpacked Debian kernel not in .cache (scripts/fetch-kernels.sh 6.1.0-56)")
	}
	for _, dir := range []string{img, filepath.Join(img, "lib", "modules", "6.1.0-56-amd64"), filepath.Join(img, "boot", "vmlinuz-6.1.0-56-amd64")} {
		out, err := runIndex(t, dir)
		if err != nil {
			t.Fatal(err)
		}
		want := []string{"vmlinux:     94266 symbols from vmlinuz", "traceable:   "}
		if filepath.Base(dir) == "6.1.0-56-amd64" { // a folder, not the image alone
			want = append(want, "modules:     4023", "config:      yes", "input files: 4025 (config, 4023 modules, vmlinuz)")
		}
		for _, w := range want {
			if !strings.Contains(out, w) {
				t.Errorf("index %s: output lacks %q:\n%s", dir, w, out)
			}
		}
	}
}

// TestIndexDebianPackage indexes a kernel package file as downloaded.
func TestIndexDebianPackage(t *testing.T) {
	if os.Getenv("KLPC_INTEGRATION") != "1" {
		t.Skip("KLPC_INTEGRATION=1 indexes the Debian kernel packages in .cache")
	}
	debs, _ := filepath.Glob(filepath.Join("..", "..", ".cache", "kernels", "debs", "linux-image-6.1.0-56-amd64-unsigned_*.deb"))
	if len(debs) == 0 {
		t.Skip("no linux-image-6.1.0-56-amd64-unsigned package in .cache/kernels/debs")
	}
	out, err := runIndex(t, debs[0])
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{
		"package:     4026 kernel files (System.map 1, config 1, module 4023, vmlinuz 1) of 6.1.0-56-amd64",
		"vmlinux:     94266 symbols from vmlinuz", "modules:     4023", "input files: 4025 (config, 4023 modules, vmlinuz)",
	} {
		if !strings.Contains(out, w) {
			t.Errorf("output lacks %q:\n%s", w, out)
		}
	}
}

// TestIndexReportsDamagedModules: a damaged module among good ones is
// named, and the rest of the build is indexed.
func TestIndexReportsDamagedModules(t *testing.T) {
	dir := t.TempDir()
	mods := filepath.Join(dir, "modules")
	if err := os.MkdirAll(mods, 0o755); err != nil {
		t.Fatal(err)
	}
	good, err := os.ReadFile(filepath.Join(fixtureDir, "modules", "tcp_scalable.ko"))
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(mods, "tcp_scalable.ko"), good, 0o644)
	os.WriteFile(filepath.Join(mods, "broken.ko"), good[:len(good)/2], 0o644)
	out, err := runIndex(t, "--no-cache", dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"modules:     1", "damaged:     1", "broken:"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}
