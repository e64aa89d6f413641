package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/klpc/klpc/plan"
)

// fixedBuild is the name of the probe's fixed build in the differential
// configuration's kernel block.
const fixedBuild = "fixed"

// buildKey is the key of a module_build's .ko among the built modules.
func buildKey(module, build string) string { return module + "@" + build }

// buildFixedProbe builds the probe module's fixed build: e2e/probe's
// sources with testdata/modbuilds/fixed/klpc_probe_b.c appended to
// klpc_probe.c (a new static function, klpc_probe_b), against the line's
// headers like the probe itself. It returns the .ko.
func buildFixedProbe(ctx context.Context, t *testing.T, env Env) (string, error) {
	dir := t.TempDir()
	probe, err := os.ReadFile(filepath.Join(env.ProbeDir(), "klpc_probe.c"))
	if err != nil {
		return "", err
	}
	extra, err := os.ReadFile(filepath.Join("testdata", "modbuilds", "fixed", "klpc_probe_b.c"))
	if err != nil {
		return "", err
	}
	kbuild, err := os.ReadFile(filepath.Join(env.ProbeDir(), "Kbuild"))
	if err != nil {
		return "", err
	}
	src := append(append(probe, '\n'), extra...)
	if err := os.WriteFile(filepath.Join(dir, "klpc_probe.c"), src, 0o644); err != nil {
		return "", err
	}
	if err := os.WriteFile(filepath.Join(dir, "Kbuild"), kbuild, 0o644); err != nil {
		return "", err
	}
	ko, err := BuildModule(ctx, env, dir)
	if err != nil {
		return "", fmt.Errorf("the probe's fixed build: %w", err)
	}
	return ko, nil
}

// addModuleBuilds copies testdata/modbuilds into the configuration folder
// dir and returns the kernel block's module_build naming the fixed build.
func addModuleBuilds(t *testing.T, dir, fixed string) string {
	t.Helper()
	if err := os.CopyFS(dir, os.DirFS(filepath.Join("testdata", "modbuilds"))); err != nil {
		t.Fatal(err)
	}
	// The fixed build's own source is no part of the configuration.
	if err := os.RemoveAll(filepath.Join(dir, "fixed")); err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("  module_build %q {\n    module = %q\n    path   = %q\n  }\n", fixedBuild, ProbeModule, fixed)
}

// withBuild makes the guest's module_load of a step that names a
// module_build insert that build's .ko (kos[buildKey(module, build)]).
func withBuild(steps []Step, s *plan.Step, kos map[string]string) {
	if s.Build == "" {
		return
	}
	for i := range steps {
		if steps[i].Action == ActionModuleLoad && steps[i].Module == s.Module {
			steps[i].File = kos[buildKey(s.Module, s.Build)]
			if steps[i].File == "" {
				steps[i].File = "(no build " + s.Build + ")"
			}
		}
	}
}

// checkRefusalLogs compares, for the module-builds deployments, the
// livepatch core's log lines the plan predicts for each refused step with
// the kernel's (Observation.Kmsg): every predicted "livepatch: " line must
// be there. Their guest steps are the plan's steps one for one.
func checkRefusalLogs(t *testing.T, p *plan.Plan, results []Result) {
	t.Helper()
	for _, res := range results {
		if !strings.HasPrefix(res.Scenario, "module-builds") {
			continue
		}
		var d *plan.Deployment
		for _, cand := range p.Deployments {
			if cand.Name == res.Scenario {
				d = cand
			}
		}
		if d == nil || len(d.Steps) != len(res.Steps) {
			t.Errorf("scenario %s: the plan's steps and the guest's differ in number", res.Scenario)
			continue
		}
		for i, s := range d.Steps {
			if s.OK {
				continue
			}
			got := res.Steps[i].Kmsg
			for _, line := range s.Log {
				if strings.HasPrefix(line, "livepatch: ") && !slices.Contains(got, line) {
					t.Errorf("scenario %s, step %d: the plan predicts the kernel logs %q; it logged:\n  %s", res.Scenario, i+1, line, strings.Join(got, "\n  "))
				}
			}
			t.Logf("scenario %s, step %d (%s): refused with %s; the kernel logged:\n  %s", res.Scenario, i+1, s.Action, res.Steps[i].Errno, strings.Join(got, "\n  "))
		}
	}
}
