package klp

import (
	"fmt"
	"strings"
	"testing"
)

// The scenarios below follow the kernel's own selftests
// (tools/testing/selftests/livepatch/test-livepatch.sh and test-state.sh,
// with the modules of lib/livepatch/test_klp_*.c) and check the function
// resolution after every step.

var (
	fCmd  = FuncID{Object: Vmlinux, Name: "cmdline_proc_show", Pos: 1}
	fMem  = FuncID{Object: Vmlinux, Name: "meminfo_proc_show", Pos: 1}
	fPid  = FuncID{Object: Vmlinux, Name: "__x64_sys_getpid", Pos: 1}
	fBusy = FuncID{Object: "test_klp_callbacks_busy", Name: "busymod_work_func", Pos: 1}
	fA    = FuncID{Object: Vmlinux, Name: "funcA", Pos: 1}
	fB    = FuncID{Object: Vmlinux, Name: "funcB", Pos: 1}
)

func vm(funcs ...FuncSpec) ObjectSpec { return ObjectSpec{Name: Vmlinux, Funcs: funcs} }

func fn(name, new string) FuncSpec { return FuncSpec{Name: name, New: new} }

var (
	testKlpLivepatch    = PatchSpec{Module: "test_klp_livepatch", Objects: []ObjectSpec{vm(fn("cmdline_proc_show", "livepatch_cmdline_proc_show"))}}
	testKlpSyscall      = PatchSpec{Module: "test_klp_syscall", Objects: []ObjectSpec{vm(fn("__x64_sys_getpid", "lp_sys_getpid"))}}
	testKlpCallbackDemo = PatchSpec{Module: "test_klp_callbacks_demo", Objects: []ObjectSpec{
		vm(), {Name: "test_klp_callbacks_mod"},
		{Name: "test_klp_callbacks_busy", Funcs: []FuncSpec{fn("busymod_work_func", "patched_work_func")}},
	}}
)

func atomicReplace(replace bool) PatchSpec {
	return PatchSpec{Module: "test_klp_atomic_replace", Replace: replace, Objects: []ObjectSpec{vm(fn("meminfo_proc_show", "livepatch_meminfo_proc_show"))}}
}

func statePatch(module string, version int64) PatchSpec {
	return PatchSpec{Module: module, Replace: true, Objects: []ObjectSpec{vm()}, States: []StateSpec{{ID: 1, Version: version}}}
}

// expect checks what every listed function runs at rest.
func expect(t *testing.T, k *Kernel, step string, want map[FuncID]string) {
	t.Helper()
	for id, w := range want {
		if got := k.Now(id).String(); got != w {
			t.Errorf("after %s: %s runs %s, want %s", step, id.Name, got, w)
		}
	}
}

func ok(t *testing.T, what string, r *Refusal) {
	t.Helper()
	if r != nil {
		t.Fatalf("%s refused: %v", what, r)
	}
}

func load(t *testing.T, k *Kernel, p PatchSpec) {
	t.Helper()
	ok(t, "insmod "+p.Module, k.Insmod(p))
	k.CompleteTransition()
}

func disable(t *testing.T, k *Kernel, m string) {
	t.Helper()
	ok(t, "disable "+m, k.Disable(m))
	k.CompleteTransition()
}

func listed(k *Kernel) string {
	var names []string
	for _, p := range k.Patches() {
		names = append(names, p.Module)
	}
	return strings.Join(names, ",")
}

func TestBasicFunctionPatching(t *testing.T) {
	k := New(nil)
	expect(t, k, "boot", map[FuncID]string{fCmd: "original"})
	load(t, k, testKlpLivepatch)
	expect(t, k, "load", map[FuncID]string{fCmd: "test_klp_livepatch:livepatch_cmdline_proc_show"})
	if r := k.Rmmod("test_klp_livepatch"); r == nil || r.Errno != EAGAIN {
		t.Fatalf("rmmod of an enabled livepatch: got %v, want EAGAIN", r)
	}
	disable(t, k, "test_klp_livepatch")
	expect(t, k, "disable", map[FuncID]string{fCmd: "original"})
	if got := listed(k); got != "" {
		t.Errorf("sysfs after disable lists %q", got)
	}
	ok(t, "rmmod", k.Rmmod("test_klp_livepatch"))
}

func TestMultipleLivepatches(t *testing.T) {
	k := New(nil)
	lp1 := "test_klp_livepatch:livepatch_cmdline_proc_show"
	lp2 := "test_klp_atomic_replace:livepatch_meminfo_proc_show"
	load(t, k, testKlpLivepatch)
	expect(t, k, "load lp1", map[FuncID]string{fCmd: lp1, fMem: "original"})
	load(t, k, atomicReplace(false))
	expect(t, k, "load lp2", map[FuncID]string{fCmd: lp1, fMem: lp2})
	disable(t, k, "test_klp_atomic_replace")
	ok(t, "rmmod lp2", k.Rmmod("test_klp_atomic_replace"))
	expect(t, k, "remove lp2", map[FuncID]string{fCmd: lp1, fMem: "original"})
	disable(t, k, "test_klp_livepatch")
	ok(t, "rmmod lp1", k.Rmmod("test_klp_livepatch"))
	expect(t, k, "remove lp1", map[FuncID]string{fCmd: "original", fMem: "original"})
}

func TestAtomicReplace(t *testing.T) {
	k := New(nil)
	load(t, k, testKlpLivepatch)
	load(t, k, testKlpSyscall)
	load(t, k, testKlpCallbackDemo)
	if got := listed(k); got != "test_klp_livepatch,test_klp_syscall,test_klp_callbacks_demo" {
		t.Fatalf("sysfs lists %q", got)
	}
	expect(t, k, "three patches", map[FuncID]string{
		fCmd: "test_klp_livepatch:livepatch_cmdline_proc_show", fPid: "test_klp_syscall:lp_sys_getpid", fBusy: "absent",
	})
	ok(t, "insmod replace", k.Insmod(atomicReplace(true)))
	// During the transition the replace patch carries nops for every
	// function of the older patches, the absent module's included.
	p, target := k.Transition()
	if p == nil || p.Module != "test_klp_atomic_replace" || target != Patched {
		t.Fatalf("transition = %v, %v", p, target)
	}
	busy := p.object("test_klp_callbacks_busy")
	if busy == nil || !busy.Dynamic || len(busy.Funcs) != 1 || !busy.Funcs[0].Nop {
		t.Fatalf("no dynamic nop object for the absent module: %+v", busy)
	}
	// A task that has not switched yet still runs the old patch.
	if got := k.Resolve(fCmd, false).String(); got != "test_klp_livepatch:livepatch_cmdline_proc_show" {
		t.Errorf("unswitched task runs %s", got)
	}
	if got := k.Resolve(fCmd, true).String(); got != "original" {
		t.Errorf("switched task runs %s, want the nop's original", got)
	}
	k.CompleteTransition()
	expect(t, k, "replace", map[FuncID]string{
		fCmd: "original", fPid: "original", fMem: "test_klp_atomic_replace:livepatch_meminfo_proc_show",
	})
	if got := listed(k); got != "test_klp_atomic_replace" {
		t.Fatalf("sysfs after replace lists %q", got)
	}
	if obj := k.Patches()[0].object("test_klp_callbacks_busy"); obj != nil {
		t.Errorf("dynamic object kept after the transition: %+v", obj)
	}
	for _, m := range []string{"test_klp_callbacks_demo", "test_klp_syscall", "test_klp_livepatch"} {
		ok(t, "rmmod "+m, k.Rmmod(m))
	}
	ok(t, "modprobe busy", k.Modprobe("test_klp_callbacks_busy"))
	expect(t, k, "load busy module", map[FuncID]string{fBusy: "original"})
	disable(t, k, "test_klp_atomic_replace")
	expect(t, k, "disable replace", map[FuncID]string{fMem: "original"})
}

func TestModuleFunctionPatching(t *testing.T) {
	tgt := FuncID{Object: "test_klp_mod_target", Name: "test_klp_mod_target_show", Pos: 1}
	patch := PatchSpec{Module: "test_klp_mod_patch", Objects: []ObjectSpec{{Name: "test_klp_mod_target", Funcs: []FuncSpec{fn("test_klp_mod_target_show", "livepatch_mod_target_show")}}}}
	want := "test_klp_mod_patch:livepatch_mod_target_show"

	// Target module first.
	k := New(nil, "test_klp_mod_target")
	expect(t, k, "boot", map[FuncID]string{tgt: "original"})
	load(t, k, patch)
	expect(t, k, "load patch", map[FuncID]string{tgt: want})
	disable(t, k, "test_klp_mod_patch")
	expect(t, k, "disable", map[FuncID]string{tgt: "original"})

	// Livepatch first: klp_module_coming applies it when the module loads,
	// and klp_module_going reverts it when the module goes.
	k = New(nil)
	load(t, k, patch)
	expect(t, k, "load patch", map[FuncID]string{tgt: "absent"})
	ok(t, "modprobe", k.Modprobe("test_klp_mod_target"))
	expect(t, k, "load target", map[FuncID]string{tgt: want})
	ok(t, "rmmod target", k.Rmmod("test_klp_mod_target"))
	expect(t, k, "unload target", map[FuncID]string{tgt: "absent"})
	ok(t, "modprobe again", k.Modprobe("test_klp_mod_target"))
	expect(t, k, "reload target", map[FuncID]string{tgt: want})
	disable(t, k, "test_klp_mod_patch")
	expect(t, k, "disable", map[FuncID]string{tgt: "original"})
}

func TestSystemStateModification(t *testing.T) {
	k := New(nil)
	load(t, k, statePatch("test_klp_state", 1))
	disable(t, k, "test_klp_state")
	ok(t, "rmmod", k.Rmmod("test_klp_state"))
}

func TestTakingOverSystemState(t *testing.T) {
	k := New(nil)
	load(t, k, statePatch("test_klp_state", 1))
	load(t, k, statePatch("test_klp_state2", 2))
	if got := listed(k); got != "test_klp_state2" {
		t.Fatalf("sysfs lists %q", got)
	}
	ok(t, "rmmod replaced", k.Rmmod("test_klp_state"))
	disable(t, k, "test_klp_state2")
	ok(t, "rmmod", k.Rmmod("test_klp_state2"))
}

func TestCompatibleCumulativeLivepatches(t *testing.T) {
	k := New(nil)
	load(t, k, statePatch("test_klp_state2", 2))
	load(t, k, statePatch("test_klp_state3", 2))
	// The replaced module is still loaded: it must go before it can come back.
	if r := k.Insmod(statePatch("test_klp_state2", 2)); r == nil || r.Errno != EEXIST {
		t.Fatalf("insmod of a loaded module: got %v, want EEXIST", r)
	}
	ok(t, "rmmod state2", k.Rmmod("test_klp_state2"))
	load(t, k, statePatch("test_klp_state2", 2))
	if got := listed(k); got != "test_klp_state2" {
		t.Fatalf("sysfs lists %q, want state2 to have replaced state3", got)
	}
	disable(t, k, "test_klp_state2")
	ok(t, "rmmod state2", k.Rmmod("test_klp_state2"))
	ok(t, "rmmod state3", k.Rmmod("test_klp_state3"))
}

func TestIncompatibleCumulativeLivepatches(t *testing.T) {
	k := New(nil)
	load(t, k, statePatch("test_klp_state2", 2))
	r := k.Insmod(statePatch("test_klp_state", 1))
	if r == nil || r.Errno != EINVAL || !strings.Contains(r.Error(), "Livepatch patch (test_klp_state) is not compatible with the already installed livepatches.") {
		t.Fatalf("got %v, want EINVAL with the kernel's message", r)
	}
	if k.Module("test_klp_state") != nil || listed(k) != "test_klp_state2" {
		t.Fatalf("a refused insmod changed the kernel: modules %v, sysfs %q", k.Modules(), listed(k))
	}
	c := k.StateConflict(true, []StateSpec{{ID: 1, Version: 1}})
	if c == nil || c.Installed.Module != "test_klp_state2" || c.State.Version != 2 || c.New != 1 {
		t.Fatalf("conflict = %+v", c)
	}
	// A replace patch without the state is refused; a non-replace one may
	// leave it alone.
	if c := k.StateConflict(true, nil); c == nil || c.New != -1 {
		t.Errorf("replace patch without state id 1: conflict %+v", c)
	}
	if c := k.StateConflict(false, nil); c != nil {
		t.Errorf("non-replace patch without state id 1: conflict %+v", c)
	}
	disable(t, k, "test_klp_state2")
}

func TestDisabledPatchCannotBeEnabledAgain(t *testing.T) {
	k := New(nil)
	load(t, k, testKlpLivepatch)
	ok(t, "disable", k.Disable("test_klp_livepatch"))
	// While the unpatching transition runs, writing 1 reverses it.
	ok(t, "reverse", k.Enable("test_klp_livepatch"))
	k.CompleteTransition()
	expect(t, k, "reverse", map[FuncID]string{fCmd: "test_klp_livepatch:livepatch_cmdline_proc_show"})
	if r := k.Enable("test_klp_livepatch"); r == nil || r.Errno != EINVAL {
		t.Fatalf("enable of an enabled patch: %v", r)
	}
	disable(t, k, "test_klp_livepatch")
	if r := k.Enable("test_klp_livepatch"); r == nil || r.Errno != ENOENT {
		t.Fatalf("enable after disable: got %v, want ENOENT (the sysfs directory is gone)", r)
	}
	if r := k.Disable("test_klp_livepatch"); r == nil || r.Errno != ENOENT {
		t.Fatalf("second disable: got %v, want ENOENT", r)
	}
}

func TestOneTransitionAtATime(t *testing.T) {
	k := New(nil)
	ok(t, "insmod", k.Insmod(testKlpLivepatch))
	if r := k.Insmod(testKlpSyscall); r == nil || r.Errno != EBUSY {
		t.Fatalf("insmod during a transition: got %v, want EBUSY", r)
	}
	if k.Module("test_klp_syscall") != nil || len(k.Patches()) != 1 {
		t.Fatal("the refused insmod left traces")
	}
	// Reversing the pending transition unpatches.
	ok(t, "reverse", k.Disable("test_klp_livepatch"))
	if got := k.Now(fCmd).String(); got != "original" {
		t.Errorf("after reversal %s", got)
	}
	k.CompleteTransition()
	if len(k.Patches()) != 0 {
		t.Fatalf("sysfs lists %q after the reversed patch completed", listed(k))
	}
	load(t, k, testKlpLivepatch2(t))
	ok(t, "insmod syscall", k.Insmod(testKlpSyscall))
	if r := k.Disable("lp_other"); r == nil || r.Errno != EBUSY {
		t.Fatalf("disable during another transition: got %v, want EBUSY", r)
	}
	k.CompleteTransition()
	disable(t, k, "lp_other")
}

func testKlpLivepatch2(t *testing.T) PatchSpec {
	t.Helper()
	return PatchSpec{Module: "lp_other", Objects: []ObjectSpec{vm(fn("version_proc_show", "lp_version"))}}
}

// TestStackingSeed004 is the sequence of the hybrid-mode thread under the
// 6.1 rules: the replace patch takes funcA back to the original.
func TestStackingSeed004(t *testing.T) {
	k := New(nil)
	load(t, k, PatchSpec{Module: "lp1", Objects: []ObjectSpec{vm(fn("funcA", "lp1_funcA"))}})
	expect(t, k, "lp1", map[FuncID]string{fA: "lp1:lp1_funcA", fB: "original"})
	load(t, k, PatchSpec{Module: "lp2", Objects: []ObjectSpec{vm(fn("funcA", "lp2_funcA"), fn("funcB", "lp2_funcB"))}})
	expect(t, k, "lp2", map[FuncID]string{fA: "lp2:lp2_funcA", fB: "lp2:lp2_funcB"})
	if n := len(k.Stack(fA)); n != 2 {
		t.Fatalf("funcA stack depth %d", n)
	}
	ok(t, "insmod lp3", k.Insmod(PatchSpec{Module: "lp3", Replace: true, Objects: []ObjectSpec{vm(fn("funcB", "lp3_funcB"))}}))
	// In transition: the nop for funcA sits on top of lp2 and lp1.
	if got := k.Resolve(fA, false).String(); got != "lp2:lp2_funcA" {
		t.Errorf("unswitched task: funcA runs %s", got)
	}
	if got := k.Resolve(fA, true).String(); got != "original" {
		t.Errorf("switched task: funcA runs %s", got)
	}
	k.CompleteTransition()
	expect(t, k, "lp3", map[FuncID]string{fA: "original", fB: "lp3:lp3_funcB"})
	if len(k.Stack(fA)) != 0 {
		t.Errorf("funcA still has a func_stack: %v", k.Stack(fA))
	}
	if got := listed(k); got != "lp3" {
		t.Errorf("sysfs lists %q", got)
	}
}

// TestSymposZeroAndOneUnderReplace: klp_find_func counts sympos 0 and 1
// as the same function, so a replace patch spelled (f, 1) over (f, 0)
// gets no nop of its own for f and loads (checked on the real kernel by
// the e2e sympos-spelling scenario).
func TestSymposZeroAndOneUnderReplace(t *testing.T) {
	k := New(nil)
	load(t, k, PatchSpec{Module: "gen1", Objects: []ObjectSpec{vm(FuncSpec{Name: "funcA", New: "a1", Sympos: 0})}})
	load(t, k, PatchSpec{Module: "gen2", Replace: true, Objects: []ObjectSpec{vm(FuncSpec{Name: "funcA", New: "a2", Sympos: 1})}})
	expect(t, k, "gen2", map[FuncID]string{fA: "gen2:a2"})
	if got := listed(k); got != "gen2" {
		t.Errorf("sysfs lists %q", got)
	}
	// Two funcs of one patch spelled 0 and 1 still collide in sysfs.
	r := k.Insmod(PatchSpec{Module: "twice", Objects: []ObjectSpec{vm(FuncSpec{Name: "funcB", New: "b0"}, FuncSpec{Name: "funcB", New: "b1", Sympos: 1})}})
	if r == nil || r.Errno != EEXIST || !strings.Contains(r.Error(), "funcB,1") {
		t.Fatalf("got %v, want EEXIST on funcB,1", r)
	}
}

type failingSymbols struct{ missing, untraceable string }

func (s failingSymbols) Find(object, name string, sympos int) *Refusal {
	if name == s.missing {
		return refuse(EINVAL, "livepatch: symbol '%s' not found in symbol table", name)
	}
	return nil
}

func (s failingSymbols) Traceable(object, name string, sympos int) *Refusal {
	if name == s.untraceable {
		return refuse(EINVAL, "livepatch: failed to find location for function '%s'", name)
	}
	return nil
}

func TestSymbolFailures(t *testing.T) {
	k := New(failingSymbols{missing: "nosuch", untraceable: "notrace_fn"})
	r := k.Insmod(PatchSpec{Module: "lpx", Objects: []ObjectSpec{vm(fn("nosuch", "x"))}})
	if r == nil || r.Errno != EINVAL {
		t.Fatalf("missing symbol: %v", r)
	}
	r = k.Insmod(PatchSpec{Module: "lpy", Objects: []ObjectSpec{vm(fn("funcA", "a"), fn("notrace_fn", "y"))}})
	if r == nil || r.Errno != EINVAL || !strings.Contains(fmt.Sprint(r.Log), "failed to enable patch 'lpy'") {
		t.Fatalf("untraceable: %v", r)
	}
	if len(k.Stack(fA)) != 0 || len(k.Patches()) != 0 {
		t.Fatal("a failed enable left funcA patched")
	}
	if p, _ := k.Transition(); p != nil {
		t.Fatal("a failed enable left a transition")
	}
	// A module whose patch cannot be applied is refused, and the patches
	// applied to it before are reverted.
	load(t, k, PatchSpec{Module: "good", Objects: []ObjectSpec{{Name: "mod", Funcs: []FuncSpec{fn("m1", "g1")}}}})
	load(t, k, PatchSpec{Module: "bad", Objects: []ObjectSpec{{Name: "mod", Funcs: []FuncSpec{fn("nosuch", "b1")}}}})
	r = k.Modprobe("mod")
	if r == nil || !strings.Contains(fmt.Sprint(r.Log), "refusing to load module 'mod'") {
		t.Fatalf("modprobe: %v", r)
	}
	if k.Loaded("mod") || len(k.Stack(FuncID{Object: "mod", Name: "m1", Pos: 1})) != 0 {
		t.Fatal("refused module left loaded or patched")
	}
}

// TestModuleRelocsApplyOnce: 6.1 writes a livepatch's .klp.rela sections
// for a module when the module comes and never clears them, so the module
// cannot come a second time while the livepatch is loaded (checked on the
// real kernel by the e2e module-symbols scenario).
func TestModuleRelocsApplyOnce(t *testing.T) {
	spec := PatchSpec{Module: "lp", Objects: []ObjectSpec{{Name: "mod", Relocs: true, Funcs: []FuncSpec{fn("f", "g")}}}}
	f := FuncID{Object: "mod", Name: "f", Pos: 1}
	k := New(nil)
	load(t, k, spec)
	ok(t, "modprobe", k.Modprobe("mod"))
	expect(t, k, "first load", map[FuncID]string{f: "lp:g"})
	ok(t, "rmmod", k.Rmmod("mod"))
	r := k.Modprobe("mod")
	if r == nil || r.Errno != ENOEXEC || !strings.Contains(fmt.Sprint(r.Log), "refusing to load module 'mod'") {
		t.Fatalf("second modprobe: got %v, want ENOEXEC", r)
	}
	expect(t, k, "refused", map[FuncID]string{f: "absent"})
	disable(t, k, "lp")
	ok(t, "modprobe once the patch is gone", k.Modprobe("mod"))

	// Loaded before the patch: the relocations are written at enable.
	k = New(nil, "mod")
	load(t, k, spec)
	ok(t, "rmmod", k.Rmmod("mod"))
	if r := k.Modprobe("mod"); r == nil || r.Errno != ENOEXEC {
		t.Fatalf("modprobe after enable-time relocation: %v", r)
	}
	// Without module relocations the module comes back as often as it likes.
	k = New(nil)
	spec.Objects[0].Relocs = false
	load(t, k, spec)
	for i := 0; i < 3; i++ {
		ok(t, "modprobe", k.Modprobe("mod"))
		ok(t, "rmmod", k.Rmmod("mod"))
	}
}
