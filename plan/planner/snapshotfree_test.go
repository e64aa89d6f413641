package planner

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/klpc/klpc/lang"
)

// TestSnapshotDisabledFreed starts from examples/hosts/hosts/db-1.json,
// taken on the real 6.1 kernel after ns2 was disabled: its module is still
// in /proc/modules, but the kernel freed the patch when the transition
// completed (klp_free_patch_async), so /sys/kernel/livepatch lists only
// ns1 and ns3. The model reaches that state, and plans from it: ns2 cannot
// be disabled again (no sysfs folder), can be unloaded, and loads again on
// top of the stack.
func TestSnapshotDisabledFreed(t *testing.T) {
	dir := t.TempDir()
	if err := os.CopyFS(dir, os.DirFS("../../examples/hosts")); err != nil {
		t.Fatal(err)
	}
	main := filepath.Join(dir, "main.klp.hcl")
	hcl, err := os.ReadFile(main)
	if err != nil {
		t.Fatal(err)
	}
	text := strings.ReplaceAll(string(hcl), "../../kernels", mustAbs(t, "../../kernels"))
	text += `
deploy "db-1-again" {
  kernel = kernel.deb12-56
  from   = "hosts/db-1.json"
  step "disable" {
    livepatch = livepatch.ns2
    expect    = "refused"
  }
  step "unload" {
    livepatch = livepatch.ns2
  }
  step "load" {
    livepatch = livepatch.ns2
  }
}
`
	if err := os.WriteFile(main, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, diags := lang.LoadDir(dir)
	p := Plan(cfg, diags, Options{})
	if p.HasErrors() {
		t.Fatal(p.Diagnostics.String())
	}
	d := p.Deployments[len(p.Deployments)-1]
	if d.Name != "db-1-again" || d.From == nil || len(d.From.Livepatches) != 2 {
		t.Fatalf("deployment %s from %+v", d.Name, d.From)
	}
	if s := d.Steps[0]; s.OK {
		t.Errorf("disabling the freed ns2: %+v", s)
	}
	if s := d.Steps[1]; !s.OK {
		t.Errorf("unloading ns2: %s", s.Reason)
	}
	s := d.Steps[2]
	if !s.OK || s.Functions.Impl("vmlinux:cmdline_proc_show").Livepatch != "ns2" {
		t.Errorf("loading ns2 again: ok=%v %s, cmdline runs %+v", s.OK, s.Reason, s.Functions.Impl("vmlinux:cmdline_proc_show"))
	}
}
