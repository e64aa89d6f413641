package planner

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/klpc/klpc/diag"
	"github.com/klpc/klpc/internal/golden"
	"github.com/klpc/klpc/lang"
	"github.com/klpc/klpc/plan"
	"github.com/klpc/klpc/plan/planjson"
)

func planDir(t *testing.T, dir string) *plan.Plan {
	t.Helper()
	cfg, diags := lang.LoadDir(dir)
	return Plan(cfg, diags, Options{})
}

// TestExamples keeps the JSON plan of every example as a golden file, and
// plans twice to check that the output is byte for byte the same.
func TestExamples(t *testing.T) {
	dirs, _ := filepath.Glob("../../examples/*")
	if len(dirs) < 3 {
		t.Fatalf("examples missing: %v", dirs)
	}
	for _, dir := range dirs {
		if filepath.Base(dir) == "fleet" {
			continue // real packages in the cache: TestFleetExample
		}
		t.Run(filepath.Base(dir), func(t *testing.T) {
			first, err := planjson.Marshal(planDir(t, dir))
			if err != nil {
				t.Fatal(err)
			}
			second, _ := planjson.Marshal(planDir(t, dir))
			if string(first) != string(second) {
				t.Fatal("two plans of the same input differ")
			}
			golden.Check(t, filepath.Join("testdata", "golden", filepath.Base(dir)+".json"), first)
		})
	}
}

// TestStackingExample checks the heart of examples/stacking: lp3 leaves
// funcA (cmdline_proc_show) on the original code, and both fixes it drops
// are named in errors.
func TestStackingExample(t *testing.T) {
	p := planDir(t, "../../examples/stacking")
	steps := p.Deployments[0].Steps
	want := []map[string]string{
		{"vmlinux:cmdline_proc_show": "lp1:lp1_funcA", "vmlinux:version_proc_show": "original"},
		{"vmlinux:cmdline_proc_show": "lp2:lp2_funcA", "vmlinux:version_proc_show": "lp2:lp2_funcB"},
		{"vmlinux:cmdline_proc_show": "original", "vmlinux:version_proc_show": "lp3:lp3_funcB"},
	}
	for i, w := range want {
		if !steps[i].OK {
			t.Errorf("step %d refused: %s", i+1, steps[i].Reason)
		}
		for k, v := range w {
			if got := steps[i].Functions.Impl(k).String(); got != v {
				t.Errorf("step %d: %s runs %s, want %s", i+1, k, got, v)
			}
		}
	}
	var dropped []string
	for _, d := range p.Diagnostics {
		if d.Code == diag.ReplaceDropsFix {
			dropped = append(dropped, d.Detail)
		}
	}
	if len(dropped) != 2 || !strings.Contains(strings.Join(dropped, "\n"), `fix "lp1-funcA"`) || !strings.Contains(strings.Join(dropped, "\n"), `fix "lp2-funcA"`) {
		t.Errorf("want errors naming lp1-funcA and lp2-funcA, got %q", dropped)
	}
}

// TestCumulativeExample checks that the third release's forgotten fix is
// reported as a regression at the step that loads it.
func TestCumulativeExample(t *testing.T) {
	p := planDir(t, "../../examples/cumulative")
	steps := p.Deployments[0].Steps
	if got := steps[3].Functions.Impl("vmlinux:version_proc_show").String(); got != "original" {
		t.Errorf("after lp-2024-07, version_proc_show runs %s", got)
	}
	if len(steps[3].Diagnostics) != 1 || p.Diagnostics[steps[3].Diagnostics[0]].Code != diag.ReplaceDropsFix {
		t.Errorf("step 4 diagnostics: %v", steps[3].Diagnostics)
	}
	if !p.HasErrors() {
		t.Error("the plan has no error")
	}
}

// TestKernelLinesExample checks what examples/kernel-lines shows: the same
// release and deployment on 6.1, 6.12 and 7.2, where only 6.1 refuses the
// module's reload (its klp relocations are never cleared) and warns about
// it, and /sys/kernel/livepatch has the attributes of each line.
func TestKernelLinesExample(t *testing.T) {
	p := planDir(t, "../../examples/kernel-lines")
	if p.HasErrors() {
		t.Fatalf("errors:\n%s", p.Diagnostics.String())
	}
	wantLine := map[string]string{"deb12-6-1": "6.1", "deb13-6-12": "6.12", "sid-7-2": "7.x"}
	for _, k := range p.Kernels {
		if k.Line.Name != wantLine[k.Name] || !k.Line.Exact || k.Line.Override {
			t.Errorf("kernel %s: line %+v, want %s, exact, not overridden", k.Name, k.Line, wantLine[k.Name])
		}
	}
	const key = "tcp_scalable:tcp_scalable_ssthresh"
	for _, d := range p.Deployments {
		line := wantLine[d.Kernel]
		reload := d.Steps[2]
		if line == "6.1" {
			if reload.OK || reload.Errno != "ENOEXEC" || reload.Functions.Impl(key).String() != "absent" {
				t.Errorf("%s: reload: ok %v, errno %q, %s runs %s; want refused with ENOEXEC, absent", d.Name, reload.OK, reload.Errno, key, reload.Functions.Impl(key))
			}
		} else if !reload.OK || reload.Functions.Impl(key).String() != "lp-scalable:klpc_tcp_scalable_ssthresh" {
			t.Errorf("%s: reload: ok %v (%s), %s runs %s; want patched again", d.Name, reload.OK, reload.Reason, key, reload.Functions.Impl(key))
		}
		for _, s := range d.Steps {
			for _, sp := range s.Sysfs {
				if (sp.Replace != nil) != (line != "6.1") || (sp.StackOrder != 0) != (line == "7.x") {
					t.Errorf("%s: step %d: sysfs %+v is not the view of the %s line", d.Name, s.Index, sp, line)
				}
			}
		}
	}
	var warned []string
	for _, d := range p.Diagnostics {
		if d.Code == diag.RelocationsOnce {
			warned = append(warned, d.Detail)
		}
	}
	if len(warned) != 1 || !strings.Contains(warned[0], `kernel "deb12-6-1"`) {
		t.Errorf("want one relocations-once warning, for deb12-6-1 only: %q", warned)
	}
}

// TestFleetExample plans examples/fleet against the three Debian builds it
// names, read from their unpacked packages in .cache (KLPC_INTEGRATION=1;
// scripts/fetch-kernels.sh 6.1.0-47 6.1.0-56 6.12.117+deb12 fetches them):
// what differs per build is reported on that build only.
func TestFleetExample(t *testing.T) {
	if os.Getenv("KLPC_INTEGRATION") != "1" {
		t.Skip("KLPC_INTEGRATION=1 plans examples/fleet against the Debian packages in .cache")
	}
	for _, abi := range []string{"6.1.0-47", "6.1.0-56", "6.12.117+deb12"} {
		if _, err := os.Stat("../../.cache/kernels/" + abi + "-amd64/.complete"); err != nil {
			t.Skipf("%s is not unpacked in .cache: scripts/fetch-kernels.sh %s", abi, abi)
		}
	}
	p := planDir(t, "../../examples/fleet")
	var got []string
	for _, d := range p.Diagnostics {
		got = append(got, string(d.Code)+" "+d.Detail)
	}
	all := strings.Join(got, "\n")
	if len(got) != 3 {
		t.Fatalf("want 3 diagnostics, got:\n%s", all)
	}
	for _, want := range []string{
		`symbol-not-found On kernel "deb12-47" (release 6.1.0-47-amd64), for livepatch "lp-3"`,
		`'__flush_work.isra.0'`,
		`symbol-ambiguous On kernel "deb12-612" (release 6.12.117+deb12-amd64), for livepatch "lp-2"`,
		`symbol-ambiguous On kernel "deb12-612" (release 6.12.117+deb12-amd64), for livepatch "lp-3"`,
	} {
		if !strings.Contains(all, want) {
			t.Errorf("missing %q in:\n%s", want, all)
		}
	}
	for _, lp := range p.Livepatches {
		for _, b := range lp.Builds {
			for _, m := range b.Modules {
				for _, o := range m.Objects {
					for _, f := range o.Funcs {
						if f.Name == "acpi_attr_is_visible" && b.Kernel != "deb12-612" && f.Sympos != 0 {
							t.Errorf("%s on %s: sympos %d, want 0 (unique on 6.1)", lp.Name, b.Kernel, f.Sympos)
						}
					}
				}
			}
		}
	}
	for _, st := range p.Deployments[0].Steps {
		if !st.OK {
			t.Errorf("step refused on deb12-56: %s", st.Reason)
		}
	}
}
