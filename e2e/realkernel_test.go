package e2e

import (
	"context"
	"fmt"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"
)

// testModules are the livepatch modules under testdata/.
var testModules = []string{
	"lp_cmdline_a", "lp_cmdline_b", "lp_version_replace", "lp_meminfo",
	"lp_state_v1", "lp_state_v2", "lp_probe_ag", "lp_probe_all", "lp_probe_rela",
	"lp_dup_func",
}

// buildTestModules builds the probe and the test livepatches, two at a time,
// and returns their .ko paths by module name.
func buildTestModules(ctx context.Context, t *testing.T, env Env) map[string]string {
	t.Helper()
	dirs := map[string]string{ProbeModule: env.ProbeDir()}
	for _, m := range testModules {
		dirs[m] = filepath.Join(env.Root, "e2e", "testdata", m)
	}
	var (
		mu   sync.Mutex
		wg   sync.WaitGroup
		kos  = map[string]string{}
		errs []string
		sem  = make(chan struct{}, 2)
	)
	for name, dir := range dirs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			ko, err := BuildModule(ctx, env, dir)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs = append(errs, err.Error())
				return
			}
			kos[name] = ko
		}()
	}
	wg.Wait()
	if len(errs) > 0 {
		t.Fatalf("building modules:\n%s", strings.Join(errs, "\n"))
	}
	return kos
}

// id is the identity a test livepatch's replacement of fn reports.
func id(module, fn string) string { return module + ":livepatch_" + fn }

// want is the expected outcome of one step.
type want struct {
	ok      bool
	errno   string
	kmsg    string            // a substring of some Kmsg line, if set
	patches []SysfsPatch      // /sys/kernel/livepatch, exactly
	funcs   map[string]string // watched functions, exactly
	modules []string          // loaded modules, exactly; nil skips the check
}

// reloadAfterRelocation is the outcome of loading klpc_probe again while
// lp_probe_rela, which was relocated against its first load, stays loaded.
//
//   - 6.1: klp_cleanup_module_patches_limited leaves the klp relocations in
//     place when the module goes; the second load finds a nonzero value
//     where apply_relocate_add (arch/x86/kernel/module.c) writes, so
//     klp_module_coming fails and the module load with it: ENOEXEC.
//   - 6.12 and 7.x: klp_cleanup_module_patches_limited calls
//     klp_clear_object_relocs (clear_relocate_add) when the module goes: it
//     loads again and is patched again.
func reloadAfterRelocation(line, patched string) want {
	p := []SysfsPatch{lp("lp_probe_rela")}
	if line == "6.1" {
		return want{ok: false, errno: "ENOEXEC", kmsg: "failed to initialize patch 'lp_probe_rela'",
			patches: p, funcs: map[string]string{probeKey("klpc_probe_alpha"): Absent, probeKey("klpc_probe_beta"): Absent},
			modules: []string{"lp_probe_rela"}}
	}
	return want{ok: true, kmsg: "applying patch 'lp_probe_rela' to loading module 'klpc_probe'", patches: p,
		funcs:   map[string]string{probeKey("klpc_probe_alpha"): patched, probeKey("klpc_probe_beta"): Original},
		modules: []string{"klpc_probe", "lp_probe_rela"}}
}

// initEEXIST is how insmod reports a module init function's -EEXIST: as it
// is on 6.1 and 6.12; as EBUSY on 7.x, whose do_init_module
// (kernel/module/main.c) keeps EEXIST for "a module of that name is loaded".
func initEEXIST(line string) string {
	if line == "6.1" || line == "6.12" {
		return "EEXIST"
	}
	return "EBUSY"
}

// probeKey is the key of a watched function of the probe module.
func probeKey(fn string) string { return ProbeModule + ":" + fn }

// replaces lists the test livepatches built with .replace = true.
var replaces = map[string]bool{
	"lp_probe_all": true, "lp_state_v1": true, "lp_state_v2": true, "lp_version_replace": true,
}

// wantSysfs returns the livepatch attributes that only some kernel lines
// have, as the guest records them, for the patches listed in sysfs:
//
//   - replace (6.12 and 7.x; replace_show, kernel/livepatch/core.c): the
//     patch's .replace flag, 0 or 1; 6.1 has no such file.
//   - stack_order (7.x; stack_order_show, kernel/livepatch/core.c): the
//     patch's 1-based position in klp_patches, the order patches were
//     enabled in, renumbered when one leaves. The scenarios enable patches in
//     the order of their names, so the position in the sorted list is the
//     stack order.
func wantSysfs(line string, patches []SysfsPatch) map[string]string {
	if line == "6.1" || len(patches) == 0 {
		return nil
	}
	m := map[string]string{}
	for i, p := range patches {
		r := "0"
		if replaces[p.Name] {
			r = "1"
		}
		m[p.Name+"/replace"] = r
		if line != "6.12" {
			m[p.Name+"/stack_order"] = fmt.Sprint(i + 1)
		}
	}
	return m
}

func lp(name string) SysfsPatch { return SysfsPatch{Name: name, Enabled: true} }

// check compares an observation with what is expected of it.
func check(t *testing.T, line, scenario string, i int, ob Observation, w want) {
	t.Helper()
	where := fmt.Sprintf("%s, step %d (%s)", scenario, i+1, ob.Step)
	if ob.OK != w.ok {
		t.Errorf("%s: OK = %v, want %v (exit %d, message %q, kmsg %q)", where, ob.OK, w.ok, ob.ExitStatus, ob.Message, ob.Kmsg)
	}
	if ob.Errno != w.errno {
		t.Errorf("%s: Errno = %q, want %q (message %q)", where, ob.Errno, w.errno, ob.Message)
	}
	if ob.TransitionTimeout {
		t.Errorf("%s: transition did not finish", where)
	}
	if w.kmsg != "" && !strings.Contains(strings.Join(ob.Kmsg, "\n"), w.kmsg) {
		t.Errorf("%s: no kernel message with %q in %q", where, w.kmsg, ob.Kmsg)
	}
	if len(ob.Livepatches) != 0 || len(w.patches) != 0 {
		if !reflect.DeepEqual(ob.Livepatches, w.patches) {
			t.Errorf("%s: livepatches = %+v, want %+v", where, ob.Livepatches, w.patches)
		}
	}
	if !reflect.DeepEqual(ob.Functions, w.funcs) {
		t.Errorf("%s: functions = %v, want %v", where, ob.Functions, w.funcs)
	}
	if w.modules != nil && !reflect.DeepEqual(ob.Modules, w.modules) {
		t.Errorf("%s: modules = %v, want %v", where, ob.Modules, w.modules)
	}
	if ws := wantSysfs(line, w.patches); !reflect.DeepEqual(ob.Sysfs, ws) {
		t.Errorf("%s: sysfs attributes on %s = %v, want %v", where, line, ob.Sysfs, ws)
	}
}

// TestRealKernel boots the real kernel of every kernel line that is ready
// (LinesForTest), once per line, and checks what its livepatch core does in
// the situations the planner models, and the sysfs attributes that differ
// between lines.
func TestRealKernel(t *testing.T) {
	for _, env := range LinesForTest(t) {
		name := env.Line
		if name == "" {
			name = env.KernelRelease
		}
		t.Run(name, func(t *testing.T) { realKernelSuite(t, env) })
	}
}

// realKernelSuite runs TestRealKernel's scenarios on one kernel, in one boot.
func realKernelSuite(t *testing.T, env Env) {
	env.Log = t.Logf
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	start := time.Now()
	kos := buildTestModules(ctx, t, env)
	t.Logf("%s: modules built in %s", env.KernelRelease, time.Since(start).Round(time.Second/10))
	mods := func(names ...string) map[string]string {
		m := map[string]string{}
		for _, n := range names {
			m[n] = kos[n]
		}
		return m
	}
	const (
		cmdline = ObserveCmdline
		version = ObserveVersion
		meminfo = ObserveMeminfo
	)
	probe := func(fn string) string { return ProbeModule + ":" + fn }
	alpha, beta, gamma, delta := probe("klpc_probe_alpha"), probe("klpc_probe_beta"), probe("klpc_probe_gamma"), probe("klpc_probe_delta")
	load := func(m string) Step { return Step{Action: ActionLoad, Module: m} }
	disable := func(m string) Step { return Step{Action: ActionDisable, Module: m} }
	unload := func(m string) Step { return Step{Action: ActionUnload, Module: m} }
	modLoad := func(m string) Step { return Step{Action: ActionModuleLoad, Module: m} }
	modUnload := func(m string) Step { return Step{Action: ActionModuleUnload, Module: m} }
	orig := Original

	type test struct {
		sc    Scenario
		setup map[string]string
		steps []want
	}
	tests := []test{{
		sc: Scenario{
			Name:    "basic",
			Modules: mods("lp_cmdline_a"),
			Steps:   []Step{load("lp_cmdline_a"), unload("lp_cmdline_a"), disable("lp_cmdline_a"), unload("lp_cmdline_a")},
			Observe: []string{cmdline, version},
		},
		setup: map[string]string{cmdline: orig, version: orig},
		steps: []want{
			{ok: true, kmsg: "enabling patch 'lp_cmdline_a'", patches: []SysfsPatch{lp("lp_cmdline_a")},
				funcs: map[string]string{cmdline: id("lp_cmdline_a", "cmdline_proc_show"), version: orig}, modules: []string{"lp_cmdline_a"}},
			// An enabled patch holds its module.
			{ok: false, errno: "EAGAIN", patches: []SysfsPatch{lp("lp_cmdline_a")},
				funcs: map[string]string{cmdline: id("lp_cmdline_a", "cmdline_proc_show"), version: orig}, modules: []string{"lp_cmdline_a"}},
			{ok: true, kmsg: "'lp_cmdline_a': unpatching complete",
				funcs: map[string]string{cmdline: orig, version: orig}, modules: []string{"lp_cmdline_a"}},
			{ok: true, funcs: map[string]string{cmdline: orig, version: orig}, modules: []string{}},
		},
	}, {
		sc: Scenario{
			Name:    "stack",
			Modules: mods("lp_cmdline_a", "lp_cmdline_b"),
			Steps:   []Step{load("lp_cmdline_a"), load("lp_cmdline_b"), disable("lp_cmdline_b"), disable("lp_cmdline_a")},
			Observe: []string{cmdline},
		},
		setup: map[string]string{cmdline: orig},
		steps: []want{
			{ok: true, patches: []SysfsPatch{lp("lp_cmdline_a")}, funcs: map[string]string{cmdline: id("lp_cmdline_a", "cmdline_proc_show")}},
			{ok: true, patches: []SysfsPatch{lp("lp_cmdline_a"), lp("lp_cmdline_b")}, funcs: map[string]string{cmdline: id("lp_cmdline_b", "cmdline_proc_show")}},
			{ok: true, patches: []SysfsPatch{lp("lp_cmdline_a")}, funcs: map[string]string{cmdline: id("lp_cmdline_a", "cmdline_proc_show")}},
			{ok: true, funcs: map[string]string{cmdline: orig}, modules: []string{"lp_cmdline_a", "lp_cmdline_b"}},
		},
	}, {
		// Disabling a patch that is not the last one enabled is allowed
		// (the stacking order was dropped in 5.1); on 7.x the remaining
		// patch's stack_order becomes 1.
		sc: Scenario{
			Name:    "stack-order",
			Modules: mods("lp_cmdline_a", "lp_cmdline_b"),
			Steps:   []Step{load("lp_cmdline_a"), load("lp_cmdline_b"), disable("lp_cmdline_a")},
			Observe: []string{cmdline},
		},
		setup: map[string]string{cmdline: orig},
		steps: []want{
			{ok: true, patches: []SysfsPatch{lp("lp_cmdline_a")}, funcs: map[string]string{cmdline: id("lp_cmdline_a", "cmdline_proc_show")}},
			{ok: true, patches: []SysfsPatch{lp("lp_cmdline_a"), lp("lp_cmdline_b")}, funcs: map[string]string{cmdline: id("lp_cmdline_b", "cmdline_proc_show")}},
			{ok: true, patches: []SysfsPatch{lp("lp_cmdline_b")}, funcs: map[string]string{cmdline: id("lp_cmdline_b", "cmdline_proc_show")},
				modules: []string{"lp_cmdline_a", "lp_cmdline_b"}},
		},
	}, {
		sc: Scenario{
			Name:    "replace",
			Modules: mods("lp_cmdline_a", "lp_meminfo", "lp_version_replace"),
			Steps:   []Step{load("lp_cmdline_a"), load("lp_meminfo"), load("lp_version_replace"), unload("lp_cmdline_a"), disable("lp_version_replace")},
			Observe: []string{cmdline, version, meminfo},
		},
		setup: map[string]string{cmdline: orig, version: orig, meminfo: orig},
		steps: []want{
			{ok: true, patches: []SysfsPatch{lp("lp_cmdline_a")},
				funcs: map[string]string{cmdline: id("lp_cmdline_a", "cmdline_proc_show"), version: orig, meminfo: orig}},
			{ok: true, patches: []SysfsPatch{lp("lp_cmdline_a"), lp("lp_meminfo")},
				funcs: map[string]string{cmdline: id("lp_cmdline_a", "cmdline_proc_show"), version: orig, meminfo: id("lp_meminfo", "meminfo_proc_show")}},
			// The replace patch takes over: the others' functions return to
			// the original and their patches leave sysfs, their modules stay.
			{ok: true, patches: []SysfsPatch{lp("lp_version_replace")},
				funcs:   map[string]string{cmdline: orig, version: id("lp_version_replace", "version_proc_show"), meminfo: orig},
				modules: []string{"lp_cmdline_a", "lp_meminfo", "lp_version_replace"}},
			// A replaced patch's module no longer is held.
			{ok: true, patches: []SysfsPatch{lp("lp_version_replace")},
				funcs:   map[string]string{cmdline: orig, version: id("lp_version_replace", "version_proc_show"), meminfo: orig},
				modules: []string{"lp_meminfo", "lp_version_replace"}},
			{ok: true, funcs: map[string]string{cmdline: orig, version: orig, meminfo: orig}},
		},
	}, {
		sc: Scenario{
			Name:    "state-version",
			Modules: mods("lp_state_v1", "lp_state_v2"),
			Steps:   []Step{load("lp_state_v2"), load("lp_state_v1")},
			Observe: []string{cmdline},
		},
		setup: map[string]string{cmdline: orig},
		steps: []want{
			{ok: true, patches: []SysfsPatch{lp("lp_state_v2")}, funcs: map[string]string{cmdline: id("lp_state_v2", "cmdline_proc_show")}},
			{ok: false, errno: "EINVAL", kmsg: "is not compatible with the already installed livepatches",
				patches: []SysfsPatch{lp("lp_state_v2")}, funcs: map[string]string{cmdline: id("lp_state_v2", "cmdline_proc_show")},
				modules: []string{"lp_state_v2"}},
		},
	}, {
		// Two klp_funcs with one sysfs name: klp_init_func's kobject_add
		// fails with -EEXIST, and the module with it.
		sc: Scenario{
			Name:    "dup-func",
			Modules: mods("lp_dup_func"),
			Steps:   []Step{load("lp_dup_func")},
			Observe: []string{cmdline},
		},
		setup: map[string]string{cmdline: orig},
		steps: []want{
			{ok: false, errno: initEEXIST(env.Line), funcs: map[string]string{cmdline: orig}, modules: []string{}},
		},
	}, {
		sc: Scenario{
			Name:    "late-module",
			Modules: mods("lp_probe_ag", ProbeModule),
			Steps:   []Step{load("lp_probe_ag"), modLoad(ProbeModule), modUnload(ProbeModule), modLoad(ProbeModule)},
			Observe: []string{alpha, beta, gamma, delta},
		},
		setup: map[string]string{alpha: Absent, beta: Absent, gamma: Absent, delta: Absent},
		steps: []want{
			{ok: true, patches: []SysfsPatch{lp("lp_probe_ag")}, funcs: map[string]string{alpha: Absent, beta: Absent, gamma: Absent, delta: Absent}},
			{ok: true, kmsg: "applying patch 'lp_probe_ag' to loading module 'klpc_probe'", patches: []SysfsPatch{lp("lp_probe_ag")},
				funcs: map[string]string{alpha: id("lp_probe_ag", "klpc_probe_alpha"), beta: orig, gamma: id("lp_probe_ag", "klpc_probe_gamma"), delta: orig}},
			{ok: true, kmsg: "reverting patch 'lp_probe_ag' on unloading module 'klpc_probe'", patches: []SysfsPatch{lp("lp_probe_ag")},
				funcs: map[string]string{alpha: Absent, beta: Absent, gamma: Absent, delta: Absent}},
			{ok: true, patches: []SysfsPatch{lp("lp_probe_ag")},
				funcs: map[string]string{alpha: id("lp_probe_ag", "klpc_probe_alpha"), beta: orig, gamma: id("lp_probe_ag", "klpc_probe_gamma"), delta: orig}},
		},
	}, {
		// A module that a loaded livepatch has relocated against goes and
		// comes back (klp_cleanup_module_patches_limited, core.c).
		sc: Scenario{
			Name:    "reloc-reload",
			Modules: mods("lp_probe_rela", ProbeModule),
			Steps:   []Step{load("lp_probe_rela"), modLoad(ProbeModule), modUnload(ProbeModule), modLoad(ProbeModule)},
			Observe: []string{alpha, beta},
		},
		setup: map[string]string{alpha: Absent, beta: Absent},
		steps: []want{
			{ok: true, patches: []SysfsPatch{lp("lp_probe_rela")}, funcs: map[string]string{alpha: Absent, beta: Absent}},
			{ok: true, kmsg: "applying patch 'lp_probe_rela' to loading module 'klpc_probe'", patches: []SysfsPatch{lp("lp_probe_rela")},
				funcs: map[string]string{alpha: id("lp_probe_rela", "klpc_probe_alpha"), beta: orig}},
			{ok: true, patches: []SysfsPatch{lp("lp_probe_rela")}, funcs: map[string]string{alpha: Absent, beta: Absent}},
			reloadAfterRelocation(env.Line, id("lp_probe_rela", "klpc_probe_alpha")),
		},
	}, {
		sc: Scenario{
			Name:    "probe-replace",
			Modules: mods(ProbeModule, "lp_probe_ag", "lp_probe_all"),
			Preload: []string{ProbeModule},
			Steps:   []Step{load("lp_probe_ag"), load("lp_probe_all"), disable("lp_probe_all")},
			Observe: []string{alpha, beta, gamma, delta},
		},
		setup: map[string]string{alpha: orig, beta: orig, gamma: orig, delta: orig},
		steps: []want{
			{ok: true, patches: []SysfsPatch{lp("lp_probe_ag")},
				funcs: map[string]string{alpha: id("lp_probe_ag", "klpc_probe_alpha"), beta: orig, gamma: id("lp_probe_ag", "klpc_probe_gamma"), delta: orig}},
			{ok: true, patches: []SysfsPatch{lp("lp_probe_all")},
				funcs: map[string]string{alpha: id("lp_probe_all", "klpc_probe_alpha"), beta: id("lp_probe_all", "klpc_probe_beta"),
					gamma: id("lp_probe_all", "klpc_probe_gamma"), delta: id("lp_probe_all", "klpc_probe_delta")}},
			{ok: true, funcs: map[string]string{alpha: orig, beta: orig, gamma: orig, delta: orig},
				modules: []string{"klpc_probe", "lp_probe_ag", "lp_probe_all"}},
		},
	}}

	scenarios := make([]Scenario, len(tests))
	steps := 0
	for i, tc := range tests {
		scenarios[i] = tc.sc
		steps += len(tc.sc.Steps)
	}
	start = time.Now()
	results, err := Run(ctx, env, scenarios...)
	t.Logf("%s: %d scenarios, %d steps: %s", env.KernelRelease, len(scenarios), steps, time.Since(start).Round(time.Second/10))
	if err != nil {
		t.Fatal(err)
	}
	for i, tc := range tests {
		r := results[i]
		if r.Scenario != tc.sc.Name || !r.StartedClean || !r.Clean || r.Err != "" || r.Boot != 0 {
			t.Errorf("%s: result %q: started clean %v, clean %v, boot %d, err %q", tc.sc.Name, r.Scenario, r.StartedClean, r.Clean, r.Boot, r.Err)
		}
		if !r.Setup.OK || !reflect.DeepEqual(r.Setup.Functions, tc.setup) {
			t.Errorf("%s: setup: ok %v (%q), functions %v, want %v", tc.sc.Name, r.Setup.OK, r.Setup.Message, r.Setup.Functions, tc.setup)
		}
		if len(r.Steps) != len(tc.steps) {
			t.Errorf("%s: %d observations, want %d", tc.sc.Name, len(r.Steps), len(tc.steps))
			continue
		}
		for j, w := range tc.steps {
			check(t, env.Line, tc.sc.Name, j, r.Steps[j], w)
		}
	}
}
