package emit

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/klpc/klpc/diag"
	"github.com/klpc/klpc/internal/golden"
	"github.com/klpc/klpc/plan"
)

const klpBuildConfig = "testdata/configs/klpbuild"

// planKlpBuild plans testdata/configs/klpbuild and gives its 7.x kernel the
// headers folder of Debian's 7.2 headers package (in a build chroot on
// this machine, so not in the configuration, which lang checks).
func planKlpBuild(t *testing.T) *plan.Plan {
	t.Helper()
	p := planDir(t, klpBuildConfig)
	for _, k := range p.Kernels {
		if k.Name == "sid" {
			k.Headers = "/usr/src/linux-headers-7.2.13+deb14-amd64"
		}
	}
	return p
}

// TestKlpBuild checks the klp-build inputs: emitted for the 7.x kernel
// only, --no-replace for the non-replace release, and the releases
// klp-build refuses (a patch to lib/ and a .S file; a klp_state) reported
// as warnings at the patch line or the release's fixes, since the Kbuild
// output still builds them.
func TestKlpBuild(t *testing.T) {
	tree, diags := Generate(planKlpBuild(t))
	if diags.HasErrors() {
		t.Fatal(diags.String())
	}
	golden.Check(t, filepath.Join("testdata", "golden", "klpbuild.txtar"), archive(tree))

	var got []string
	for _, d := range diags {
		got = append(got, fmt.Sprintf("%s %s %s", d.Severity, d.Code, d.Subject))
	}
	patch := filepath.Join(klpBuildConfig, "patches", "strscpy.patch")
	cfg := filepath.Join(klpBuildConfig, "main.klp.hcl")
	want := []string{
		fmt.Sprintf("warning %s %s:2:5", diag.KlpBuildRefuses, patch),
		fmt.Sprintf("warning %s %s:13:5", diag.KlpBuildRefuses, patch),
		fmt.Sprintf("warning %s %s:65:13", diag.KlpBuildStates, cfg),
	}
	if !slices.Equal(got, want) {
		t.Errorf("diagnostics:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	var scripts []string
	for _, f := range tree.Files {
		if strings.HasSuffix(f.Path, "/klp-build.sh") {
			scripts = append(scripts, f.Path)
		}
	}
	if !slices.Equal(scripts, []string{"sid/lp_cmdline/klp-build.sh"}) {
		t.Errorf("klp-build.sh emitted at %v, want only sid/lp_cmdline", scripts)
	}
	sh := string(tree.File("sid/lp_cmdline/klp-build.sh").Data)
	for _, w := range []string{`-o "$out/lp_cmdline.ko"`, `-j "$jobs"`, "--no-replace", `"$here"/patches/01-cmdline.patch`, "cd \"$src\"", "exec ./scripts/livepatch/klp-build"} {
		if !strings.Contains(sh, w) {
			t.Errorf("klp-build.sh lacks %q:\n%s", w, sh)
		}
	}
	path := filepath.Join(t.TempDir(), "klp-build.sh")
	if err := os.WriteFile(path, []byte(sh), 0o755); err != nil {
		t.Fatal(err)
	}
	if b, err := exec.Command("sh", "-n", path).CombinedOutput(); err != nil {
		t.Errorf("sh -n klp-build.sh: %v\n%s", err, b)
	}
	if shellcheck, _ := exec.LookPath("shellcheck"); shellcheck != "" {
		if b, err := exec.Command(shellcheck, "-s", "sh", path).CombinedOutput(); err != nil {
			t.Errorf("shellcheck klp-build.sh: %v\n%s", err, b)
		}
	} else if os.Getenv("KLPC_E2E") == "1" {
		t.Error("KLPC_E2E=1 but shellcheck is not installed")
	}
	var m manifest
	if err := json.Unmarshal(tree.File("sid/lp_state/manifest.json").Data, &m); err != nil {
		t.Fatal(err)
	}
	if m.KlpBuild == nil || m.KlpBuild.Enabled || !strings.Contains(m.KlpBuild.Skipped, "klp-build refuses") || !m.Kbuild.Enabled {
		t.Errorf("lp_state: klp_build %+v, kbuild enabled %v", m.KlpBuild, m.Kbuild.Enabled)
	}
	var m61 manifest
	if err := json.Unmarshal(tree.File("deb12/lp_cmdline/manifest.json").Data, &m61); err != nil || m61.KlpBuild != nil {
		t.Errorf("a 6.1 kernel has klp-build inputs: %+v (%v)", m61.KlpBuild, err)
	}
	if !bytes.Contains(tree.File("build.json").Data, []byte(`"builder": "klp-build"`)) {
		t.Error("build.json lists no klp-build artifact")
	}
}

// TestKlpBuildStatesNoOtherBuild: without headers, no build of the 7.x
// kernel carries the release's states, and emit refuses it; the patch
// refusal stays a warning, since kpatch-build still builds that module.
func TestKlpBuildStatesNoOtherBuild(t *testing.T) {
	p := planDir(t, klpBuildConfig)
	_, diags := Generate(p)
	var codes []string
	for _, d := range diags {
		codes = append(codes, fmt.Sprintf("%s %s", d.Severity, d.Code))
	}
	want := []string{"warning " + string(diag.KlpBuildRefuses), "warning " + string(diag.KlpBuildRefuses), "error " + string(diag.KlpBuildStates)}
	if !slices.Equal(codes, want) {
		t.Errorf("diagnostics %v, want %v:\n%s", codes, want, diags.String())
	}
}

// klpBuildPatchCases are patches whose refusal by klp-build's
// check_unsupported_patches the tests below know: "" when accepted, else
// the file it names (klp-build dies at the first, in sorted order).
var klpBuildPatchCases = []struct {
	name, patch, refused string
}{
	{"fs", "--- a/fs/proc/cmdline.c\n+++ b/fs/proc/cmdline.c\n@@ -1 +1 @@\n-x\n+y\n", ""},
	{"lib", "--- a/lib/string.c\n+++ b/lib/string.c\n@@ -1 +1 @@\n-x\n+y\n", "lib/string.c"},
	{"nested lib", "--- a/arch/x86/lib/usercopy.c\n+++ b/arch/x86/lib/usercopy.c\n", ""},
	{"asm", "--- a/arch/x86/lib/memcpy_64.S\t2024-01-01 00:00:00\n+++ b/arch/x86/lib/memcpy_64.S\t2024-01-01 00:00:00\n", "arch/x86/lib/memcpy_64.S"},
	{"vdso", "--- a/arch/x86/entry/vdso/vma.c\n+++ b/arch/x86/entry/vdso/vma.c\n", "arch/x86/entry/vdso/vma.c"},
	{"top vdso", "--- a/vdso/x.c\n+++ b/vdso/x.c\n", ""},
	{"realmode", "--- a/arch/x86/realmode/rm/wakeup.c\n+++ b/arch/x86/realmode/rm/wakeup.c\n", "arch/x86/realmode/rm/wakeup.c"},
	{"new file", "--- /dev/null\n+++ b/lib/new.c\n", "lib/new.c"},
	{"new fs file", "--- /dev/null\n+++ b/fs/new.c\n", ""},
	{"deleted file", "--- a/lib/old.c\n+++ /dev/null\n", "lib/old.c"},
	{"epoch", "--- lib/x.c\t1970-01-01 00:00:00\n+++ b/fs/x.c\n", ""},
	{"no prefix", "--- lib/x.c\n+++ lib/x.c\n", ""},
	{"removed dashes", "--- a/fs/a.c\n+++ b/fs/a.c\n@@ -1,2 +1 @@\n--- a/lib/fake.c\n x\n", "lib/fake.c"},
	{"two", "--- a/kernel/x.S\n+++ b/kernel/x.S\n--- a/lib/y.c\n+++ b/lib/y.c\n", "kernel/x.S"},
}

// TestKlpBuildUnsupported checks klpc's reading of patches against the
// cases above, and the position it reports.
func TestKlpBuildUnsupported(t *testing.T) {
	for _, tc := range klpBuildPatchCases {
		got := klpBuildUnsupported("p.patch", []byte(tc.patch))
		first := ""
		for _, u := range got {
			if first == "" || u.file < first {
				first = u.file
			}
			line := strings.Split(tc.patch, "\n")[u.rng.Start.Line-1]
			if at := line[u.rng.Start.Column-1 : u.rng.End.Column-1]; !strings.HasSuffix(at, u.file) {
				t.Errorf("%s: %s reported at %q", tc.name, u.file, at)
			}
		}
		if first != tc.refused {
			t.Errorf("%s: klpc refuses %q, want %q", tc.name, first, tc.refused)
		}
	}
}

// klpBuildScript returns the real klp-build of Linux 7.2, unpacked by
// plan/klp/testdata/unpack-kernel-source.sh, or skips the test.
func klpBuildScript(t *testing.T) string {
	t.Helper()
	src, _ := filepath.Abs(filepath.Join("..", ".cache", "src", "7.2"))
	script := filepath.Join(src, "scripts", "livepatch", "klp-build")
	if _, err := os.Stat(script); err != nil {
		if os.Getenv("KLPC_INTEGRATION") == "1" {
			t.Fatalf("KLPC_INTEGRATION=1: %v (run plan/klp/testdata/unpack-kernel-source.sh)", err)
		}
		t.Skipf("the 7.2 klp-build is not unpacked: %v", err)
	}
	for _, tool := range []string{"bash", "gawk", "getopt", "patch", "recountdiff", "make"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("klp-build needs %s: %v", tool, err)
		}
	}
	return script
}

// TestKlpBuildUnsupportedAgainstScript runs the real check_unsupported_patches
// and get_patch_files of klp-build (7.2) on the same patches and checks that
// klpc refuses exactly what it refuses.
func TestKlpBuildUnsupportedAgainstScript(t *testing.T) {
	script := klpBuildScript(t)
	data, err := os.ReadFile(script)
	if err != nil {
		t.Fatal(err)
	}
	// The functions, as the script defines them; its main part is left out.
	var funcs []string
	for _, name := range []string{"grep0", "grep", "die", "get_patch_input_files", "get_patch_output_files", "get_patch_files", "check_unsupported_patches"} {
		text := string(data)
		i := strings.Index(text, "\n"+name+"() {\n")
		if i < 0 {
			t.Fatalf("%s: no function %s", script, name)
		}
		j := strings.Index(text[i:], "\n}\n")
		funcs = append(funcs, text[i+1:i+j+3])
	}
	harness := "set -o pipefail\nshopt -s lastpipe\nSCRIPT=klp-build\nCOLOR_RESET= COLOR_ERROR=\n" + strings.Join(funcs, "") + "PATCHES=(\"$@\")\ncheck_unsupported_patches\n"
	dir := t.TempDir()
	for _, tc := range klpBuildPatchCases {
		path := filepath.Join(dir, "p.patch")
		if err := os.WriteFile(path, []byte(tc.patch), 0o644); err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command("bash", "-c", harness, "klp-build", path).CombinedOutput()
		real := ""
		if err != nil {
			_, real, _ = strings.Cut(strings.TrimSpace(string(out)), ": unsupported patch to ")
			if real == "" {
				t.Fatalf("%s: klp-build failed otherwise: %v\n%s", tc.name, err, out)
			}
		}
		if real != tc.refused {
			t.Errorf("%s: klp-build refuses %q, the case says %q", tc.name, real, tc.refused)
		}
	}
}

// TestKlpBuildScriptRuns runs an emitted klp-build.sh with the real
// klp-build of Linux 7.2 in a stand-in source tree: the real
// scripts/livepatch, Debian's 7.2 .config, the real fs/proc/cmdline.c, and
// a Makefile that answers klp-build's questions (listnewconfig, syncconfig,
// kernelrelease) and refuses to build a kernel. klp-build parses the
// emitted options, validates the .config, sets the module name, checks the
// patch against its restrictions, applies and reverts it, and stops where
// it would build the original kernel (make clean, which the stand-in
// Makefile refuses).
func TestKlpBuildScriptRuns(t *testing.T) {
	script := klpBuildScript(t)
	src := filepath.Dir(filepath.Dir(filepath.Dir(script)))
	tree := t.TempDir()
	copyTree := func(from, to string) {
		if err := os.CopyFS(filepath.Join(tree, to), os.DirFS(filepath.Join(src, from))); err != nil {
			t.Fatal(err)
		}
	}
	copyTree("scripts/livepatch", "scripts/livepatch")
	copyTree("fs/proc", "fs/proc")
	config, err := exec.Command("sh", "-c", "gzip -dc ../kernels/7.2.13+deb14-amd64/config.gz").Output()
	if err != nil {
		t.Fatal(err)
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.WriteFile(filepath.Join(tree, ".config"), config, 0o644))
	must(os.WriteFile(filepath.Join(tree, "scripts", "setlocalversion"), []byte("#!/bin/sh\n"), 0o755))
	must(os.WriteFile(filepath.Join(tree, "Makefile"), []byte("listnewconfig syncconfig:\n\t@:\nkernelrelease:\n\t@echo 7.2.13+deb14-amd64\n%:\n\t@echo 'klpc test tree: no kernel is built here' >&2; exit 1\n"), 0o644))
	before, err := os.ReadFile(filepath.Join(tree, "fs", "proc", "cmdline.c"))
	must(err)

	out := filepath.Join(t.TempDir(), "out")
	if _, d := Emit(context.Background(), planKlpBuild(t), out, Options{}); d.HasErrors() {
		t.Fatal(d.String())
	}
	cmd := exec.Command("sh", filepath.Join(out, "sid", "lp_cmdline", "klp-build.sh"))
	cmd.Env = append(os.Environ(), "KLP_BUILD_SRC="+tree, "KLP_BUILD_JOBS=1")
	res, err := cmd.CombinedOutput()
	t.Logf("klp-build.sh with the real klp-build:\n%s", res)
	for _, w := range []string{"Validating patch(es)", "Building original kernel", "klpc test tree: no kernel is built here"} {
		if !bytes.Contains(res, []byte(w)) {
			t.Errorf("klp-build did not get to %q", w)
		}
	}
	if err == nil {
		t.Error("klp-build succeeded without a kernel tree")
	}
	after, _ := os.ReadFile(filepath.Join(tree, "fs", "proc", "cmdline.c"))
	if !bytes.Equal(before, after) {
		t.Error("klp-build left fs/proc/cmdline.c patched")
	}

	// The same with the patch klp-build refuses: it stops where klpc warns.
	patch, _ := filepath.Abs(filepath.Join(klpBuildConfig, "patches", "strscpy.patch"))
	cmd = exec.Command("bash", filepath.Join(tree, "scripts", "livepatch", "klp-build"), "-o", filepath.Join(out, "x.ko"), "-j", "1", "--no-replace", patch)
	cmd.Dir = tree
	res, err = cmd.CombinedOutput()
	if err == nil || !bytes.Contains(res, []byte("unsupported patch to arch/x86/lib/memcpy_64.S")) {
		t.Errorf("klp-build on %s: %v\n%s", patch, err, res)
	}
}

// FuzzKlpBuildUnsupported: any patch text is read without a panic, and
// every refused file is reported at a range of the text that names it.
func FuzzKlpBuildUnsupported(f *testing.F) {
	for _, tc := range klpBuildPatchCases {
		f.Add([]byte(tc.patch))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, u := range klpBuildUnsupported("p.patch", data) {
			r := u.rng
			if r.Start.Byte < 0 || r.End.Byte > len(data) || r.Start.Byte >= r.End.Byte {
				t.Fatalf("range %+v outside the %d bytes", r, len(data))
			}
			if !strings.HasSuffix(string(data[r.Start.Byte:r.End.Byte]), u.file) || !klpBuildRefusesFile(u.file) {
				t.Fatalf("%q reported at %q", u.file, data[r.Start.Byte:r.End.Byte])
			}
		}
	})
}
