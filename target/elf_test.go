package target

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// Sources for a small kernel-like image: two files each define a static
// helper() (so sympos and file selection matter), one function is notrace,
// and every other function gets an fentry call recorded in __mcount_loc,
// as kbuild compiles with -pg -mfentry -mrecord-mcount.
var elfSources = map[string]string{
	"alpha.c": `
static int __attribute__((noinline)) helper(int x) { return x * 3 + 1; }
int __attribute__((noinline, no_instrument_function)) quiet(int x) { return x - 1; }
int alpha_counter = 1;
int alpha(int x) { return helper(x) + quiet(x) + alpha_counter; }
`,
	"beta.c": `
static int __attribute__((noinline)) helper(int x) { return x * 5 + 2; }
int beta(int x) { return helper(x) + 1; }
`,
	// __fentry__ itself must not be instrumented; it is built without -pg.
	"entry.c": `
void __fentry__(void) {}
int alpha(int); int beta(int);
void _start(void) { alpha(1); beta(2); for (;;) ; }
`,
}

// buildELF compiles elfSources into dir and returns the object files.
func buildELF(t *testing.T) (dir string, objs []string) {
	t.Helper()
	if _, err := exec.LookPath("gcc"); err != nil {
		t.Skip("gcc not installed")
	}
	dir = t.TempDir()
	for _, name := range []string{"alpha.c", "beta.c", "entry.c"} {
		src := elfSources[name]
		if err := os.WriteFile(filepath.Join(dir, name), []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
		args := []string{"-O2", "-fno-pie", "-c", name, "-o", strings.TrimSuffix(name, ".c") + ".o"}
		if name != "entry.c" {
			args = append([]string{"-pg", "-mfentry", "-mrecord-mcount"}, args...)
		}
		cmd := exec.Command("gcc", args...)
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Skipf("gcc cannot build the test image (%v): %s", err, out)
		}
		objs = append(objs, strings.TrimSuffix(name, ".c")+".o")
	}
	return dir, objs
}

func TestVmlinuxELF(t *testing.T) {
	dir, objs := buildELF(t)
	args := append([]string{"-nostdlib", "-static", "-no-pie", "-Wl,-Ttext=0xffffffff81000000", "-o", "vmlinux"}, objs...)
	cmd := exec.Command("gcc", args...)
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Skipf("cannot link test vmlinux (%v): %s", err, out)
	}
	o, err := ReadVmlinux(filepath.Join(dir, "vmlinux"))
	if err != nil {
		t.Fatal(err)
	}
	checkELFObject(t, o)
	// The addresses are real link addresses, in increasing order.
	for i := 1; i < len(o.Symbols); i++ {
		if o.Symbols[i].Addr < o.Symbols[i-1].Addr {
			t.Fatalf("vmlinux symbols not in address order at %d", i)
		}
	}
	// A vmlinux reader refuses relocatable files.
	if _, err := ReadVmlinux(filepath.Join(dir, "alpha.o")); err == nil || !strings.Contains(err.Error(), "relocatable") {
		t.Errorf("ReadVmlinux(alpha.o): %v", err)
	}
}

func TestModuleELFWithFiles(t *testing.T) {
	dir, _ := buildELF(t)
	// A module is a relocatable link of its objects, like kbuild's ld -r.
	if err := os.WriteFile(filepath.Join(dir, "modinfo.c"),
		[]byte(`static const char n[] __attribute__((section(".modinfo"), used)) = "name=test_mod";`+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("gcc", "-c", "modinfo.c", "-o", "modinfo.o")
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Skipf("gcc: %v: %s", err, out)
	}
	cmd = exec.Command("ld", append([]string{"-r", "-o", "test-mod.ko", "modinfo.o"}, "alpha.o", "beta.o")...)
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Skipf("ld -r: %v: %s", err, out)
	}
	o, err := ReadModule(filepath.Join(dir, "test-mod.ko"))
	if err != nil {
		t.Fatal(err)
	}
	if o.Name != "test_mod" {
		t.Errorf("module name %q", o.Name)
	}
	checkELFObject(t, o)
}

// checkELFObject checks resolution rules on the gcc-built image: which of
// alpha.c/beta.c comes first depends on the link order, so the expected
// sympos is looked up by file.
func checkELFObject(t *testing.T, o *Object) {
	t.Helper()
	r := o.Resolve("helper", 0, "")
	if r.Problem != Ambiguous || len(r.Candidates) != 2 {
		t.Fatalf("helper: %s", r.Describe())
	}
	files := map[string]int{}
	for _, c := range r.Candidates {
		files[c.File] = c.Sympos
		if c.Traceable != Yes || !c.Func {
			t.Errorf("helper candidate %+v should be a traceable function", c)
		}
	}
	if files["alpha.c"] == 0 || files["beta.c"] == 0 {
		t.Fatalf("helper candidates lack source files: %+v", r.Candidates)
	}
	for _, tt := range []struct {
		file    string
		sympos  int
		problem Problem
		want    int
	}{
		{"alpha.c", 0, OK, files["alpha.c"]},
		{"kernel/alpha.c", 0, OK, files["alpha.c"]}, // a path matches the base name
		{"beta.c", 0, OK, files["beta.c"]},
		{"beta.c", files["beta.c"], OK, files["beta.c"]},
		{"beta.c", files["alpha.c"], FileMismatch, 0},
		{"gamma.c", 0, FileNotFound, 0},
		{"pha.c", 0, FileNotFound, 0}, // only whole path components match
	} {
		r := o.Resolve("helper", tt.sympos, tt.file)
		if r.Problem != tt.problem || r.Sympos != tt.want {
			t.Errorf("helper file %q sympos %d: %v sympos %d, want %v %d", tt.file, tt.sympos, r.Problem, r.Sympos, tt.problem, tt.want)
		}
	}
	if r := o.Resolve("quiet", 0, ""); r.Problem != NotTraceable {
		t.Errorf("notrace function: %s", r.Describe())
	}
	if r := o.Resolve("alpha", 0, ""); r.Problem != OK || r.Candidates[0].File != "" {
		t.Errorf("global alpha (globals carry no file): %s %+v", r.Describe(), r.Candidates)
	}
	if r := o.Resolve("alpha_counter", 0, ""); r.Problem != NotFunction {
		t.Errorf("data symbol: %s", r.Describe())
	}
}
