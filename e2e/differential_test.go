package e2e

import (
	"context"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/klpc/klpc/diag"
	"github.com/klpc/klpc/emit"
	"github.com/klpc/klpc/kabi"
	"github.com/klpc/klpc/lang"
	"github.com/klpc/klpc/plan"
	"github.com/klpc/klpc/plan/klp"
	"github.com/klpc/klpc/plan/planner"
)

// TestDifferential plans the deployments of testdata/differential for the
// real kernel of every kernel line that is ready (LinesForTest), emits
// their livepatch modules, builds them against that line's headers (7.x
// in its build chroot), performs the deployments on the real kernel, in
// one boot per line, and checks that each step went as the plan
// predicted: accepted or refused (with the same errno), the patches
// /sys/kernel/livepatch lists with the attributes of the line (replace
// on 6.12 and later, stack_order on 7.x), and the implementation every
// function runs.
//
// The deployments whose outcome differs between lines (everyLine) run on
// every line; each of the others runs on one line, in turn, unless
// KLPC_E2E_ALL_LINES=1 asks for every deployment on every line.
func TestDifferential(t *testing.T) {
	envs := LinesForTest(t)
	for i, env := range envs {
		t.Run(lineName(env), func(t *testing.T) {
			differentialLine(t, env, linePick{index: i, lines: len(envs), all: os.Getenv("KLPC_E2E_ALL_LINES") == "1"})
		})
	}
}

// everyLine names the deployments of testdata/differential that run on
// every line, because the kernel lines disagree on them or on the sysfs
// attributes they show:
//   - module-symbols: a module whose klp relocations a loaded livepatch
//     wrote is reloaded; 6.1 refuses it with ENOEXEC, 6.12 and 7.x clear
//     the relocations when it goes and patch it again
//     (klp_cleanup_module_patches_limited).
//   - disable-order: three stacked patches, one disabled in the middle;
//     7.x renumbers stack_order (stack_order_show).
//   - atomic-replace: non-replace patches replaced by a replace patch;
//     the replace attribute (replace_show, 6.12 and 7.x) tells them apart.
//   - module-builds, module-builds-order: a release made for another
//     build of the probe module (modbuilds_test.go), checked on each line.
var everyLine = map[string]bool{"module-symbols": true, "disable-order": true, "atomic-replace": true,
	"module-builds": true, "module-builds-order": true}

// linePick chooses the scenarios of one line: index is the line's
// position among the lines tested, lines their number.
type linePick struct {
	index, lines int
	all          bool
}

// runs reports whether the scenario called name, the n-th (from 0) of
// those not in everyLine, runs on the line.
func (lp linePick) runs(name string, n int) bool {
	return lp.all || everyLine[name] || lp.lines <= 1 || n%lp.lines == lp.index
}

func lineName(env Env) string {
	if env.Line != "" {
		return env.Line
	}
	return env.KernelRelease
}

// differentialLine runs TestDifferential on the kernel of one line.
func differentialLine(t *testing.T, env Env, pick linePick) {
	env.Log = t.Logf
	start := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
	defer cancel()

	probe, err := BuildModule(ctx, env, env.ProbeDir())
	if err != nil {
		t.Fatal(err)
	}
	fixed, err := buildFixedProbe(ctx, t, env)
	if err != nil {
		t.Fatal(err)
	}
	p := planDifferential(t, env, filepath.Dir(probe), "", fixed)
	t.Logf("%s: modelled by the livepatch core of Linux %s", env.KernelRelease, p.Kernels[0].Line.Name)

	// Each scenario is made once the modules it loads are built.
	type pending struct {
		name string
		make func(kos map[string]string) (Scenario, dcheck)
	}
	var todo []pending
	releases := map[string]bool{}
	n := 0
	add := func(name string, uses []string, make func(kos map[string]string) (Scenario, dcheck)) {
		if !everyLine[name] {
			n++
			if !pick.runs(name, n-1) {
				return
			}
		}
		for _, u := range uses {
			releases[u] = true
		}
		todo = append(todo, pending{name, make})
	}
	for _, d := range p.Deployments {
		var uses []string
		for _, s := range d.Steps {
			if s.Livepatch != "" {
				uses = append(uses, s.Livepatch)
			}
		}
		add(d.Name, uses, func(kos map[string]string) (Scenario, dcheck) { return deploymentScenario(p, d, kos) })
	}
	for _, lp := range p.Livepatches {
		for _, u := range lp.Upgrades {
			add(upgradeName(lp, u), []string{u.From, lp.Name},
				func(kos map[string]string) (Scenario, dcheck) { return upgradeScenario(p, lp, u, kos) })
		}
	}
	kos := buildEmitted(ctx, t, env, p, releases)
	kos[ProbeModule] = probe
	kos[buildKey(ProbeModule, fixedBuild)] = fixed
	built := time.Since(start)

	var scenarios []Scenario
	var checks []dcheck
	var names []string
	for _, it := range todo {
		sc, ch := it.make(kos)
		scenarios = append(scenarios, sc)
		checks = append(checks, ch)
		names = append(names, it.name)
	}
	runStart := time.Now()
	results, err := Run(ctx, env, scenarios...)
	if err != nil {
		t.Errorf("run: %v", err)
	}
	steps := 0
	for i, ch := range checks {
		if i >= len(results) {
			t.Errorf("scenario %s: no result", ch.name)
			continue
		}
		if diff := ch.compare(results[i]); diff != "" {
			t.Errorf("%s, scenario %s: the kernel did not do what the plan predicted:\n%s", env.KernelRelease, ch.name, diff)
		}
		steps += len(ch.steps)
	}
	t.Logf("%s: compared %d scenarios (%s), %d steps, with the real kernel: built in %s, ran in %s, %s in all",
		env.KernelRelease, len(checks), strings.Join(names, " "), steps, built.Round(time.Second),
		time.Since(runStart).Round(time.Second), time.Since(start).Round(time.Second))
	if len(results) < len(checks) {
		return
	}
	checkRefusalLogs(t, p, results)

	// A wrong prediction must fail, readably: the same deployments planned
	// with the model of every other line must disagree with what this
	// kernel did, on the steps where the lines differ.
	for _, other := range klp.Lines() {
		if other.String() == p.Kernels[0].Line.Name {
			continue
		}
		wp := planDifferential(t, env, filepath.Dir(probe), other.String(), fixed)
		var diffs []string
		for i, ch := range checks {
			wrong := rebuildCheck(wp, ch.name)
			if wrong == nil {
				t.Errorf("planned with the %s model, scenario %s is missing", other, ch.name)
				continue
			}
			if diff := wrong.compare(results[i]); diff != "" {
				diffs = append(diffs, "scenario "+ch.name+":\n"+diff)
			}
		}
		report := strings.Join(diffs, "")
		if report == "" || !strings.Contains(report, "plan:") || !strings.Contains(report, "kernel:") {
			t.Errorf("the %s model's predictions for %s were not reported as wrong: %q", other, env.KernelRelease, report)
			continue
		}
		t.Logf("planned with the %s model instead, %d scenarios disagree with %s; the first:\n%s", other, len(diffs), env.KernelRelease, tail(diffs[0], 6))
	}
}

// rebuildCheck returns the predictions of the scenario called name in p.
func rebuildCheck(p *plan.Plan, name string) *dcheck {
	for _, d := range p.Deployments {
		if d.Name == name {
			_, ch := deploymentScenario(p, d, map[string]string{})
			return &ch
		}
	}
	for _, lp := range p.Livepatches {
		for _, u := range lp.Upgrades {
			if upgradeName(lp, u) == name {
				_, ch := upgradeScenario(p, lp, u, map[string]string{})
				return &ch
			}
		}
	}
	return nil
}

// planDifferential plans a copy of testdata/differential with a kernel
// block naming the real kernel's release, its fixtures under kernels/,
// its headers and the probe module just built. line, when set, overrides
// the modelled line (the kernel block's line attribute).
//
// The deploy blocks' expect attributes say what the kernel they were
// written for does; on another line the kernel may disagree (module-symbols'
// reload is refused on 6.1 only, and its last step then finds the module
// loaded), so the expectation errors are turned into warnings here: the
// comparison with the real kernel is what checks each prediction, and
// emit, which refuses a plan with errors, builds the releases.
//
// fixed, when given, is the probe's fixed build (buildFixedProbe): the
// kernel block names it as module_build "fixed" and the module-builds
// deployments of testdata/modbuilds join the copy.
func planDifferential(t *testing.T, env Env, probeDir, line string, fixed ...string) *plan.Plan {
	t.Helper()
	dir := t.TempDir()
	src := filepath.Join("testdata", "differential")
	if err := os.CopyFS(dir, os.DirFS(src)); err != nil {
		t.Fatal(err)
	}
	fixtures := filepath.Join(env.Root, "kernels", env.KernelRelease)
	if !isFile(filepath.Join(fixtures, "kallsyms.gz")) {
		t.Fatalf("no symbol fixtures for %s in %s (scripts/make-fixtures.sh makes them)", env.KernelRelease, fixtures)
	}
	// The kernel keeps the name the deploy blocks use, whatever its line.
	kernel := fmt.Sprintf(`kernel "deb12-56" {
  release  = %q
  kallsyms = %q
  ftrace   = %q
  symvers  = %q
  modules  = %q
  headers  = %q
`, env.KernelRelease, filepath.Join(fixtures, "kallsyms.gz"), filepath.Join(fixtures, "available_filter_functions.gz"),
		filepath.Join(fixtures, "Module.symvers.gz"), probeDir, env.HostHeaders())
	if line != "" {
		kernel += fmt.Sprintf("  line     = %q\n", line)
	}
	if len(fixed) > 0 && fixed[0] != "" {
		kernel += addModuleBuilds(t, dir, fixed[0])
	}
	kernel += "}\n"
	if err := os.WriteFile(filepath.Join(dir, "kernel.klp.hcl"), []byte(kernel), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, diags := lang.LoadDir(dir)
	p := planner.Plan(cfg, diags, planner.Options{})
	var errs diag.Diagnostics
	for _, d := range p.Diagnostics {
		if d.Severity != diag.Error {
			continue
		}
		if d.Code == diag.StepRefused || d.Code == diag.StepNotRefused {
			if line == "" {
				t.Logf("on the %s line: %s", p.Kernels[0].Line.Name, d.Detail)
			}
			d.Severity = diag.Warning
			continue
		}
		errs = append(errs, d)
	}
	if len(errs) > 0 {
		t.Fatalf("the differential configuration does not plan cleanly for %s:\n%s", env.KernelRelease, errs.String())
	}
	return p
}

// buildEmitted emits the plan and builds the modules of the releases
// named in use, two at a time.
func buildEmitted(ctx context.Context, t *testing.T, env Env, p *plan.Plan, use map[string]bool) map[string]string {
	t.Helper()
	out := filepath.Join(t.TempDir(), "out")
	if _, diags := emit.Emit(context.Background(), p, out, emit.Options{}); diags.HasErrors() {
		t.Fatalf("emit: %s", diags.String())
	}
	var (
		mu   sync.Mutex
		wg   sync.WaitGroup
		kos  = map[string]string{}
		errs []string
		sem  = make(chan struct{}, 2)
	)
	for _, lp := range p.Livepatches {
		if !use[lp.Name] {
			continue
		}
		for _, b := range lp.Builds {
			for _, m := range b.Modules {
				wg.Add(1)
				go func() {
					defer wg.Done()
					sem <- struct{}{}
					defer func() { <-sem }()
					ko, err := BuildModule(ctx, env, filepath.Join(out, b.Kernel, m.Name))
					mu.Lock()
					defer mu.Unlock()
					if err != nil {
						errs = append(errs, fmt.Sprintf("build %s: %v", m.Name, err))
						return
					}
					kos[m.Name] = ko
				}()
			}
		}
	}
	wg.Wait()
	if len(errs) > 0 {
		sort.Strings(errs)
		t.Fatalf("building the emitted modules for %s:\n%s", env.KernelRelease, strings.Join(errs, "\n"))
	}
	return kos
}

// expectedStep is what the plan predicts for one step.
type expectedStep struct {
	what string
	// partOnly marks one of several guest steps a plan step needs; only
	// its success is predicted.
	partOnly  bool
	ok        bool
	errno     string
	enabled   []string
	functions map[string]string // key -> "original", "absent" or "<module>:<function>"
	// sysfs holds the attributes only some lines have, as the guest
	// records them ("<patch>/replace", "<patch>/stack_order"), when
	// checkSysfs is set.
	sysfs      map[string]string
	checkSysfs bool
	// callbacks are the callbacks the step runs, in order, as
	// "<livepatch module>: <callback> <object>[ (<module state>)]"; nil
	// when the plan does not predict them.
	callbacks []string
	// transition is the transition the step leaves pending, as
	// Transition.String() prints it ("none" when none); "" when the plan
	// does not predict it.
	transition string
}

// check holds a scenario's predictions; steps before skip are set-up
// steps whose only expectation is that they succeed.
type dcheck struct {
	name  string
	skip  int
	steps []expectedStep
}

func deploymentScenario(p *plan.Plan, d *plan.Deployment, kos map[string]string) (Scenario, dcheck) {
	sc := Scenario{Name: d.Name, Modules: map[string]string{}, Preload: d.Modules}
	ch := dcheck{name: d.Name}
	keys := map[string]bool{}
	for _, m := range d.Modules {
		sc.Modules[m] = kos[m]
	}
	var loaded, enabled []string // livepatch modules before the step
	for _, s := range d.Steps {
		for k := range observable(p, s.Functions.Map()) {
			keys[k] = true
		}
		steps := runnerSteps(p, d, s, loaded, enabled)
		withBuild(steps, s, kos)
		for _, st := range steps {
			if st.Module != "" {
				sc.Modules[st.Module] = kos[st.Module]
			}
		}
		// The plan's prediction holds after the last of the guest's steps;
		// the ones before it only have to succeed.
		for i, st := range steps {
			if i < len(steps)-1 {
				sc.Steps = append(sc.Steps, st)
				ch.steps = append(ch.steps, expectedStep{what: fmt.Sprintf("step %d, part %d (%s)", s.Index, i+1, st), ok: true, partOnly: true})
				continue
			}
			sc.Steps = append(sc.Steps, st)
			ch.steps = append(ch.steps, expectedStep{
				what: fmt.Sprintf("step %d (%s)", s.Index, st), ok: s.OK, errno: s.Errno,
				enabled: s.Enabled, functions: moduleImpls(p, observable(p, s.Functions.Map())),
				sysfs: sysfsAttrs(s.Sysfs), checkSysfs: true,
				callbacks: append([]string{}, s.Callbacks...), transition: transitionString(s.Transition),
			})
		}
		loaded, enabled = s.Loaded, s.Enabled
	}
	sc.Observe = sortedKeys(keys)
	sc.Isolate = patchesProbeInit(p, d)
	return sc, ch
}

// transitionString is how Observation.Transition prints the plan's
// pending transition.
func transitionString(tr *plan.Transition) string {
	if tr == nil {
		return "none"
	}
	module := tr.Module
	if module == "" {
		module = kabi.ModuleName(tr.Livepatch)
	}
	stuck := append([]string(nil), tr.Stuck...)
	sort.Strings(stuck)
	return (&Transition{Patch: module, Target: tr.Target, Stuck: stuck}).String()
}

// patchesProbeInit reports whether a release the deployment loads patches
// the probe's __init function: on 6.1, disabling such a patch after the
// init leaves its klp_ops behind (klp_unpatch_func), and a later unpatch
// oopses, so the scenario runs last in its guest boot.
func patchesProbeInit(p *plan.Plan, d *plan.Deployment) bool {
	for _, s := range d.Steps {
		if s.Action != ActionLoad {
			continue
		}
		for _, m := range p.Livepatch(s.Livepatch).Build(d.Kernel).Modules {
			for _, o := range m.Objects {
				for _, f := range o.Funcs {
					if o.Name == ProbeModule && f.Name == "klpc_probe_init_fn" {
						return true
					}
				}
			}
		}
	}
	return false
}

// prePatchParam is the module parameter of the differential suite's
// callbacks that makes pre_patch return errno ("0" or a name such as
// "ENODEV"), as test_klp_callbacks_demo's pre_patch_ret does.
func prePatchParam(errno string) string {
	return fmt.Sprintf("%d", -kabi.Errnos[errno])
}

// runnerSteps is what the guest does for one step of the plan. A step on
// a per-object release acts on each of its modules the plan shows it
// acting on; loading an ordinary module also loads the per-object modules
// that follow it (their modprobe softdep, done here by insmod).
func runnerSteps(p *plan.Plan, d *plan.Deployment, s *plan.Step, loaded, enabled []string) []Step {
	added := func() []string {
		var out []string
		for _, m := range s.Loaded {
			if !slices.Contains(loaded, m) {
				out = append(out, m)
			}
		}
		return out
	}
	if s.Action == ActionBlock || s.Action == ActionRelease {
		return []Step{{Action: s.Action, Task: s.Task, Function: s.Function}}
	}
	if s.Livepatch == "" {
		steps := []Step{{Action: s.Action, Module: s.Module}}
		// pre_patch_returns on a module load: the parameter of every
		// loaded release with an object of that module, written first.
		if s.Action == ActionModuleLoad && s.PrePatchReturns != "" {
			var params []Step
			for _, lp := range p.Livepatches {
				b := lp.Build(d.Kernel)
				if b == nil {
					continue
				}
				for _, m := range b.Modules {
					if !slices.Contains(loaded, m.Name) {
						continue
					}
					for _, o := range m.Objects {
						if o.Name == s.Module && !o.Callbacks.Empty() {
							params = append(params, Step{Action: ActionParam, Module: m.Name, Param: "pre_patch_ret", Value: prePatchParam(s.PrePatchReturns)})
							break
						}
					}
				}
			}
			steps = append(params, steps...)
		}
		if s.Action == ActionModuleLoad && s.OK {
			for _, m := range added() {
				steps = append(steps, Step{Action: ActionLoad, Module: m})
			}
		}
		return steps
	}
	modules := p.Livepatch(s.Livepatch).Build(d.Kernel).Modules
	first := []Step{{Action: s.Action, Module: modules[0].Name}}
	if s.Action == ActionLoad && s.PrePatchReturns != "" {
		first[0].Params = "pre_patch_ret=" + prePatchParam(s.PrePatchReturns)
	}
	if len(modules) == 1 || !s.OK {
		return first
	}
	var steps []Step
	for _, m := range modules {
		var acts bool
		switch s.Action {
		case ActionLoad:
			acts = slices.Contains(added(), m.Name)
		case ActionDisable:
			acts = slices.Contains(enabled, m.Name)
		case ActionUnload:
			acts = slices.Contains(loaded, m.Name)
		}
		if acts {
			steps = append(steps, Step{Action: s.Action, Module: m.Name})
		}
	}
	if len(steps) == 0 {
		return first
	}
	return steps
}

// upgradeScenario starts from the predecessor's per-object modules, all
// loaded with their targets, and performs the planned upgrade.
func upgradeScenario(p *plan.Plan, lp *plan.Livepatch, u *plan.Upgrade, kos map[string]string) (Scenario, dcheck) {
	name := upgradeName(lp, u)
	sc := Scenario{Name: name, Modules: map[string]string{}}
	ch := dcheck{name: name}
	keys := map[string]bool{}
	for _, m := range p.Livepatch(u.From).Build(u.Kernel).Modules {
		if obj := m.Object(); obj != kabi.Vmlinux {
			sc.Preload = append(sc.Preload, obj)
			sc.Modules[obj] = kos[obj]
		}
		sc.Modules[m.Name] = kos[m.Name]
		sc.Steps = append(sc.Steps, Step{Action: ActionLoad, Module: m.Name})
		ch.steps = append(ch.steps, expectedStep{what: "set-up: load " + m.Name, ok: true})
		ch.skip++
	}
	for _, s := range u.Steps {
		for k := range s.Functions {
			keys[k] = true
		}
		sc.Modules[s.Module] = kos[s.Module]
		step := Step{Action: s.Action, Module: s.Module}
		sc.Steps = append(sc.Steps, step)
		ch.steps = append(ch.steps, expectedStep{
			what: fmt.Sprintf("upgrade step %d (%s)", s.Index, step), ok: s.OK,
			functions: moduleImpls(p, s.Functions),
		})
	}
	sc.Observe = sortedKeys(keys)
	return sc, ch
}

// sysfsAttrs is the plan's view of the attributes of /sys/kernel/livepatch
// that only some lines have, keyed as Observation.Sysfs keys them: replace
// (replace_show, 6.12 and 7.x) and stack_order (stack_order_show, 7.x).
func sysfsAttrs(view []plan.SysfsPatch) map[string]string {
	var m map[string]string
	set := func(k, v string) {
		if m == nil {
			m = map[string]string{}
		}
		m[k] = v
	}
	for _, p := range view {
		if p.Replace != nil {
			set(p.Module+"/replace", map[bool]string{false: "0", true: "1"}[*p.Replace])
		}
		if p.StackOrder > 0 {
			set(p.Module+"/stack_order", fmt.Sprint(p.StackOrder))
		}
	}
	return m
}

// upgradeName names the scenario of the upgrade u to lp.
func upgradeName(lp *plan.Livepatch, u *plan.Upgrade) string {
	return fmt.Sprintf("upgrade-%s-to-%s", u.From, lp.Name)
}

// moduleImpls turns the plan's implementations into what the guest
// observes: "original", "absent", or the identity the replacement reports,
// "<module>:<function>".
func moduleImpls(p *plan.Plan, funcs map[string]plan.Impl) map[string]string {
	out := map[string]string{}
	for key, impl := range funcs {
		if impl.Kind != plan.Replaced {
			out[key] = impl.String()
			continue
		}
		module := kabi.ModuleName(impl.Livepatch)
		if lp := p.Livepatch(impl.Livepatch); lp != nil && lp.Layout == kabi.LayoutPerObject {
			object, _, _ := strings.Cut(key, ":")
			module = kabi.PerObjectModuleName(impl.Livepatch, object)
		}
		out[key] = module + ":" + impl.New
	}
	return out
}

func orNone(v string, ok bool) string {
	if !ok {
		return "(no such file)"
	}
	return v
}

// compare returns a readable account of every difference between the
// predictions and the observations, or "".
func (ch dcheck) compare(res Result) string {
	var b strings.Builder
	if res.Err != "" {
		fmt.Fprintf(&b, "  the scenario did not complete: %s\n", res.Err)
	}
	for i, want := range ch.steps {
		if i >= len(res.Steps) {
			fmt.Fprintf(&b, "  %s: not performed\n", want.what)
			continue
		}
		got := res.Steps[i]
		if got.OK != want.ok {
			fmt.Fprintf(&b, "  %s: plan: ok=%v %s | kernel: ok=%v %s %s\n", want.what, want.ok, want.errno, got.OK, got.Errno, got.Message)
			continue
		}
		if i < ch.skip || want.partOnly {
			continue
		}
		if !want.ok && want.errno != got.Errno {
			fmt.Fprintf(&b, "  %s: plan: refused with %s | kernel: refused with %s (%s)\n", want.what, want.errno, got.Errno, got.Message)
		}
		if want.enabled != nil {
			var listed []string
			for _, lp := range got.Livepatches {
				listed = append(listed, lp.Name)
			}
			wantListed := append([]string(nil), want.enabled...)
			sort.Strings(wantListed)
			if strings.Join(wantListed, ",") != strings.Join(listed, ",") {
				fmt.Fprintf(&b, "  %s: /sys/kernel/livepatch: plan: [%s] | kernel: [%s]\n", want.what, strings.Join(wantListed, " "), strings.Join(listed, " "))
			}
		}
		for _, key := range slices.Sorted(maps.Keys(want.functions)) {
			if w, g := want.functions[key], got.Functions[key]; w != g {
				fmt.Fprintf(&b, "  %s: %s: plan: %s | kernel: %s\n", want.what, key, w, g)
			}
		}
		if want.checkSysfs {
			keys := map[string]bool{}
			for k := range want.sysfs {
				keys[k] = true
			}
			for k := range got.Sysfs {
				keys[k] = true
			}
			for _, key := range sortedKeys(keys) {
				w, wok := want.sysfs[key]
				g, gok := got.Sysfs[key]
				if w != g || wok != gok {
					fmt.Fprintf(&b, "  %s: /sys/kernel/livepatch/%s: plan: %s | kernel: %s\n", want.what, key, orNone(w, wok), orNone(g, gok))
				}
			}
		}
		if want.transition != "" {
			if g := got.Transition().String(); g != want.transition {
				fmt.Fprintf(&b, "  %s: pending transition: plan: %s | kernel: %s\n", want.what, want.transition, g)
			}
		}
		if want.callbacks != nil {
			if d := callbackDiff(want.callbacks, got.Callbacks); d != "" {
				fmt.Fprintf(&b, "  %s: callbacks differ (- plan, + kernel):\n%s", want.what, d)
			}
		}
	}
	return b.String()
}

// callbackDiff returns a line diff of the callbacks the plan predicts and
// those the kernel ran, "" when they agree. A predicted callback without a
// module state (" (MODULE_STATE_...)") matches the kernel's line with any.
func callbackDiff(plan, kernel []string) string {
	same := func(p, k string) bool {
		if p == k {
			return true
		}
		base, _, ok := strings.Cut(k, " (MODULE_STATE_")
		return ok && !strings.Contains(p, " (") && p == base
	}
	n, m := len(plan), len(kernel)
	// lcs[i][j]: longest common subsequence of plan[i:] and kernel[j:].
	lcs := make([][]int, n+1)
	for i := range lcs {
		lcs[i] = make([]int, m+1)
	}
	for i := n - 1; i >= 0; i-- {
		for j := m - 1; j >= 0; j-- {
			switch {
			case same(plan[i], kernel[j]):
				lcs[i][j] = lcs[i+1][j+1] + 1
			case lcs[i+1][j] >= lcs[i][j+1]:
				lcs[i][j] = lcs[i+1][j]
			default:
				lcs[i][j] = lcs[i][j+1]
			}
		}
	}
	var b strings.Builder
	differ := false
	i, j := 0, 0
	for i < n || j < m {
		switch {
		case i < n && j < m && same(plan[i], kernel[j]):
			fmt.Fprintf(&b, "      %s\n", kernel[j])
			i, j = i+1, j+1
		case j < m && (i == n || lcs[i][j+1] >= lcs[i+1][j]):
			fmt.Fprintf(&b, "    + %s\n", kernel[j])
			j, differ = j+1, true
		default:
			fmt.Fprintf(&b, "    - %s\n", plan[i])
			i, differ = i+1, true
		}
	}
	if !differ {
		return ""
	}
	return b.String()
}

// observable leaves out the functions of the configuration's own livepatch
// modules (a release may patch another release's replacement): the guest
// watches vmlinux and probe functions, through which the end of such a
// chain of replacements shows.
func observable(p *plan.Plan, funcs map[string]plan.Impl) map[string]plan.Impl {
	modules := map[string]bool{}
	for _, lp := range p.Livepatches {
		for _, b := range lp.Builds {
			for _, m := range b.Modules {
				modules[m.Name] = true
			}
		}
	}
	out := map[string]plan.Impl{}
	for key, impl := range funcs {
		if object, _, _ := strings.Cut(key, ":"); !modules[object] {
			out[key] = impl
		}
	}
	return out
}
