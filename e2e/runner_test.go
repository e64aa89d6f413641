package e2e

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestRunReboot checks that a scenario which leaves the kernel dirty ends
// its boot, and that the next scenario runs in a fresh one.
func TestRunReboot(t *testing.T) {
	env := EnvForTest(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	permanent, err := BuildModule(ctx, env, filepath.Join(env.Root, "e2e", "testdata", "permanent"))
	if err != nil {
		t.Fatal(err)
	}
	probe, err := BuildModule(ctx, env, env.ProbeDir())
	if err != nil {
		t.Fatal(err)
	}
	scs := []Scenario{{
		Name:    "dirty",
		Modules: map[string]string{"permanent": permanent},
		Steps:   []Step{{Action: ActionModuleLoad, Module: "permanent"}, {Action: ActionModuleUnload, Module: "permanent"}},
	}, {
		Name:    "after",
		Modules: map[string]string{ProbeModule: probe},
		Steps:   []Step{{Action: ActionModuleLoad, Module: ProbeModule}},
		Observe: []string{"klpc_probe:klpc_probe_delta"},
	}}
	start := time.Now()
	res, err := Run(ctx, env, scs...)
	t.Logf("two boots: %s", time.Since(start).Round(time.Second/10))
	if err != nil {
		t.Fatal(err)
	}
	if r := res[0]; r.Clean || r.Boot != 0 || !r.StartedClean || len(r.Steps) != 2 {
		t.Errorf("dirty: %+v", r)
	} else if st := r.Steps[1]; st.OK || st.Errno != "EBUSY" || !strings.Contains(strings.Join(st.Modules, " "), "permanent") {
		t.Errorf("dirty: unloading a module without exit: OK %v, errno %q (%s), modules %v", st.OK, st.Errno, st.Message, st.Modules)
	}
	if r := res[1]; !r.Clean || r.Boot != 1 || !r.StartedClean || len(r.Steps) != 1 ||
		r.Steps[0].Functions["klpc_probe:klpc_probe_delta"] != Original {
		t.Errorf("after: %+v", r)
	}
}

// TestRunTimeout checks that a guest which runs out of time is stopped and
// reported.
func TestRunTimeout(t *testing.T) {
	env := EnvForTest(t)
	env.BootTimeout = 2 * time.Second
	env.BootRetries = -1
	start := time.Now()
	_, err := Run(context.Background(), env, Scenario{Name: "slow"})
	if err == nil || !strings.Contains(err.Error(), "ran no scenario") || !strings.Contains(err.Error(), "stopped after") {
		t.Fatalf("err = %v", err)
	}
	t.Log(err)
	// The logs of the stopped boot are kept for inspection; this one was meant.
	if _, dir, ok := strings.Cut(err.Error(), "logs kept in "); ok && strings.HasPrefix(dir, filepath.Join(env.Cache, "e2e", "run")) {
		os.RemoveAll(dir)
	}
	if d := time.Since(start); d > 20*time.Second {
		t.Errorf("stopping the guest took %s", d)
	}
}
