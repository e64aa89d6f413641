package e2e

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/klpc/klpc/kabi"
)

// TestProbeTasks checks the guest's task, transition and callback steps on
// the real kernels with a hand-written livepatch of the probe's
// klpc_probe_sleep and klpc_probe_init_fn (testdata/lp_probe_sleep): a task
// asleep in the function keeps the enabling transition pending
// (klp_try_complete_transition, kernel/livepatch/transition.c), a second
// patch is refused with EBUSY meanwhile (__klp_enable_patch), writing
// enabled reverses it (enabled_store, klp_reverse_transition), force
// completes it (klp_force_transition), pre_patch's error refuses the load
// and the module load (klp_pre_patch_callback, klp_module_coming), and a
// patch of an __init function applies while the module loads.
func TestProbeTasks(t *testing.T) {
	for _, env := range LinesForTest(t) {
		t.Run(env.Line, func(t *testing.T) { probeTasksSuite(t, env) })
	}
}

func probeTasksSuite(t *testing.T, env Env) {
	env.Log = t.Logf
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	kos := map[string]string{}
	for name, dir := range map[string]string{
		ProbeModule:      env.ProbeDir(),
		"lp_probe_sleep": filepath.Join(env.Root, "e2e", "testdata", "lp_probe_sleep"),
		"lp_probe_all":   filepath.Join(env.Root, "e2e", "testdata", "lp_probe_all"),
		"lp_probe_init":  filepath.Join(env.Root, "e2e", "testdata", "lp_probe_init"),
	} {
		ko, err := BuildModule(ctx, env, dir)
		if err != nil {
			t.Fatal(err)
		}
		kos[name] = ko
	}
	const lp, all, lpInit = "lp_probe_sleep", "lp_probe_all", "lp_probe_init"
	sleepFn, initFn := ProbeModule+":klpc_probe_sleep", ProbeModule+":klpc_probe_init_fn"
	observe := []string{sleepFn, initFn}
	block := func(task string) Step { return Step{Action: ActionBlock, Task: task, Function: ProbeSleep} }
	release := func(task string) Step { return Step{Action: ActionRelease, Task: task} }
	on := func(a string, m string) Step { return Step{Action: kabi.Action(a), Module: m} }
	cb := func(what string) string { return lp + ": " + what }

	// expect is what a step must show; zero fields are not checked.
	type expect struct {
		ok         bool
		errno      string
		transition string   // Observation.Transition().String()
		callbacks  []string // exactly, when non-nil
		funcs      map[string]string
	}
	type test struct {
		sc    Scenario
		steps []expect
	}
	replaced := lp + ":livepatch_klpc_probe_sleep"
	pending := lp + " to patched, stuck: [t1]"
	tests := []test{{
		sc: Scenario{Name: "pending", Preload: []string{ProbeModule}, Steps: []Step{
			block("t1"), on("load", lp), on("load", all), on("enable", lp), on("disable", lp), release("t1"),
		}},
		steps: []expect{
			{ok: true, transition: "none", funcs: map[string]string{sleepFn: Original, initFn: Original}},
			{ok: true, transition: pending, callbacks: []string{cb("pre_patch klpc_probe (MODULE_STATE_LIVE)")},
				funcs: map[string]string{sleepFn: replaced}},
			{errno: "EBUSY", transition: pending},
			{errno: "EINVAL", transition: pending},
			// Reversed: t1 never left the original, so the transition
			// back to it completes at once.
			{ok: true, transition: "none", funcs: map[string]string{sleepFn: Original}},
			{ok: true, transition: "none"},
		},
	}, {
		sc: Scenario{Name: "release", Preload: []string{ProbeModule}, Steps: []Step{
			block("t1"), on("load", lp), release("t1"), block("t2"), on("disable", lp), on("enable", lp), release("t2"),
		}},
		steps: []expect{
			{ok: true},
			{ok: true, transition: pending},
			{ok: true, transition: "none", callbacks: []string{cb("post_patch klpc_probe (MODULE_STATE_LIVE)")}},
			{ok: true, transition: "none"},
			{ok: true, transition: lp + " to unpatched, stuck: [t2]", callbacks: []string{cb("pre_unpatch klpc_probe (MODULE_STATE_LIVE)")}},
			{ok: true, transition: "none", funcs: map[string]string{sleepFn: replaced}},
			{ok: true, transition: "none"},
		},
	}, {
		sc: Scenario{Name: "pre-patch-ret", Preload: []string{ProbeModule}, Steps: []Step{
			{Action: ActionLoad, Module: lp, Params: "pre_patch_ret=-19"}, on("load", lp),
			{Action: ActionParam, Module: lp, Param: "pre_patch_ret", Value: "-19"},
			on("module_unload", ProbeModule), on("module_load", ProbeModule),
			{Action: ActionParam, Module: lp, Param: "pre_patch_ret", Value: "0"}, on("module_load", ProbeModule),
		}},
		steps: []expect{
			{errno: "ENODEV", callbacks: []string{cb("pre_patch klpc_probe (MODULE_STATE_LIVE)")}},
			{ok: true, callbacks: []string{cb("pre_patch klpc_probe (MODULE_STATE_LIVE)"), cb("post_patch klpc_probe (MODULE_STATE_LIVE)")}},
			{ok: true},
			{ok: true, callbacks: []string{cb("pre_unpatch klpc_probe (MODULE_STATE_GOING)"), cb("post_unpatch klpc_probe (MODULE_STATE_GOING)")}},
			{errno: "ENODEV", callbacks: []string{cb("pre_patch klpc_probe (MODULE_STATE_COMING)")}},
			{ok: true},
			{ok: true, callbacks: []string{cb("pre_patch klpc_probe (MODULE_STATE_COMING)"), cb("post_patch klpc_probe (MODULE_STATE_COMING)")},
				funcs: map[string]string{sleepFn: replaced}},
		},
	}, {
		// The kernel cannot be trusted after this one: isolated.
		sc: Scenario{Name: "init", Isolate: true, Steps: []Step{
			on("load", lpInit), on("module_load", ProbeModule), on("load", all),
			on("disable", lpInit), on("unload", lpInit), on("load", lpInit),
		}},
		steps: []expect{
			{ok: true, funcs: map[string]string{initFn: Absent}},
			{ok: true, funcs: map[string]string{initFn: lpInit + ":livepatch_klpc_probe_init_fn", sleepFn: Original}},
			// The replace's nop for the __init function finds no symbol.
			{errno: "EINVAL"},
			{ok: true},
			{ok: true},
			// Neither does a patch of it once the module is live.
			{errno: "EINVAL"},
		},
	}, {
		// Last: a forced patch keeps its module for good, so the cleanup
		// fails and the guest stops.
		sc: Scenario{Name: "force", Preload: []string{ProbeModule}, Steps: []Step{
			block("t1"), on("load", lp), on("force", lp), release("t1"),
		}},
		steps: []expect{
			{ok: true},
			{ok: true, transition: pending},
			{ok: true, transition: "none", callbacks: []string{cb("post_patch klpc_probe (MODULE_STATE_LIVE)")}, funcs: map[string]string{sleepFn: replaced}},
			{ok: true, transition: "none"},
		},
	}}
	var scs []Scenario
	for _, tc := range tests {
		sc := tc.sc
		sc.Modules = kos
		sc.Observe = observe
		sc.Isolate = tc.sc.Isolate
		scs = append(scs, sc)
	}
	start := time.Now()
	results, err := Run(ctx, env, scs...)
	t.Logf("%d scenarios in %s", len(scs), time.Since(start).Round(time.Second))
	if err != nil {
		t.Errorf("run: %v", err)
	}
	for i, tc := range tests {
		if i >= len(results) {
			break
		}
		res := results[i]
		for j, want := range tc.steps {
			if j >= len(res.Steps) {
				t.Errorf("%s: step %d not performed", tc.sc.Name, j+1)
				break
			}
			got := res.Steps[j]
			what := fmt.Sprintf("%s: step %d (%s)", tc.sc.Name, j+1, got.Step)
			t.Logf("%s: ok=%v %s %s; transition %s; callbacks %q; tasks %+v; functions %v", what, got.OK, got.Errno, got.Message,
				got.Transition(), got.Callbacks, got.Tasks, got.Functions)
			if want.funcs == nil && want.callbacks == nil && want.errno == "" && !want.ok && want.transition == "" {
				continue
			}
			if got.OK != want.ok || got.Errno != want.errno {
				t.Errorf("%s: ok=%v %s, want ok=%v %s", what, got.OK, got.Errno, want.ok, want.errno)
			}
			if want.transition != "" && got.Transition().String() != want.transition {
				t.Errorf("%s: transition %s, want %s", what, got.Transition(), want.transition)
			}
			if want.callbacks != nil && !slices.Equal(got.Callbacks, want.callbacks) && !(len(got.Callbacks) == 0 && len(want.callbacks) == 0) {
				t.Errorf("%s: callbacks %q, want %q", what, got.Callbacks, want.callbacks)
			}
			for k, v := range want.funcs {
				if got.Functions[k] != v {
					t.Errorf("%s: %s runs %s, want %s", what, k, got.Functions[k], v)
				}
			}
			if strings.Contains(got.Message, "EUNKNOWN") {
				t.Errorf("%s: %s", what, got.Message)
			}
		}
	}
}
