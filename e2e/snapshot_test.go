package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/klpc/klpc/hostsnap"
	"github.com/klpc/klpc/kabi"
	"github.com/klpc/klpc/lang"
	"github.com/klpc/klpc/plan"
	"github.com/klpc/klpc/plan/planner"
)

// snapshotDeployments are the differential deployments whose every step is
// split: a host snapshot taken in the guest after the step is planned
// from, and the plan of the remaining steps is compared with what the
// kernel did next in the same run.
var snapshotDeployments = []string{"multiple", "disable-order", "atomic-replace", "late", "stacking"}

// TestSnapshotDifferential runs deployments of the differential suite with
// scripts/klpc-snapshot.sh after every step, then, for every step k, plans
// a deploy block that starts from the snapshot after step k (from = ...)
// and holds the remaining steps, and compares that plan with what the real
// kernel did after step k. KLPC_SNAPSHOT_OUT=DIR also saves the snapshots
// there (examples/hosts was made so).
func TestSnapshotDifferential(t *testing.T) {
	env := EnvForTest(t)
	start := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
	defer cancel()
	probe, err := BuildModule(ctx, env, env.ProbeDir())
	if err != nil {
		t.Fatal(err)
	}
	p := planDifferential(t, env, filepath.Dir(probe), "")
	use := map[string]bool{}
	for _, d := range p.Deployments {
		if slices.Contains(snapshotDeployments, d.Name) {
			for _, st := range d.Steps {
				if st.Livepatch != "" {
					use[st.Livepatch] = true
				}
			}
		}
	}
	kos := buildEmitted(ctx, t, env, p, use)
	kos[ProbeModule] = probe

	var scenarios []Scenario
	var deps []*plan.Deployment
	for _, name := range snapshotDeployments {
		for _, d := range p.Deployments {
			if d.Name != name {
				continue
			}
			sc, _ := deploymentScenario(p, d, kos)
			if len(sc.Steps) != len(d.Steps) {
				t.Fatalf("deployment %s: one guest step per plan step expected", name)
			}
			sc.Snapshots = true
			scenarios = append(scenarios, sc)
			deps = append(deps, d)
		}
	}
	results, err := Run(ctx, env, scenarios...)
	if err != nil {
		t.Fatalf("run: %v", err)
	}
	out := os.Getenv("KLPC_SNAPSHOT_OUT")
	compared := 0
	for i, d := range deps {
		res := results[i]
		if res.Err != "" || len(res.Steps) != len(d.Steps) {
			t.Errorf("deployment %s did not complete: %s", d.Name, res.Err)
			continue
		}
		for k := 1; k < len(d.Steps); k++ {
			snapText := res.Steps[k-1].Snapshot
			snap, err := hostsnap.Parse("guest", []byte(snapText))
			if err != nil {
				t.Errorf("%s after step %d: the guest's snapshot does not parse: %v\n%s", d.Name, k, err, snapText)
				continue
			}
			data, _ := hostsnap.Marshal(snap)
			if out != "" {
				if err := os.WriteFile(filepath.Join(out, fmt.Sprintf("%s-%d.json", d.Name, k)), data, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			p2, d2 := planFromSnapshot(t, env, filepath.Dir(probe), d, k, data)
			if p2 == nil {
				continue
			}
			ch := fromCheck(p2, d2, snap)
			rest := Result{Scenario: res.Scenario, Steps: res.Steps[k:]}
			if diff := ch.compare(rest); diff != "" {
				t.Errorf("%s from the snapshot after step %d: the kernel did not do what the plan predicted:\n%s", d.Name, k, diff)
			}
			compared++
		}
	}
	t.Logf("planned %d deployments from %d guest snapshots and compared with the real kernel in %s", compared, compared, time.Since(start).Round(time.Second))
	if compared == 0 {
		t.Fatal("nothing compared")
	}
}

// planFromSnapshot plans the differential configuration with one more
// deploy block: steps k+1.. of d, from the snapshot.
func planFromSnapshot(t *testing.T, env Env, probeDir string, d *plan.Deployment, k int, snap []byte) (*plan.Plan, *plan.Deployment) {
	t.Helper()
	p := planDifferential(t, env, probeDir, "")
	// planDifferential wrote its copy to a fresh temporary folder; find it
	// again through the kernel block's file.
	dir := ""
	for f := range p.Sources {
		if filepath.Base(f) == "kernel.klp.hcl" {
			dir = filepath.Dir(f)
		}
	}
	if dir == "" {
		t.Fatal("cannot find the planned copy of the configuration")
	}
	if err := os.WriteFile(filepath.Join(dir, "host.json"), snap, 0o644); err != nil {
		t.Fatal(err)
	}
	name := fmt.Sprintf("%s-from-%d", d.Name, k)
	var b strings.Builder
	fmt.Fprintf(&b, "deploy %q {\n  kernel = kernel.deb12-56\n  from   = \"host.json\"\n", name)
	for _, s := range d.Steps[k:] {
		fmt.Fprintf(&b, "  step %q {\n", s.Action)
		if s.Livepatch != "" {
			fmt.Fprintf(&b, "    livepatch = livepatch.%s\n", s.Livepatch)
		}
		if s.Module != "" {
			fmt.Fprintf(&b, "    module = %q\n", s.Module)
		}
		if s.Expect == kabi.ExpectRefused {
			b.WriteString("    expect = \"refused\"\n")
		}
		b.WriteString("  }\n")
	}
	b.WriteString("}\n")
	if err := os.WriteFile(filepath.Join(dir, "from.klp.hcl"), []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, diags := lang.LoadDir(dir)
	p2 := planner.Plan(cfg, diags, planner.Options{Deploy: name})
	if p2.HasErrors() {
		t.Errorf("%s: planning from the snapshot fails:\n%s", name, p2.Diagnostics.String())
		return nil, nil
	}
	for _, d2 := range p2.Deployments {
		if d2.Name == name {
			return p2, d2
		}
	}
	t.Errorf("%s: not in the plan", name)
	return nil, nil
}

// fromCheck is deploymentScenario's check for a deployment that starts
// from a snapshot: the livepatch modules loaded and listed before its first
// step are the snapshot's, not none.
func fromCheck(p *plan.Plan, d *plan.Deployment, snap *hostsnap.Snapshot) dcheck {
	ch := dcheck{name: d.Name}
	var loaded, enabled []string
	for _, m := range snap.Modules {
		if plan.ReleaseOfVersion(m.Version) != "" {
			loaded = append(loaded, m.Name)
		}
	}
	for _, lp := range snap.Livepatches {
		enabled = append(enabled, lp.Name)
	}
	slices.Sort(loaded)
	for _, s := range d.Steps {
		steps := runnerSteps(p, d, s, loaded, enabled)
		for i, st := range steps {
			if i < len(steps)-1 {
				ch.steps = append(ch.steps, expectedStep{what: fmt.Sprintf("step %d, part %d (%s)", s.Index, i+1, st), ok: true, partOnly: true})
				continue
			}
			ch.steps = append(ch.steps, expectedStep{
				what: fmt.Sprintf("step %d (%s)", s.Index, st), ok: s.OK, errno: s.Errno,
				enabled: s.Enabled, functions: moduleImpls(p, s.Functions.Map()),
			})
		}
		loaded, enabled = s.Loaded, s.Enabled
	}
	return ch
}
