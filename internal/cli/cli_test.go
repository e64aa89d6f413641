package cli

import (
	"bytes"
	"encoding/json"
	"github.com/klpc/klpc/plan/klp"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/klpc/klpc/internal/golden"
)

func runCLI(args ...string) (code int, stdout, stderr string) {
	var out, errb bytes.Buffer
	code = run(args, &out, &errb)
	return code, out.String(), errb.String()
}

// TestPlanText keeps the text plan of every example as a golden file.
func TestPlanText(t *testing.T) {
	want := map[string]int{"quickstart": 0, "cumulative": 1, "stacking": 1, "kernel-lines": 0, "module-builds": 0}
	for name, wantCode := range want {
		t.Run(name, func(t *testing.T) {
			code, out, errs := runCLI("plan", filepath.Join("..", "..", "examples", name))
			if code != wantCode {
				t.Fatalf("exit %d, want %d\n%s", code, wantCode, errs)
			}
			golden.Check(t, filepath.Join("testdata", name+".plan.txt"), []byte(out))
			golden.Check(t, filepath.Join("testdata", name+".diagnostics.txt"), []byte(errs))
		})
	}
}

// TestPlanTextUpgrade shows a verified per-object upgrade procedure.
func TestPlanTextUpgrade(t *testing.T) {
	code, out, errs := runCLI("plan", "../../emit/testdata/configs/perobject")
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, errs)
	}
	if !strings.Contains(out, "upgrade from") || !strings.Contains(out, "(verified)") {
		t.Errorf("no verified upgrade in:\n%s", out)
	}
	golden.Check(t, filepath.Join("testdata", "perobject.plan.txt"), []byte(out))
}

// TestPlanJSONOnErrors checks that -o json prints the plan on stdout even
// when the plan has errors, and exits 1.
func TestPlanJSONOnErrors(t *testing.T) {
	code, out, _ := runCLI("plan", "-o", "json", "../../examples/stacking")
	if code != 1 {
		t.Fatalf("exit %d, want 1", code)
	}
	var p struct {
		FormatVersion string `json:"format_version"`
		Deployments   []struct {
			Steps []struct {
				Functions map[string]string `json:"functions"`
			} `json:"steps"`
		} `json:"deployments"`
	}
	if err := json.Unmarshal([]byte(out), &p); err != nil {
		t.Fatalf("stdout is not JSON: %v\n%s", err, out)
	}
	if got := p.Deployments[0].Steps[2].Functions["vmlinux:cmdline_proc_show"]; got != "original" {
		t.Errorf("after lp3 funcA runs %q", got)
	}
}

func TestDeployFilter(t *testing.T) {
	code, out, _ := runCLI("plan", "-o", "json", "--deploy", "nosuch", "../../examples/quickstart")
	if code != 1 || !strings.Contains(out, "No such deployment") {
		t.Errorf("exit %d, output %s", code, out)
	}
}

func TestUsageErrors(t *testing.T) {
	for _, args := range [][]string{
		{"plan", "-o", "yaml", "../../examples/quickstart"},
		{"plan", "--nosuchflag"},
		{"plan", "a", "b"},
		{"version", "extra"},
		{"nosuchcommand"},
		{"klp-convert"},
		{"klp-convert", "x.ko"},
	} {
		if code, _, errs := runCLI(args...); code != 2 {
			t.Errorf("%v: exit %d, want 2 (%s)", args, code, errs)
		}
	}
}

func TestValidate(t *testing.T) {
	if code, out, errs := runCLI("validate", "../../examples/quickstart"); code != 0 || !strings.Contains(out, "valid") {
		t.Errorf("quickstart: exit %d: %s %s", code, out, errs)
	}
	code, _, errs := runCLI("validate", "../../lang/testdata/diagnostics")
	if code != 1 || !strings.Contains(errs, "duplicates.klp.hcl:5:8: error") {
		t.Errorf("fixtures: exit %d, want 1 with file:line:column\n%s", code, errs)
	}
	if code, _, _ := runCLI("validate", "/nonexistent"); code != 1 {
		t.Errorf("missing dir: exit %d", code)
	}
}

func TestVersion(t *testing.T) {
	code, out, _ := runCLI("version")
	if code != 0 || !strings.HasPrefix(out, "klpc ") {
		t.Errorf("exit %d: %q", code, out)
	}
	for _, l := range klp.Lines() {
		if !strings.Contains(out, l.String()+" (verified on "+l.Verified()+")") {
			t.Errorf("version does not list the line %s: %q", l, out)
		}
	}
}

func TestFmt(t *testing.T) {
	for _, ex := range []string{"quickstart", "cumulative", "stacking"} {
		if code, out, errs := runCLI("fmt", "--check", "../../examples/"+ex); code != 0 {
			t.Errorf("%s is not formatted: %s %s", ex, out, errs)
		}
	}
	dir := t.TempDir()
	name := filepath.Join(dir, "a.klp.hcl")
	if err := os.WriteFile(name, []byte("kernel \"k\" {\nrelease=\"x\"\n  arch =   \"x86_64\"\n}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if code, out, _ := runCLI("fmt", "--check", dir); code != 1 || !strings.Contains(out, "a.klp.hcl") {
		t.Errorf("--check on an unformatted file: exit %d, %q", code, out)
	}
	if code, _, errs := runCLI("fmt", dir); code != 0 {
		t.Fatalf("fmt: exit %d %s", code, errs)
	}
	got, _ := os.ReadFile(name)
	if want := "kernel \"k\" {\n  release = \"x\"\n  arch    = \"x86_64\"\n}\n"; string(got) != want {
		t.Errorf("formatted:\n%s\nwant:\n%s", got, want)
	}
	if st, _ := os.Stat(name); st.Mode().Perm() != 0o600 {
		t.Errorf("mode changed to %v", st.Mode().Perm())
	}
	if err := os.WriteFile(name, []byte("kernel \"k\" {\n  release = = 1\n}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if code, _, errs := runCLI("fmt", dir); code != 1 || !strings.Contains(errs, "a.klp.hcl") {
		t.Errorf("syntax error: exit %d %s", code, errs)
	}
}

func TestKlpConvertErrors(t *testing.T) {
	dir := t.TempDir()
	manifest := filepath.Join(dir, "manifest.json")
	if err := os.WriteFile(manifest, []byte(`{"format_version":"1.0","module":"m","elf":{"klp_symbols":[]}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, _, errs := runCLI("klp-convert", "--manifest", manifest, filepath.Join(dir, "missing.ko")); code != 1 || !strings.Contains(errs, "missing.ko") {
		t.Errorf("missing module: exit %d: %s", code, errs)
	}
	notELF := filepath.Join(dir, "bad.ko")
	if err := os.WriteFile(notELF, []byte("not an ELF file"), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, _, errs := runCLI("klp-convert", "--manifest", manifest, notELF); code != 1 || !strings.Contains(errs, "not an ELF") {
		t.Errorf("not ELF: exit %d: %s", code, errs)
	}
	if err := os.WriteFile(manifest, []byte(`{`), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, _, errs := runCLI("klp-convert", "--manifest", manifest, notELF); code != 1 || !strings.Contains(errs, "not a klpc manifest") {
		t.Errorf("bad manifest: exit %d: %s", code, errs)
	}
}
