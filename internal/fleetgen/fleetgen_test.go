package fleetgen

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/klpc/klpc/lang"
	"github.com/klpc/klpc/plan/planner"
)

// A small fleet plans without a diagnostic: every function is real,
// unique and traceable on the committed 6.1 build, and every release
// carries the fixes of the one before.
func TestSmallFleetPlansCleanly(t *testing.T) {
	out := t.TempDir()
	o := Options{Kernels: 3, Releases: 4, Funcs: 10, KernelDir: "../../kernels/6.1.0-56-amd64", Release: "6.1.0-56-amd64"}
	t.Setenv("KLPC_CACHE_DIR", t.TempDir())
	if err := Write(out, o); err != nil {
		t.Fatal(err)
	}
	first, err := os.ReadFile(filepath.Join(out, "fleet.klp.hcl"))
	if err != nil {
		t.Fatal(err)
	}
	again := t.TempDir()
	if err := Write(again, o); err != nil {
		t.Fatal(err)
	}
	if second, _ := os.ReadFile(filepath.Join(again, "fleet.klp.hcl")); string(second) != string(first) {
		t.Fatal("two fleets of the same options differ")
	}
	cfg, diags := lang.LoadDir(out)
	p := planner.Plan(cfg, diags, planner.Options{})
	if len(p.Diagnostics) > 0 {
		t.Fatal(p.Diagnostics.String())
	}
	if len(p.Kernels) != 3 || len(p.Livepatches) != 4 || len(p.Deployments) != 3 {
		t.Fatalf("%d kernels, %d releases, %d deployments", len(p.Kernels), len(p.Livepatches), len(p.Deployments))
	}
	last := p.Deployments[0].Steps[3]
	if !last.OK || last.Functions.Len() != 10 {
		t.Fatalf("last step ok=%v with %d functions", last.OK, last.Functions.Len())
	}
	if err := Write(t.TempDir(), Options{Kernels: 1, Releases: 5, Funcs: 4, KernelDir: o.KernelDir}); err == nil {
		t.Error("fewer functions than releases accepted")
	}
}
