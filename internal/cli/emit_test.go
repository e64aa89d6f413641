package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestEmit(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "out")
	code, stdout, stderr := runCLI("emit", "../../examples/quickstart", "-o", out)
	if code != 0 || !strings.Contains(stdout, "Emitted") {
		t.Fatalf("exit %d: %s %s", code, stdout, stderr)
	}
	manifest := filepath.Join(out, "deb12-56", "lp_quickstart", "manifest.json")
	first, err := os.ReadFile(manifest)
	if err != nil {
		t.Fatal(err)
	}

	code, _, stderr = runCLI("emit", "../../examples/quickstart", "-o", out)
	if code != 1 || !strings.Contains(stderr, "already exists") || !strings.Contains(stderr, "--force") {
		t.Errorf("existing output without --force: exit %d: %s", code, stderr)
	}

	code, _, stderr = runCLI("emit", "../../examples/quickstart", "-o", out, "--force")
	if code != 0 {
		t.Fatalf("--force: exit %d: %s", code, stderr)
	}
	second, _ := os.ReadFile(manifest)
	if string(first) != string(second) {
		t.Error("emitting twice gives different output")
	}
}

func TestEmitPlanErrors(t *testing.T) {
	for _, ex := range []string{"cumulative", "stacking"} {
		out := filepath.Join(t.TempDir(), "out")
		code, stdout, stderr := runCLI("emit", "../../examples/"+ex, "-o", out)
		if code != 1 || !strings.Contains(stderr, "error") || stdout != "" {
			t.Errorf("%s: exit %d, stdout %q, stderr %s", ex, code, stdout, stderr)
		}
		if _, err := os.Stat(out); !os.IsNotExist(err) {
			t.Errorf("%s: output created", ex)
		}
	}
}

func TestEmitMissingSource(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "cfg")
	if err := os.MkdirAll(cfg, 0o755); err != nil {
		t.Fatal(err)
	}
	src := `kernel "k" {
  release = "6.1.0-56-amd64"
  headers = "/usr/src/linux-headers-6.1.0-56-amd64"
}
fix "f" {
  source = "missing.c"
  object "vmlinux" {
    func "cmdline_proc_show" {
      new = "klpc_cmdline_proc_show"
    }
  }
}
livepatch "lp" {
  kernels = [kernel.k]
  fixes   = [fix.f]
}
`
	if err := os.WriteFile(filepath.Join(cfg, "main.klp.hcl"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "out")
	code, _, stderr := runCLI("emit", cfg, "-o", out)
	if code != 1 || !strings.Contains(stderr, filepath.Join(cfg, "missing.c")) || !strings.Contains(stderr, `fix "f"`) {
		t.Errorf("exit %d: %s", code, stderr)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("something was written beside the configuration: %v", entries)
	}
}

func TestEmitUsage(t *testing.T) {
	if code, _, errs := runCLI("emit", "../../examples/quickstart"); code != 2 || !strings.Contains(errs, "-o") {
		t.Errorf("without -o: exit %d: %s", code, errs)
	}
	if code, _, _ := runCLI("emit", "a", "b", "-o", t.TempDir()); code != 2 {
		t.Errorf("two directories: exit %d", code)
	}
}
