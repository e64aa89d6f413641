package klp

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

func TestLineFor(t *testing.T) {
	for _, c := range []struct {
		release string
		line    Line
		exact   bool
	}{
		{"6.1.0-56-amd64", Line6_1, true},
		{"6.1.192", Line6_1, true},
		{"6.12.57+deb13-amd64", Line6_12, true},
		{"6.12.117+deb12-amd64", Line6_12, true},
		{"7.2.13+deb14-amd64", Line7, true},
		{"7.3.1", Line7, false},
		{"8.0", Line7, false},
		{"6.6.0-1-amd64", Line6_1, false},
		{"6.19.2", Line6_12, false},
		{"5.10.0-30-amd64", Line6_1, false},
		{"6.12-rc3", Line6_12, true},
	} {
		line, exact, err := LineFor(c.release)
		if err != nil || line != c.line || exact != c.exact {
			t.Errorf("LineFor(%q) = %v, %v, %v; want %v, %v", c.release, line, exact, err, c.line, c.exact)
		}
	}
	for _, bad := range []string{"", "6", "six.one", "6.", ".1", "-1.2", "6.x", "99999.1"} {
		if _, _, err := LineFor(bad); err == nil || !strings.Contains(err.Error(), fmt.Sprintf("%q", bad)) {
			t.Errorf("LineFor(%q): err %v, want one naming the release", bad, err)
		}
	}
}

func FuzzLineFor(f *testing.F) {
	for _, s := range []string{"6.1.0-56-amd64", "7.3.1", "6.12.57+deb13-amd64", "", "1.2.3.4", "6.x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, release string) {
		line, _, err := LineFor(release)
		if err == nil && !slices.Contains(Lines(), line) {
			t.Fatalf("LineFor(%q) = %v, not a modelled line", release, line)
		}
	})
}

func TestLineRules(t *testing.T) {
	for _, c := range []struct {
		line                          Line
		clears, replace, order        bool
		eexist                        Errno
		switchPoint, name, verifiedAt string
	}{
		{Line6_1, false, false, false, EEXIST, "none", "6.1", "6.1"},
		{Line6_12, true, true, false, EEXIST, "cond_resched", "6.12", "6.12"},
		{Line7, true, true, true, EBUSY, "__schedule", "7.x", "7.2"},
	} {
		l := c.line
		if l.ClearsModuleRelocs() != c.clears || l.SysfsReplace() != c.replace || l.SysfsStackOrder() != c.order ||
			l.InitErrno(EEXIST) != c.eexist || l.InitErrno(ENODEV) != ENODEV || l.SwitchPoints() != c.switchPoint ||
			l.String() != c.name || l.Verified() != c.verifiedAt {
			t.Errorf("line %v: rules differ from the table", l)
		}
	}
	if k := NewLine(Line(42), nil); k.Line() != Line6_1 {
		t.Errorf("an unknown line is modelled as %v", k.Line())
	}
	if k := New(nil); k.Line() != Line6_1 {
		t.Errorf("New models %v, want 6.1", k.Line())
	}
}

// TestModuleRelocsPerLine: 6.1 leaves a livepatch's module relocations
// written when the module goes, so it cannot come back (ENOEXEC); 6.12 and
// 7.x clear them in klp_cleanup_module_patches_limited and the module is
// patched again (both seen on the real kernels, kernel-lines.md).
func TestModuleRelocsPerLine(t *testing.T) {
	spec := PatchSpec{Module: "lp", Objects: []ObjectSpec{{Name: "mod", Relocs: true, Funcs: []FuncSpec{fn("f", "g")}}}}
	f := FuncID{Object: "mod", Name: "f", Pos: 1}
	for _, line := range Lines() {
		k := NewLine(line, nil, "mod")
		load(t, k, spec)
		ok(t, "rmmod", k.Rmmod("mod"))
		r := k.Modprobe("mod")
		if line == Line6_1 {
			if r == nil || r.Errno != ENOEXEC {
				t.Errorf("%v: modprobe after rmmod: %v, want ENOEXEC", line, r)
			}
			expect(t, k, "refused reload", map[FuncID]string{f: "absent"})
			continue
		}
		if r != nil {
			t.Errorf("%v: modprobe after rmmod: %v", line, r)
			continue
		}
		expect(t, k, "reload", map[FuncID]string{f: "lp:g"})
		// And again: each going clears what the coming wrote.
		ok(t, "rmmod", k.Rmmod("mod"))
		ok(t, "modprobe", k.Modprobe("mod"))
		expect(t, k, "second reload", map[FuncID]string{f: "lp:g"})
	}
}

func TestSysfsPerLine(t *testing.T) {
	paths := func(k *Kernel) []string {
		var out []string
		for _, p := range k.Sysfs() {
			for _, f := range p.Files() {
				out = append(out, f.Path+" "+f.Mode+" "+f.Value)
			}
		}
		return out
	}
	common := []string{
		"test_klp_livepatch drwxr-xr-x ",
		"test_klp_livepatch/enabled -rw-r--r-- 1",
		"test_klp_livepatch/force --w------- ",
	}
	tail := []string{
		"test_klp_livepatch/transition -r--r--r-- 0",
		"test_klp_livepatch/vmlinux drwxr-xr-x ",
		"test_klp_livepatch/vmlinux/patched -r--r--r-- 1",
		"test_klp_livepatch/vmlinux/cmdline_proc_show,1 drwxr-xr-x ",
	}
	want := map[Line][]string{
		Line6_1:  slices.Concat(common, tail),
		Line6_12: slices.Concat(common, []string{"test_klp_livepatch/replace -r--r--r-- 0"}, tail),
		Line7:    slices.Concat(common, []string{"test_klp_livepatch/replace -r--r--r-- 0", "test_klp_livepatch/stack_order -r--r--r-- 1"}, tail),
	}
	for _, line := range Lines() {
		k := NewLine(line, nil)
		load(t, k, testKlpLivepatch)
		if got := paths(k); !slices.Equal(got, want[line]) {
			t.Errorf("%v: sysfs\n%s\nwant\n%s", line, strings.Join(got, "\n"), strings.Join(want[line], "\n"))
		}
	}

	// stack_order is the position in klp_patches, renumbered when a patch
	// goes (test-sysfs.sh "sysfs test stack_order value").
	k := NewLine(Line7, nil)
	load(t, k, testKlpLivepatch)
	load(t, k, testKlpCallbackDemo)
	load(t, k, testKlpSyscall)
	order := func() string {
		var s []string
		for _, p := range k.Sysfs() {
			s = append(s, fmt.Sprintf("%s=%d", p.Name, p.StackOrder))
		}
		return strings.Join(s, " ")
	}
	if got := order(); got != "test_klp_livepatch=1 test_klp_callbacks_demo=2 test_klp_syscall=3" {
		t.Errorf("stack_order %s", got)
	}
	disable(t, k, "test_klp_callbacks_demo")
	if got := order(); got != "test_klp_livepatch=1 test_klp_syscall=2" {
		t.Errorf("stack_order after removing the middle patch: %s", got)
	}
	// During a transition the patch shows transition 1, and an absent
	// module's object patched 0.
	ok(t, "rmmod", k.Rmmod("test_klp_callbacks_demo"))
	ok(t, "insmod", k.Insmod(testKlpCallbackDemo))
	p := k.Sysfs()[2]
	if !p.Transition || p.Objects[1].Name != "test_klp_callbacks_mod" || p.Objects[1].Patched || !p.Objects[0].Patched {
		t.Errorf("sysfs during the transition: %+v", p)
	}
}

// TestDuplicateFuncNamesPerLine: two klp_funcs of one object whose sysfs
// names collide ("f,1" for sympos 0 and 1) make kobject_add fail in
// klp_init_func with -EEXIST before anything is patched; the module's init
// returns it, which insmod shows as "File exists" on 6.1 and 6.12 and as
// "Device or resource busy" on 7.x (do_init_module; seen on 6.12 and 7.2).
func TestDuplicateFuncNamesPerLine(t *testing.T) {
	dup := PatchSpec{Module: "lp_dup", Objects: []ObjectSpec{
		vm(fn("funcA", "a1"), FuncSpec{Name: "funcB", New: "b0"}, FuncSpec{Name: "funcB", New: "b1", Sympos: 1}),
	}}
	// Sympos 1 and 2 are two functions: no collision.
	distinct := PatchSpec{Module: "lp_two", Objects: []ObjectSpec{
		vm(FuncSpec{Name: "funcB", New: "b1", Sympos: 1}, FuncSpec{Name: "funcB", New: "b2", Sympos: 2}),
	}}
	// A patch on the livepatch module itself sees it come and go.
	watcher := PatchSpec{Module: "lp_watch", Objects: []ObjectSpec{{Name: "lp_dup", Callbacks: Callbacks{PrePatch: true, PostPatch: true, PreUnpatch: true, PostUnpatch: true}}}}
	for _, line := range Lines() {
		k := NewLine(line, nil)
		load(t, k, watcher)
		k.TakeTrace()
		r := k.Insmod(dup)
		want := map[Line]Errno{Line6_1: EEXIST, Line6_12: EEXIST, Line7: EBUSY}[line]
		if r == nil || r.Errno != want || !strings.Contains(r.Error(), "cannot create duplicate filename '/kernel/livepatch/lp_dup/vmlinux/funcB,1'") {
			t.Errorf("%v: insmod: %v, want %v naming funcB,1", line, r, want)
		}
		if k.Module("lp_dup") != nil || listed(k) != "lp_watch" || len(k.Stack(fA)) != 0 {
			t.Errorf("%v: the refused module left traces: modules %v, sysfs %q", line, k.Modules(), listed(k))
		}
		// klp_module_coming ran for lp_dup, and the failed init ran
		// klp_module_going.
		got := strings.Join(eventStrings(k.TakeTrace()), "\n")
		wantTrace := strings.Join([]string{
			"applying patch 'lp_watch' to loading module 'lp_dup'",
			"lp_watch: pre_patch lp_dup (MODULE_STATE_COMING)",
			"lp_watch: post_patch lp_dup (MODULE_STATE_COMING)",
			"lp_watch: pre_unpatch lp_dup (MODULE_STATE_GOING)",
			"reverting patch 'lp_watch' on unloading module 'lp_dup'",
			"lp_watch: post_unpatch lp_dup (MODULE_STATE_GOING)",
		}, "\n")
		if got != wantTrace {
			t.Errorf("%v: trace\n%s\nwant\n%s", line, got, wantTrace)
		}
		load(t, k, distinct)
	}
}

func eventStrings(events []Event) []string {
	var out []string
	for _, e := range events {
		out = append(out, e.String())
	}
	return out
}

// TestSameOnAllLines runs the rules SameOnAllLines names through one
// sequence on every line: sympos, states, replace with nops over an absent
// module, module coming and going, callbacks. Everything observable must
// be identical.
func TestSameOnAllLines(t *testing.T) {
	run := func(line Line) string {
		var out []string
		k := NewLine(line, nil)
		note := func(step string, r *Refusal) {
			k.CompleteTransition()
			out = append(out, "# "+step+fmt.Sprint(" ", r))
			out = append(out, eventStrings(k.TakeTrace())...)
			for _, id := range []FuncID{fA, fB, fBusy, {Object: Vmlinux, Name: "funcB", Pos: 2}} {
				out = append(out, fmt.Sprintf("%s,%d=%s", id.Name, id.Pos, k.Now(id)))
			}
			out = append(out, "listed="+listed(k))
		}
		all := Callbacks{PrePatch: true, PostPatch: true, PreUnpatch: true, PostUnpatch: true}
		note("lp1", k.Insmod(PatchSpec{Module: "lp1", States: []StateSpec{{ID: 1, Version: 1}}, Objects: []ObjectSpec{
			{Name: Vmlinux, Callbacks: all, Funcs: []FuncSpec{fn("funcA", "a1"), {Name: "funcB", New: "b2", Sympos: 2}}},
			{Name: "test_klp_callbacks_busy", Callbacks: all, Funcs: []FuncSpec{fn("busymod_work_func", "w1")}},
		}}))
		note("modprobe", k.Modprobe("test_klp_callbacks_busy"))
		note("lp2 v0", k.Insmod(statePatch("lp2", 0)))
		note("lp2 v1", k.Insmod(PatchSpec{Module: "lp3", Replace: true, States: []StateSpec{{ID: 1, Version: 1}}, Objects: []ObjectSpec{
			{Name: Vmlinux, Callbacks: all, Funcs: []FuncSpec{{Name: "funcA", New: "a3", Sympos: 1}}},
		}}))
		note("rmmod busy", k.Rmmod("test_klp_callbacks_busy"))
		note("rmmod lp1", k.Rmmod("lp1"))
		note("disable", k.Disable("lp3"))
		return strings.Join(out, "\n")
	}
	base := run(Line6_1)
	for _, line := range Lines()[1:] {
		if got := run(line); got != base {
			t.Errorf("%v differs from 6.1:\n%s\n---- 6.1:\n%s", line, got, base)
		}
	}
	if !strings.Contains(base, "a3") || !strings.Contains(base, "w1") {
		t.Fatalf("the sequence did not patch what it should:\n%s", base)
	}
}
