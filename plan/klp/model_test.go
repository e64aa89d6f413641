package klp

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

// TestLivepatchModuleAsTarget: klp_module_coming and klp_module_going run
// for livepatch modules too, so a patch whose object is another livepatch
// module is applied when that module loads and reverted when it goes, and
// a call runs the end of the chain of redirections.
func TestLivepatchModuleAsTarget(t *testing.T) {
	lpA := PatchSpec{Module: "lp_a", Objects: []ObjectSpec{vm(fn("funcA", "a_funcA"))}}
	lpB := PatchSpec{Module: "lp_b", Objects: []ObjectSpec{{Name: "lp_a", Funcs: []FuncSpec{fn("a_funcA", "b_funcA")}}}}
	aFunc := FuncID{Object: "lp_a", Name: "a_funcA", Pos: 1}
	chain := func(k *Kernel) string {
		c, loop := k.Chain(fA, true)
		// Resolve walks the chain without making it: the same end.
		if r := k.Resolve(fA, true); r != c[len(c)-1] {
			t.Errorf("Resolve %v, chain ends at %v", r, c[len(c)-1])
		}
		var s []string
		for _, i := range c {
			s = append(s, i.String())
		}
		return fmt.Sprint(strings.Join(s, " -> "), " loop=", loop)
	}
	for _, line := range Lines() {
		// The patched livepatch module first.
		k := NewLine(line, nil)
		load(t, k, lpA)
		load(t, k, lpB)
		expect(t, k, "lp_b over lp_a", map[FuncID]string{fA: "lp_b:b_funcA", aFunc: "lp_b:b_funcA"})
		if got := chain(k); got != "lp_a:a_funcA -> lp_b:b_funcA loop=false" {
			t.Errorf("%v: chain %s", line, got)
		}

		// The patch on it first: lp_a's coming applies lp_b's object,
		// before lp_a's own init enables lp_a.
		k = NewLine(line, nil)
		load(t, k, lpB)
		expect(t, k, "lp_b alone", map[FuncID]string{fA: "original", aFunc: "absent"})
		k.TakeTrace()
		load(t, k, lpA)
		tr := eventStrings(k.TakeTrace())
		if len(tr) < 2 || tr[0] != "applying patch 'lp_b' to loading module 'lp_a'" || tr[1] != "enabling patch 'lp_a'" {
			t.Errorf("%v: trace of insmod lp_a: %q", line, tr)
		}
		expect(t, k, "lp_a after lp_b", map[FuncID]string{fA: "lp_b:b_funcA"})
		if r := k.Rmmod("lp_a"); r == nil || r.Errno != EAGAIN {
			t.Errorf("%v: rmmod of enabled lp_a: %v", line, r)
		}
		disable(t, k, "lp_a")
		expect(t, k, "lp_a disabled", map[FuncID]string{fA: "original", aFunc: "lp_b:b_funcA"})
		ok(t, "rmmod lp_a", k.Rmmod("lp_a"))
		if tr := eventStrings(k.TakeTrace()); !slices.Contains(tr, "reverting patch 'lp_b' on unloading module 'lp_a'") {
			t.Errorf("%v: rmmod lp_a did not revert lp_b's object: %q", line, tr)
		}
		expect(t, k, "lp_a gone", map[FuncID]string{aFunc: "absent"})
		if len(k.Stack(aFunc)) != 0 {
			t.Errorf("%v: lp_a's function still on a func_stack", line)
		}
		load(t, k, lpA)
		expect(t, k, "lp_a again", map[FuncID]string{fA: "lp_b:b_funcA"})
	}

	// A replace patch without lp_b's function gives it a nop: calls run
	// lp_a's replacement again, the "original" of a_funcA.
	k := New(nil)
	load(t, k, lpA)
	load(t, k, lpB)
	ok(t, "insmod replace", k.Insmod(PatchSpec{Module: "lp_c", Replace: true, Objects: []ObjectSpec{vm(fn("funcA", "c_funcA"))}}))
	if got := k.Resolve(fA, false).String(); got != "lp_b:b_funcA" {
		t.Errorf("unswitched task during the replace: %s", got)
	}
	if got := k.Resolve(fA, true).String(); got != "lp_c:c_funcA" {
		t.Errorf("switched task during the replace: %s", got)
	}
	k.CompleteTransition()
	ok(t, "disable", k.Disable("lp_c"))
	// lp_a and lp_b are gone; nothing is left to redirect.
	k.CompleteTransition()
	expect(t, k, "all gone", map[FuncID]string{fA: "original"})

	// While lp_b's transition runs, a task that has not switched falls
	// back to the original of a_funcA: lp_a's replacement.
	k = New(nil)
	load(t, k, lpA)
	ok(t, "insmod lp_b", k.Insmod(lpB))
	if got := k.Resolve(fA, false).String(); got != "lp_a:a_funcA" {
		t.Errorf("unswitched task while lp_b patches lp_a: %s, want lp_a's replacement", got)
	}
	k.CompleteTransition()

	// Two livepatches patching each other's replacement: the call recurses.
	k = New(nil)
	load(t, k, PatchSpec{Module: "lp_a", Objects: []ObjectSpec{vm(fn("funcA", "a_funcA")), {Name: "lp_b", Funcs: []FuncSpec{fn("b_funcA", "a_funcA")}}}})
	load(t, k, lpB)
	if got := chain(k); got != "lp_a:a_funcA -> lp_b:b_funcA loop=true" {
		t.Errorf("loop: chain %s", got)
	}
}

// initSymbols marks functions as __init functions of their module.
type initSymbols map[string]bool

func (initSymbols) Find(object, name string, sympos int) *Refusal      { return nil }
func (initSymbols) Traceable(object, name string, sympos int) *Refusal { return nil }
func (s initSymbols) InitOnly(object, name string, sympos int) bool    { return s[object+":"+name] }

// TestInitFunctions: a module's symbol table holds its init symbols only
// while it is COMING (do_init_module switches to core_kallsyms after init),
// so a patch on an __init function applies when the module comes after
// the patch, not when the patch comes after the module, and a later
// replace patch's nop for it fails while the module is loaded.
func TestInitFunctions(t *testing.T) {
	syms := initSymbols{"mod:mod_init": true}
	initFn := FuncID{Object: "mod", Name: "mod_init", Pos: 1}
	patch := PatchSpec{Module: "lp_init", Objects: []ObjectSpec{{Name: "mod", Funcs: []FuncSpec{fn("mod_init", "new_init")}}}}
	replace := PatchSpec{Module: "lp_repl", Replace: true, Objects: []ObjectSpec{vm(fn("funcA", "a"))}}
	for _, line := range Lines() {
		k := NewLine(line, syms)
		load(t, k, patch)
		ok(t, "modprobe mod", k.Modprobe("mod"))
		expect(t, k, "module after patch", map[FuncID]string{initFn: "lp_init:new_init"})
		r := k.Insmod(replace)
		if r == nil || r.Errno != EINVAL || !strings.Contains(r.Error(), "symbol 'mod_init' not found") {
			t.Errorf("%v: replace over a patched init function: %v, want EINVAL", line, r)
		}
		// With the module away the nop is deferred and the replace loads.
		ok(t, "rmmod mod", k.Rmmod("mod"))
		load(t, k, replace)
		ok(t, "modprobe mod", k.Modprobe("mod"))
		expect(t, k, "replaced", map[FuncID]string{initFn: "original", fA: "lp_repl:a"})

		k = NewLine(line, syms, "mod")
		r = k.Insmod(patch)
		if r == nil || r.Errno != EINVAL || k.Module("lp_init") != nil {
			t.Errorf("%v: patch after module: %v, want EINVAL", line, r)
		}
		// The module's ordinary functions are found as ever.
		load(t, k, PatchSpec{Module: "lp_core", Objects: []ObjectSpec{{Name: "mod", Funcs: []FuncSpec{fn("mod_show", "new_show")}}}})
	}
}

// TestCallbackEdges covers what test-callbacks.sh does not: a pre_patch
// failure on the second object (the first object's post_unpatch runs, as
// its pre_patch succeeded), a patched module failing a later patch's
// pre_patch (the earlier patch is reverted with its unpatch callbacks),
// atomic replace (the replaced patch's callbacks do not run, the nop
// objects have none), and disable of a patch whose module object is absent.
func TestCallbackEdges(t *testing.T) {
	all := Callbacks{PrePatch: true, PostPatch: true, PreUnpatch: true, PostUnpatch: true}
	fail := all
	fail.PrePatchErr = ENODEV
	k := New(nil, "mod")
	r := k.Insmod(PatchSpec{Module: "lp", Objects: []ObjectSpec{{Name: Vmlinux, Callbacks: all}, {Name: "mod", Callbacks: fail}}})
	if r == nil || r.Errno != ENODEV {
		t.Fatalf("insmod: %v, want ENODEV", r)
	}
	want := []string{
		"lp: pre_patch vmlinux",
		"lp: pre_patch mod (MODULE_STATE_LIVE)",
		"lp: post_unpatch vmlinux",
	}
	if got := eventStrings(CallbacksOf(k.TakeTrace())); !slices.Equal(got, want) {
		t.Errorf("second object's pre_patch fails: %q, want %q", got, want)
	}

	k = New(nil)
	load(t, k, PatchSpec{Module: "lp1", Objects: []ObjectSpec{{Name: "mod", Callbacks: all}}})
	load(t, k, PatchSpec{Module: "lp2", Objects: []ObjectSpec{{Name: "mod", Callbacks: fail}}})
	k.TakeTrace()
	if r := k.Modprobe("mod"); r == nil || r.Errno != ENODEV || k.Loaded("mod") {
		t.Fatalf("modprobe: %v", r)
	}
	want = []string{
		"applying patch 'lp1' to loading module 'mod'",
		"lp1: pre_patch mod (MODULE_STATE_COMING)",
		"lp1: post_patch mod (MODULE_STATE_COMING)",
		"applying patch 'lp2' to loading module 'mod'",
		"lp2: pre_patch mod (MODULE_STATE_COMING)",
		"pre-patch callback failed for object 'mod'",
		"patch 'lp2' failed for module 'mod', refusing to load module 'mod'",
		"lp1: pre_unpatch mod (MODULE_STATE_COMING)",
		"reverting patch 'lp1' on unloading module 'mod'",
		"lp1: post_unpatch mod (MODULE_STATE_COMING)",
	}
	if got := eventStrings(k.TakeTrace()); !slices.Equal(got, want) {
		t.Errorf("module refused by a later patch:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}

	k = New(nil, "mod")
	load(t, k, PatchSpec{Module: "old", Objects: []ObjectSpec{{Name: "mod", Callbacks: all, Funcs: []FuncSpec{fn("m", "old_m")}}, {Name: "absent", Callbacks: all, Funcs: []FuncSpec{fn("x", "old_x")}}}})
	k.TakeTrace()
	load(t, k, PatchSpec{Module: "new", Replace: true, Objects: []ObjectSpec{{Name: Vmlinux, Callbacks: all}}})
	want = []string{"new: pre_patch vmlinux", "new: post_patch vmlinux"}
	if got := eventStrings(CallbacksOf(k.TakeTrace())); !slices.Equal(got, want) {
		t.Errorf("atomic replace: %q, want %q", got, want)
	}
	disable(t, k, "new")
	want = []string{"new: pre_unpatch vmlinux", "new: post_unpatch vmlinux"}
	if got := eventStrings(CallbacksOf(k.TakeTrace())); !slices.Equal(got, want) {
		t.Errorf("disable after replace: %q, want %q", got, want)
	}
}

// TestBlockedTransition follows test-callbacks.sh "busy target module"
// with the task model: a kworker sleeping in busymod_work_func keeps the
// patching transition pending; meanwhile it runs the original, every
// other task the patch; another load or disable is refused with EBUSY;
// releasing the task completes the transition.
func TestBlockedTransition(t *testing.T) {
	for _, line := range Lines() {
		k := NewLine(line, nil, "test_klp_callbacks_busy")
		k.Block("kworker", fBusy)
		if k.TaskState("kworker") != TaskIdle {
			t.Errorf("%v: patch_state outside a transition %d", line, k.TaskState("kworker"))
		}
		ok(t, "insmod", k.Insmod(testKlpCallbackDemo))
		done, stuck := k.TryCompleteTransition()
		if done || len(stuck) != 1 || stuck[0].Task != "kworker" || stuck[0].Func != fBusy {
			t.Fatalf("%v: transition done=%v stuck=%v", line, done, stuck)
		}
		if !strings.Contains(stuck[0].String(), "kworker is sleeping in busymod_work_func") {
			t.Errorf("stuck: %s", stuck[0])
		}
		if k.TaskState("kworker") != TaskUnpatched || k.TaskState("other") != TaskIdle {
			t.Errorf("%v: patch_state kworker %d", line, k.TaskState("kworker"))
		}
		if got := k.ResolveTask("kworker", fBusy).String(); got != "original" {
			t.Errorf("%v: the blocked task runs %s", line, got)
		}
		if got := k.ResolveTask("some_other_task", fBusy).String(); got != "test_klp_callbacks_demo:patched_work_func" {
			t.Errorf("%v: a switched task runs %s", line, got)
		}
		if !k.Sysfs()[0].Transition {
			t.Errorf("%v: sysfs transition is 0", line)
		}
		if r := k.Insmod(testKlpLivepatch); r == nil || r.Errno != EBUSY {
			t.Errorf("%v: insmod during the transition: %v", line, r)
		}
		k.Release("kworker")
		if done, _ := k.TryCompleteTransition(); !done {
			t.Fatalf("%v: released task still blocks", line)
		}
		expect(t, k, "complete", map[FuncID]string{fBusy: "test_klp_callbacks_demo:patched_work_func"})

		// Unpatching checks the replacement itself: a task sleeping in
		// patched_work_func keeps the disable pending; writing 1 to
		// enabled reverses it, and since the task never switched the
		// reversal completes at once, without callbacks.
		k.BlockCalling("kworker", fBusy)
		ok(t, "disable", k.Disable("test_klp_callbacks_demo"))
		if done, stuck := k.TryCompleteTransition(); done || stuck[0].Func != (FuncID{Object: "test_klp_callbacks_demo", Name: "patched_work_func", Pos: 1}) {
			t.Fatalf("%v: disable with a task in the replacement: done=%v stuck=%v", line, done, stuck)
		}
		k.TakeTrace()
		ok(t, "enable", k.Enable("test_klp_callbacks_demo"))
		if done, _ := k.TryCompleteTransition(); !done {
			t.Fatalf("%v: reversal did not complete", line)
		}
		tr := eventStrings(k.TakeTrace())
		if tr[0] != "'test_klp_callbacks_demo': reversing transition from unpatching to patching" || slices.ContainsFunc(tr, func(s string) bool { return strings.Contains(s, "pre_") }) {
			t.Errorf("%v: reversal trace %q", line, tr)
		}
		expect(t, k, "reversed", map[FuncID]string{fBusy: "test_klp_callbacks_demo:patched_work_func"})
	}
}

// TestForce: writing 1 to force completes a blocked transition; the
// patches that may still run are marked forced and their modules can
// never be removed (klp_force_transition, klp_free_patch_finish).
func TestForce(t *testing.T) {
	k := New(nil)
	load(t, k, testKlpLivepatch)
	if r := k.Force("test_klp_livepatch"); r == nil || r.Errno != EINVAL {
		t.Errorf("force outside a transition: %v", r)
	}
	if r := k.Force("nosuch"); r == nil || r.Errno != ENOENT {
		t.Errorf("force of an unknown patch: %v", r)
	}
	// A replace patch blocked by a task sleeping in the replacement it
	// replaces (the func below its nop/func on the stack).
	k.Block("t1", FuncID{Object: "test_klp_livepatch", Name: "livepatch_cmdline_proc_show", Pos: 1})
	ok(t, "insmod replace", k.Insmod(atomicReplace(true)))
	if done, stuck := k.TryCompleteTransition(); done || len(stuck) != 1 {
		t.Fatalf("replace not blocked: %v", stuck)
	}
	ok(t, "force", k.Force("test_klp_atomic_replace"))
	if p, _ := k.Transition(); p != nil || listed(k) != "test_klp_atomic_replace" {
		t.Fatalf("force left transition %v, sysfs %q", p, listed(k))
	}
	if r := k.Rmmod("test_klp_livepatch"); r == nil || r.Errno != EAGAIN || !strings.Contains(r.Error(), "forced") {
		t.Errorf("rmmod of a forced replaced patch: %v, want EAGAIN", r)
	}
	// Forcing an unpatching transition marks the patch itself.
	k.Release("t1")
	k.Block("t1", FuncID{Object: "test_klp_atomic_replace", Name: "livepatch_meminfo_proc_show", Pos: 1})
	ok(t, "disable", k.Disable("test_klp_atomic_replace"))
	if done, _ := k.TryCompleteTransition(); done {
		t.Fatal("disable not blocked")
	}
	ok(t, "force", k.Force("test_klp_atomic_replace"))
	if r := k.Rmmod("test_klp_atomic_replace"); r == nil || r.Errno != EAGAIN {
		t.Errorf("rmmod of a forced disabled patch: %v, want EAGAIN", r)
	}
	expect(t, k, "forced", map[FuncID]string{fCmd: "original", fMem: "original"})
	// A non-replace patching transition forces nothing.
	k = New(nil)
	k.Block("t2", fCmd)
	ok(t, "insmod", k.Insmod(testKlpLivepatch))
	ok(t, "force", k.Force("test_klp_livepatch"))
	disable(t, k, "test_klp_livepatch")
	ok(t, "rmmod", k.Rmmod("test_klp_livepatch"))
}

// TestStackCheckTargets pins klp_check_stack_func: patching checks the
// previous implementation (the original when the func is alone on its
// stack, else the func below), unpatching the func's own replacement, and
// a nop's replacement is the original function.
func TestStackCheckTargets(t *testing.T) {
	k := New(nil)
	k.Block("in_orig", fCmd)
	ok(t, "insmod", k.Insmod(testKlpLivepatch))
	if done, stuck := k.TryCompleteTransition(); done || stuck[0].Task != "in_orig" {
		t.Fatalf("patching over the original: done=%v %v", done, stuck)
	}
	k.Release("in_orig")
	k.CompleteTransition()
	// Over an existing patch the original is no longer checked.
	k.Block("in_orig", fCmd)
	ok(t, "insmod", k.Insmod(PatchSpec{Module: "lp2", Objects: []ObjectSpec{vm(fn("cmdline_proc_show", "lp2_cmd"))}}))
	if done, stuck := k.TryCompleteTransition(); !done {
		t.Fatalf("a task in the original blocks patching over lp1: %v", stuck)
	}
	// Replacing with a nop: unpatching back checks the nop's "replacement",
	// the original function.
	ok(t, "insmod", k.Insmod(PatchSpec{Module: "lp3", Replace: true, Objects: []ObjectSpec{vm(fn("funcA", "a3"))}}))
	ok(t, "reverse", k.Disable("lp3"))
	for _, name := range k.Tasks() {
		if k.TaskState(name) != TaskUnpatched {
			t.Errorf("%s switched before trying", name)
		}
	}
	if done, stuck := k.TryCompleteTransition(); !done {
		t.Fatalf("reversal blocked: %v", stuck)
	}
	expect(t, k, "reversed replace", map[FuncID]string{fCmd: "lp2:lp2_cmd", fA: "original"})
}
