package emit

import (
	"bytes"
	"context"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/tools/txtar"

	"github.com/klpc/klpc/diag"
	"github.com/klpc/klpc/internal/golden"
	"github.com/klpc/klpc/lang"
	"github.com/klpc/klpc/plan"
	"github.com/klpc/klpc/plan/planner"
)

// cases are the configurations whose whole output is kept as a golden
// txtar archive: the quickstart example, and fixtures for what the
// examples cannot show without errors (per-object releases with their
// upgrade, clean cumulative releases on two kernels).
var cases = map[string]string{
	"quickstart": "../examples/quickstart",
	"perobject":  "testdata/configs/perobject",
	"cumulative": "testdata/configs/cumulative",
}

func planDir(t *testing.T, dir string) *plan.Plan {
	t.Helper()
	cfg, diags := lang.LoadDir(dir)
	p := planner.Plan(cfg, diags, planner.Options{})
	if p.HasErrors() {
		t.Fatalf("plan of %s has errors: %s", dir, p.Diagnostics.String())
	}
	return p
}

func generate(t *testing.T, p *plan.Plan) *Tree {
	t.Helper()
	tree, diags := Generate(p)
	if diags.HasErrors() {
		t.Fatalf("generate: %s", diags.String())
	}
	return tree
}

// archive renders a tree as txtar; the comment lists every file's mode.
func archive(tree *Tree) []byte {
	a := &txtar.Archive{}
	var modes bytes.Buffer
	modes.WriteString("Files emitted, with their modes:\n")
	for _, f := range tree.Files {
		fmt.Fprintf(&modes, "%04o %s\n", f.Mode, f.Path)
		data, err := f.Content()
		if err != nil {
			panic(err)
		}
		a.Files = append(a.Files, txtar.File{Name: f.Path, Data: data})
	}
	a.Comment = modes.Bytes()
	return txtar.Format(a)
}

func TestGolden(t *testing.T) {
	for name, dir := range cases {
		t.Run(name, func(t *testing.T) {
			first := archive(generate(t, planDir(t, dir)))
			second := archive(generate(t, planDir(t, dir)))
			if !bytes.Equal(first, second) {
				t.Fatal("two generations of the same plan differ")
			}
			golden.Check(t, filepath.Join("testdata", "golden", name+".txtar"), first)
		})
	}
}

// TestGoldenCoversOutputs checks that the golden cases hold every kind of
// output file.
func TestGoldenCoversOutputs(t *testing.T) {
	seen := map[string]bool{}
	for _, dir := range cases {
		for _, f := range generate(t, planDir(t, dir)).Files {
			base := filepath.Base(f.Path)
			switch {
			case strings.HasSuffix(base, ".klp.c"):
				base = "*.klp.c"
			case strings.HasSuffix(base, ".modprobe.conf"):
				base = "*.modprobe.conf"
			case strings.HasPrefix(base, "upgrade-from-"):
				base = "upgrade-from-*.sh"
			case strings.HasSuffix(base, ".patch"):
				base = "*.patch"
			case strings.HasSuffix(base, ".c"):
				base = "fix source"
			}
			seen[base] = true
		}
	}
	for _, want := range []string{"manifest.json", "*.klp.c", "fix source", "Kbuild", "Makefile", "kpatch-build.sh", "*.patch", "*.modprobe.conf", "upgrade-from-*.sh", "build.json", "matrix.json"} {
		if !seen[want] {
			t.Errorf("no golden case emits %s", want)
		}
	}
}

// TestScriptsParse runs sh -n on every emitted shell script.
func TestScriptsParse(t *testing.T) {
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("no sh")
	}
	for name, dir := range cases {
		for _, f := range generate(t, planDir(t, dir)).Files {
			if !strings.HasSuffix(f.Path, ".sh") {
				continue
			}
			if f.Mode != 0o755 {
				t.Errorf("%s/%s: mode %o", name, f.Path, f.Mode)
			}
			cmd := exec.Command(sh, "-n")
			cmd.Stdin = bytes.NewReader(f.Data)
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Errorf("%s/%s: %v\n%s", name, f.Path, err, out)
			}
		}
	}
}

func TestPlanWithErrorsEmitsNothing(t *testing.T) {
	cfg, diags := lang.LoadDir("../examples/cumulative")
	p := planner.Plan(cfg, diags, planner.Options{})
	if !p.HasErrors() {
		t.Fatal("examples/cumulative has no error")
	}
	out := filepath.Join(t.TempDir(), "out")
	tree, d := Emit(context.Background(), p, out, Options{})
	if tree != nil || !d.HasErrors() || d[0].Summary != "Plan has errors" {
		t.Fatalf("tree %v, diagnostics %v", tree, d)
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Errorf("output created: %v", err)
	}
}

// readTree reads a folder back as path -> mode and content.
func readTree(t *testing.T, root string) map[string]string {
	t.Helper()
	got := map[string]string{}
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		if d.IsDir() {
			got[rel+"/"] = info.Mode().Perm().String()
			return nil
		}
		data, err := os.ReadFile(path)
		got[rel] = info.Mode().Perm().String() + "\n" + string(data)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return got
}

func sameTree(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

func TestEmitTwiceIdentical(t *testing.T) {
	p := planDir(t, cases["perobject"])
	dir := t.TempDir()
	one, two := filepath.Join(dir, "one"), filepath.Join(dir, "two")
	if _, d := Emit(context.Background(), p, one, Options{}); d.HasErrors() {
		t.Fatal(d.String())
	}
	if _, d := Emit(context.Background(), planDir(t, cases["perobject"]), two, Options{}); d.HasErrors() {
		t.Fatal(d.String())
	}
	a, b := readTree(t, one), readTree(t, two)
	if !sameTree(a, b) {
		t.Error("two emits differ")
	}
	if a["./"] != "-rwxr-xr-x" || a["deb12-56/po-2/upgrade-from-po-1.sh"][:10] != "-rwxr-xr-x" || a["build.json"][:10] != "-rw-r--r--" {
		t.Errorf("modes: root %s, script %s, build.json %s", a["./"], a["deb12-56/po-2/upgrade-from-po-1.sh"][:10], a["build.json"][:10])
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 2 {
		t.Errorf("temporary folders left beside the output: %v", entries)
	}
}

func TestForce(t *testing.T) {
	p := planDir(t, cases["quickstart"])
	dir := t.TempDir()
	out := filepath.Join(dir, "out")
	if _, d := Emit(context.Background(), p, out, Options{}); d.HasErrors() {
		t.Fatal(d.String())
	}
	stray := filepath.Join(out, "stray.txt")
	if err := os.WriteFile(stray, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	before := readTree(t, out)
	_, d := Emit(context.Background(), p, out, Options{})
	if !d.HasErrors() || d[0].Summary != "Output folder exists" || !strings.Contains(d[0].Detail, "--force") {
		t.Fatalf("without --force: %v", d)
	}
	if !sameTree(before, readTree(t, out)) {
		t.Error("output changed without --force")
	}
	if _, d := Emit(context.Background(), p, out, Options{Force: true}); d.HasErrors() {
		t.Fatal(d.String())
	}
	if _, err := os.Stat(stray); !os.IsNotExist(err) {
		t.Error("--force kept a file of the old output")
	}
	if _, err := os.Stat(filepath.Join(out, "deb12-56", "lp_quickstart", "manifest.json")); err != nil {
		t.Error(err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("temporary folders left beside the output: %v", entries)
	}
	// A file is never replaced, even with --force.
	file := filepath.Join(dir, "file")
	os.WriteFile(file, []byte("x"), 0o644)
	if _, d := Emit(context.Background(), p, file, Options{Force: true}); !d.HasErrors() || d[0].Summary != "Output is not a folder" {
		t.Errorf("file output: %v", d)
	}
}

// copyDir copies a fixture configuration so that a test can break it.
func copyDir(t *testing.T, src, dst string) {
	t.Helper()
	err := filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, path)
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(target, data, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestMissingFilesLeaveOutputUntouched: a source or patch that goes
// missing between plan and emit (lang reports one missing at plan time)
// is an error naming the file and the fix, and the existing output stays
// as it was, even with --force.
func TestMissingFilesLeaveOutputUntouched(t *testing.T) {
	for _, missing := range []struct{ file, fix, what string }{
		{"src/nfsd.c", "nfsd-stats", "source"},
		{"patches/version.patch", "version", "patch"},
	} {
		t.Run(missing.what, func(t *testing.T) {
			dir := t.TempDir()
			cfgDir := filepath.Join(dir, "cfg")
			copyDir(t, cases["perobject"], cfgDir)
			out := filepath.Join(dir, "out")
			if _, d := Emit(context.Background(), planDir(t, cfgDir), out, Options{}); d.HasErrors() {
				t.Fatal(d.String())
			}
			before := readTree(t, out)
			p := planDir(t, cfgDir)
			if err := os.Remove(filepath.Join(cfgDir, missing.file)); err != nil {
				t.Fatal(err)
			}
			tree, d := Emit(context.Background(), p, out, Options{Force: true})
			if tree != nil || !d.HasErrors() {
				t.Fatalf("no error: %v", d)
			}
			msg := diagText(d)
			if !strings.Contains(msg, filepath.Join(cfgDir, missing.file)) || !strings.Contains(msg, `fix "`+missing.fix+`"`) || !strings.Contains(msg, missing.what) {
				t.Errorf("diagnostic does not name the file and fix: %s", msg)
			}
			if strings.Count(msg, "Cannot read fix") != 1 {
				t.Errorf("a file shared by several modules is reported more than once: %s", msg)
			}
			if !sameTree(before, readTree(t, out)) {
				t.Error("the output changed")
			}
			entries, _ := os.ReadDir(dir)
			if len(entries) != 2 {
				t.Errorf("temporary folders left: %v", entries)
			}
		})
	}
}

func TestOutputHoldingInputRefused(t *testing.T) {
	dir := t.TempDir()
	cfgDir := filepath.Join(dir, "cfg")
	copyDir(t, cases["perobject"], cfgDir)
	_, d := Emit(context.Background(), planDir(t, cfgDir), cfgDir, Options{Force: true})
	if !d.HasErrors() || d[0].Code != diag.OutputHoldsInput {
		t.Fatalf("diagnostics: %v", d)
	}
	if _, err := os.Stat(filepath.Join(cfgDir, "main.klp.hcl")); err != nil {
		t.Error("the configuration was removed")
	}
	if _, d := Emit(context.Background(), planDir(t, cfgDir), filepath.Join(dir, "no", "such", "out"), Options{}); !d.HasErrors() || d[0].Code != diag.OutputInvalid {
		t.Errorf("missing parent: %v", d)
	}
}

// TestKlpNames checks the names the kernel's .klp parsers would refuse.
func TestKlpNames(t *testing.T) {
	p := planDir(t, cases["perobject"])
	o := p.Livepatch("po-2").Build("deb12-56").Modules[0].Objects[0]
	o.Symbols = append(o.Symbols,
		&plan.Symbol{Name: "a,b", Fix: "cmdline"},
		&plan.Symbol{Name: strings.Repeat("s", 512), Fix: "cmdline"},
		&plan.Symbol{Name: "exported,is,fine", Fix: "cmdline", Exported: true},
	)
	o.Funcs = append(o.Funcs, &plan.Func{Name: "f", New: "klpc__patch", Fix: "cmdline"})
	p.Livepatch("po-1").Build("deb12-56").Modules[1].Objects[0].Name = "my.mod"
	_, d := Generate(p)
	msg := diagText(d)
	for _, want := range []string{
		`the symbol "a,b" of object vmlinux (fix "cmdline") contains ','`,
		"is 512 characters long; the kernel reads at most 511",
		`the object name "my.mod" contains '.'`,
		`the replacement "klpc__patch" of f starts with "klpc__"`,
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("missing %q in:\n%s", want, msg)
		}
	}
	if strings.Contains(msg, "exported,is,fine") {
		t.Error("an exported symbol was checked as a .klp.sym name")
	}
}

func TestVermagic(t *testing.T) {
	if v, from := Vermagic(&plan.Kernel{Release: "6.1.0-56-amd64"}); v != "6.1.0-56-amd64 SMP preempt mod_unload modversions " || from != "derived" {
		t.Errorf("derived %q %s", v, from)
	}
	if v, from := Vermagic(&plan.Kernel{Release: "x", Vermagic: "x SMP mod_unload "}); v != "x SMP mod_unload " || from != "kernel" {
		t.Errorf("kernel %q %s", v, from)
	}
}

func TestCString(t *testing.T) {
	if got, want := cString("a\"b\\c\nd\x01é"), `"a\"b\\c\nd\001\303\251"`; got != want {
		t.Errorf("%s, want %s", got, want)
	}
}

// diagText is every diagnostic's summary and detail, one per line.
func diagText(d diag.Diagnostics) string {
	var lines []string
	for _, x := range d {
		lines = append(lines, x.Summary+": "+x.Detail)
	}
	return strings.Join(lines, "\n")
}

// TestRepeatedContentLinked checks that files of one content and mode are
// written once and hard-linked, as every release folder of the cumulative
// case carries the patches of the fixes before it, and that the output
// reads exactly as the tree Generate makes.
func TestRepeatedContentLinked(t *testing.T) {
	p := planDir(t, cases["cumulative"])
	out := filepath.Join(t.TempDir(), "out")
	if _, d := Emit(context.Background(), p, out, Options{}); d.HasErrors() {
		t.Fatal(d.String())
	}
	want := map[string]string{}
	groups := map[string][]string{}
	for _, f := range generate(t, p).Files {
		data, err := f.Content()
		if err != nil {
			t.Fatal(err)
		}
		want[f.Path] = f.Mode.Perm().String() + "\n" + string(data)
		k := f.Mode.String() + sha256Hex(data)
		groups[k] = append(groups[k], f.Path)
	}
	got := readTree(t, out)
	for path, w := range want {
		if got[filepath.FromSlash(path)] != w {
			t.Errorf("%s differs from the generated tree", path)
		}
	}
	linked := 0
	for _, paths := range groups {
		first, err := os.Stat(filepath.Join(out, paths[0]))
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range paths[1:] {
			st, err := os.Stat(filepath.Join(out, p))
			if err != nil {
				t.Fatal(err)
			}
			if !os.SameFile(first, st) {
				t.Errorf("%s and %s have the same content but are not one file", paths[0], p)
			}
			linked++
		}
	}
	if linked == 0 {
		t.Fatal("the cumulative case repeats no file; the test checks nothing")
	}
	t.Logf("%d files are links to another", linked)
}
