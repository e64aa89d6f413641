package planner

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/klpc/klpc/diag"
	"github.com/klpc/klpc/kabi"
	"github.com/klpc/klpc/lang"
	"github.com/klpc/klpc/plan"
	"github.com/klpc/klpc/plan/klp"
	"github.com/klpc/klpc/plan/simulate"
)

// planSource plans one configuration file given as text.
func planSource(t *testing.T, src string) *plan.Plan {
	t.Helper()
	dir := t.TempDir()
	for _, name := range []string{"cmdline.c", "nfsd.c", "version.c"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte("/* replacement */\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cfg, diags := lang.NewParser().LoadSources(dir, map[string][]byte{filepath.Join(dir, "main.klp.hcl"): []byte(src)})
	if diags.HasErrors() {
		t.Fatalf("configuration: %s", diags.String())
	}
	return Plan(cfg, diags, Options{})
}

// perObjectReleases: lp-a patches vmlinux and nfsd; lp-b carries both of
// its fixes plus one for vmlinux, still one module per object.
const perObjectReleases = `
kernel "k" {
  release = "6.1.0-56-amd64"
}

fix "cmdline" {
  source = "cmdline.c"
  object "vmlinux" {
    func "cmdline_proc_show" { new = "klpc_cmdline_proc_show" }
  }
}

fix "nfsd-stat" {
  source = "nfsd.c"
  object "nfsd" {
    func "nfsd_proc_show" { new = "klpc_nfsd_proc_show" }
  }
}

fix "version" {
  source = "version.c"
  object "vmlinux" {
    func "version_proc_show" { new = "klpc_version_proc_show" }
  }
}

livepatch "lp-a" {
  replace = false
  layout  = "per-object"
  kernels = [kernel.k]
  fixes   = [fix.cmdline, fix.nfsd-stat]
}

livepatch "lp-b" {
  replace = false
  layout  = "per-object"
  kernels = [kernel.k]
  fixes   = [fix.cmdline, fix.nfsd-stat, fix.version]
}
`

func TestUpgradePerObject(t *testing.T) {
	p := planSource(t, perObjectReleases)
	if p.HasErrors() {
		t.Fatalf("errors: %s", p.Diagnostics.String())
	}
	if ups := p.Livepatch("lp-a").Upgrades; len(ups) != 0 {
		t.Errorf("the first release has upgrades: %v", ups)
	}
	ups := p.Livepatch("lp-b").Upgrades
	if len(ups) != 1 {
		t.Fatalf("lp-b has %d upgrades, want 1", len(ups))
	}
	u := ups[0]
	if u.From != "lp-a" || u.Kernel != "k" || !u.Verified {
		t.Fatalf("upgrade from %q on %q verified=%v: %s", u.From, u.Kernel, u.Verified, u.Reason)
	}
	var got []string
	for _, s := range u.Steps {
		got = append(got, string(s.Action)+" "+s.Module)
		if !s.OK {
			t.Errorf("step %d refused: %s", s.Index, s.Reason)
		}
		for _, key := range u.Guarded {
			if s.Functions[key].String() == "original" {
				t.Errorf("after step %d %s runs the original code", s.Index, key)
			}
		}
	}
	want := []string{
		"load lp_b__vmlinux", "load lp_b__nfsd",
		"disable lp_a__vmlinux", "unload lp_a__vmlinux",
		"disable lp_a__nfsd", "unload lp_a__nfsd",
	}
	if strings.Join(got, ", ") != strings.Join(want, ", ") {
		t.Errorf("steps:\n  %s\nwant:\n  %s", strings.Join(got, ", "), strings.Join(want, ", "))
	}
	if want := "nfsd:nfsd_proc_show, vmlinux:cmdline_proc_show"; strings.Join(u.Guarded, ", ") != want {
		t.Errorf("guarded %v, want %s", u.Guarded, want)
	}
	last := u.Steps[len(u.Steps)-1].Functions
	for key, impl := range map[string]string{
		"vmlinux:cmdline_proc_show": "lp-b:klpc_cmdline_proc_show",
		"vmlinux:version_proc_show": "lp-b:klpc_version_proc_show",
		"nfsd:nfsd_proc_show":       "lp-b:klpc_nfsd_proc_show",
	} {
		if last[key].String() != impl {
			t.Errorf("after the upgrade %s runs %s, want %s", key, last[key], impl)
		}
	}
}

// TestUpgradeNaiveOrder checks that the verification catches the order an
// operator would try first: disable the old modules, then load the new
// ones. In between, the guarded functions run the original code.
func TestUpgradeNaiveOrder(t *testing.T) {
	p := planSource(t, perObjectReleases)
	if p.HasErrors() {
		t.Fatalf("errors: %s", p.Diagnostics.String())
	}
	prev, next := p.Livepatch("lp-a"), p.Livepatch("lp-b")
	var naive []*plan.UpgradeStep
	add := func(action kabi.Action, lp, module string) {
		naive = append(naive, &plan.UpgradeStep{Index: len(naive) + 1, Action: action, Livepatch: lp, Module: module, Functions: map[string]plan.Impl{}})
	}
	add(kabi.ActionDisable, "lp-a", "lp_a__vmlinux")
	add(kabi.ActionUnload, "lp-a", "lp_a__vmlinux")
	add(kabi.ActionDisable, "lp-a", "lp_a__nfsd")
	add(kabi.ActionUnload, "lp-a", "lp_a__nfsd")
	add(kabi.ActionLoad, "lp-b", "lp_b__vmlinux")
	add(kabi.ActionLoad, "lp-b", "lp_b__nfsd")
	u := simulate.Upgrade(prev, next, "k", unknownKernel{}, naive)
	if u.Verified {
		t.Fatal("the naive order is verified")
	}
	if !strings.Contains(u.Reason, "at step 1 (disable lp_a__vmlinux)") || !strings.Contains(u.Reason, "vmlinux:cmdline_proc_show runs the original code") {
		t.Errorf("reason: %s", u.Reason)
	}
	if got := naive[0].Functions["vmlinux:cmdline_proc_show"].String(); got != "original" {
		t.Errorf("after disabling lp_a__vmlinux cmdline_proc_show runs %s", got)
	}
	if got := naive[5].Functions["nfsd:nfsd_proc_show"].String(); got != "lp-b:klpc_nfsd_proc_show" {
		t.Errorf("at the end nfsd_proc_show runs %s", got)
	}
}

// TestUpgradeRefused: the new release lowers a state's version, so the
// kernel refuses its first module; removing the old ones would then leave
// the original code running, and the planner says so.
func TestUpgradeRefused(t *testing.T) {
	src := strings.Replace(perObjectReleases, `fix "version" {`, `fix "version" {
  state "s" {
    id      = 7
    version = 1
  }`, 1)
	src = strings.Replace(src, `fix "cmdline" {`, `fix "cmdline" {
  state "s2" {
    id      = 7
    version = 2
  }`, 1)
	// lp-a (fix cmdline) installs state 7 at version 2; lp-b leaves fix
	// cmdline out and carries fix version, with state 7 at version 1.
	src = strings.Replace(src, `fixes   = [fix.cmdline, fix.nfsd-stat, fix.version]`, `fixes   = [fix.version, fix.nfsd-stat]`, 1)
	p := planSource(t, src)
	u := p.Livepatch("lp-b").Upgrades[0]
	if u.Verified {
		t.Fatal("verified although the kernel refuses lp-b's first module")
	}
	if !strings.Contains(u.Reason, "at step 1 (load lp_b__vmlinux), the kernel refuses it") {
		t.Errorf("reason: %s", u.Reason)
	}
	found := false
	for _, d := range p.Diagnostics {
		if d.Code == diag.UnsafeUpgrade && d.Severity == diag.Error {
			found = true
			if !strings.Contains(d.Detail, `Upgrading from "lp-a" to "lp-b" on kernel "k"`) {
				t.Errorf("detail: %s", d.Detail)
			}
		}
	}
	if !found {
		t.Errorf("no error diagnostic: %v", p.Diagnostics.String())
	}
}

// TestUpgradeReplaceSingleObject: a replace module takes over by itself,
// so the old one is only removed.
func TestUpgradeReplaceSingleObject(t *testing.T) {
	src := `
kernel "k" {
  release = "6.1.0-56-amd64"
}
fix "cmdline" {
  object "vmlinux" {
    func "cmdline_proc_show" { new = "klpc_cmdline_proc_show" }
  }
}
livepatch "one" {
  layout  = "per-object"
  kernels = [kernel.k]
  fixes   = [fix.cmdline]
}
livepatch "combined" {
  kernels = [kernel.k]
  fixes   = [fix.cmdline]
}
livepatch "two" {
  layout  = "per-object"
  kernels = [kernel.k]
  fixes   = [fix.cmdline]
}
`
	p := planSource(t, src)
	if p.HasErrors() {
		t.Fatalf("errors: %s", p.Diagnostics.String())
	}
	if len(p.Livepatch("combined").Upgrades) != 0 {
		t.Error("a combined release has an upgrade")
	}
	ups := p.Livepatch("two").Upgrades
	if len(ups) != 1 || ups[0].From != "one" || !ups[0].Verified {
		t.Fatalf("upgrades of two: %+v", ups)
	}
	var got []string
	for _, s := range ups[0].Steps {
		got = append(got, string(s.Action)+" "+s.Module)
	}
	if want := "load two__vmlinux, unload one__vmlinux"; strings.Join(got, ", ") != want {
		t.Errorf("steps %v, want %s", got, want)
	}
}

// unknownKernel is a kernel block that names no symbol files: every object
// exists and every symbol is found, as the planner assumes then.
type unknownKernel struct{}

func (unknownKernel) Release() string       { return "6.1.0-56-amd64" }
func (unknownKernel) HasObject(string) bool { return true }
func (unknownKernel) Symbols() klp.Symbols  { return nil }
func (unknownKernel) Line() klp.Line        { return klp.Line6_1 }
