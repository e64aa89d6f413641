package klp

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// The kernel's own livepatch selftests (tools/testing/selftests/livepatch
// of each line) are replayed on the model: their commands run as model
// operations and the kernel log lines the tests expect from the livepatch
// core and from the test modules' callbacks must come out in the same
// order. testdata/selftests/<line>.txt holds the scenarios read from each
// line's scripts; KLPC_UPDATE=1 rereads them from the kernel source
// unpacked under .cache/src/<line> (testdata/unpack-kernel-source.sh).

// selftestScripts are the scripts whose commands the model can express.
// test-ftrace.sh (ftrace_enabled sysctl, function tracer), test-kprobe.sh
// (kprobes holding IPMODIFY), test-syscall.sh (user processes hammering
// getpid) and test-shadow-vars.sh (the shadow variable API called from a
// module init) exercise what the model does not hold.
var selftestScripts = []string{"test-callbacks.sh", "test-livepatch.sh", "test-state.sh", "test-sysfs.sh"}

var selftestLines = map[Line]string{Line6_1: "6.1", Line6_12: "6.12", Line7: "7.2"}

type scenario struct {
	Script, Name string
	Commands     []string
	Expected     []string
}

// callbackLine matches what the test modules print from a callback.
var callbackLine = regexp.MustCompile(`^[a-z0-9_]+: (pre|post)_(un)?patch_callback: `)

// keepExpected reports whether an expected line is one the model
// produces: the livepatch core's, a callback's, or a failed insmod.
func keepExpected(line string) (string, bool) {
	switch {
	case strings.HasPrefix(line, "livepatch: "), callbackLine.MatchString(line):
		return line, true
	case strings.Contains(line, "ERROR: could not insert"):
		text := line[strings.LastIndex(line, ": ")+2:]
		if e, ok := insmodErrors[text]; ok {
			text = e.Text()
		}
		return "ERROR: " + text, true
	case strings.HasSuffix(line, ": this has been live patched"):
		return line, true
	}
	return "", false
}

// insmodErrors are the texts kmod's insmod prints instead of strerror
// (6.12 and 7.x scripts use insmod, 6.1's modprobe prints strerror).
var insmodErrors = map[string]Errno{"Invalid parameters": EINVAL}

// livePatched maps the files the selftests grep for "live patched" to the
// function that prints them.
var livePatched = map[string]FuncID{"/proc/cmdline": fCmd, "/proc/meminfo": fMem}

var (
	assignment = regexp.MustCompile(`^\s*([A-Za-z][A-Za-z0-9_]*)=(\S*)\s*$`)
	forLoop    = regexp.MustCompile(`^for ([A-Za-z_][A-Za-z0-9_]*) in (.*); do$`)
)

// parseSelftest reads the scenarios of one selftest script: the commands
// between start_test and check_result, and the expected lines the model
// is compared on. Shell variables are substituted as the script sets them;
// if-blocks that only die are dropped, the others are taken (each line's
// scripts test only attributes that line has).
func parseSelftest(script, text string) ([]scenario, error) {
	vars := map[string]string{"SYSFS_KLP_DIR": "/sys/kernel/livepatch"}
	subst := func(s string) string {
		return os.Expand(s, func(v string) string { return vars[v] })
	}
	var out []scenario
	var cur *scenario
	lines := strings.Split(text, "\n")
	for i := 0; i < len(lines); i++ {
		line := strings.TrimSpace(lines[i])
		if m := forLoop.FindStringSubmatch(line); m != nil {
			// Unroll "for VAR in A B; do ... done".
			j := i + 1
			for j < len(lines) && strings.TrimSpace(lines[j]) != "done" {
				j++
			}
			var unrolled []string
			for _, item := range strings.Fields(subst(m[2])) {
				unrolled = append(unrolled, m[1]+"="+strings.Trim(item, `"`))
				unrolled = append(unrolled, lines[i+1:min(j, len(lines))]...)
			}
			lines = slices.Concat(lines[:i+1], unrolled, lines[min(j+1, len(lines)):])
			continue
		}
		switch {
		case line == "" || strings.HasPrefix(line, "#"):
		case assignment.MatchString(line):
			m := assignment.FindStringSubmatch(line)
			vars[m[1]] = subst(strings.Trim(m[2], `"`))
		case strings.HasPrefix(line, "if ") && strings.HasSuffix(line, "then"):
			// Drop a block that only fails the test.
			j := i + 1
			for j < len(lines) && strings.TrimSpace(lines[j]) != "fi" {
				j++
			}
			block := strings.Join(lines[i+1:min(j, len(lines))], "\n")
			if strings.Contains(block, "die ") && !strings.Contains(block, "start_test") {
				i = j
			}
		case line == "fi":
		case strings.HasPrefix(line, "start_test "):
			out = append(out, scenario{Script: script, Name: strings.Trim(strings.TrimPrefix(line, "start_test "), `"`)})
			cur = &out[len(out)-1]
		case strings.HasPrefix(line, "check_result "):
			if cur == nil {
				return nil, fmt.Errorf("%s:%d: check_result outside a test", script, i+1)
			}
			body := strings.TrimPrefix(line, `check_result "`)
			for !strings.HasSuffix(body, `"`) {
				i++
				if i >= len(lines) {
					return nil, fmt.Errorf("%s: unterminated check_result", script)
				}
				body += "\n" + lines[i]
			}
			for _, l := range strings.Split(subst(strings.TrimSuffix(body, `"`)), "\n") {
				if k, ok := keepExpected(l); ok {
					cur.Expected = append(cur.Expected, k)
				}
			}
			cur = nil
		case cur != nil:
			f := strings.Fields(subst(line))
			if len(f) > 0 && !strings.HasPrefix(f[0], "check_sysfs") {
				for i := range f {
					f[i] = strings.Trim(f[i], `"`)
				}
			}
			if len(f) > 0 && slices.Contains([]string{"load_mod", "load_lp", "load_lp_nowait", "load_failing_mod", "unload_mod", "unload_lp",
				"disable_lp", "set_pre_patch_ret", "check_sysfs_rights", "check_sysfs_value", "loop_until"}, f[0]) ||
				len(f) > 2 && f[0] == "grep" && f[1] == "'live" {
				cur.Commands = append(cur.Commands, strings.Join(f, " "))
			}
		}
	}
	return out, nil
}

// testModule is the struct klp_patch of a selftest livepatch module with
// its parameters applied; ok is false for an ordinary module.
func testModule(name string, params map[string]string) (PatchSpec, bool) {
	all := Callbacks{PrePatch: true, PostPatch: true, PreUnpatch: true, PostUnpatch: true}
	if v, err := strconv.Atoi(params["pre_patch_ret"]); err == nil && v < 0 {
		all.PrePatchErr = Errno(-v)
	}
	replace := params["replace"] == "1"
	cb := func(name string, funcs ...FuncSpec) ObjectSpec {
		return ObjectSpec{Name: name, Funcs: funcs, Callbacks: all}
	}
	state := func(version int64) PatchSpec {
		return PatchSpec{Module: name, Replace: true, Objects: []ObjectSpec{cb(Vmlinux)}, States: []StateSpec{{ID: 1, Version: version}}}
	}
	switch name {
	case "test_klp_livepatch":
		return testKlpLivepatch, true
	case "test_klp_syscall":
		return testKlpSyscall, true
	case "test_klp_atomic_replace":
		return atomicReplace(replace), true
	case "test_klp_callbacks_demo":
		return PatchSpec{Module: name, Objects: []ObjectSpec{cb(Vmlinux), cb("test_klp_callbacks_mod"),
			cb("test_klp_callbacks_busy", fn("busymod_work_func", "patched_work_func"))}}, true
	case "test_klp_callbacks_demo2":
		return PatchSpec{Module: name, Replace: replace, Objects: []ObjectSpec{cb(Vmlinux)}}, true
	case "test_klp_state":
		return state(1), true
	case "test_klp_state2", "test_klp_state3":
		return state(2), true
	case "test_klp_mod_patch":
		return PatchSpec{Module: name, Objects: []ObjectSpec{{Name: "test_klp_mod_target", Funcs: []FuncSpec{fn("test_klp_mod_target_show", "livepatch_mod_target_show")}}}}, true
	}
	return PatchSpec{}, false
}

// selftestLog turns the model's trace into the lines the selftests expect.
func selftestLog(events []Event) []string {
	desc := map[ModuleState]string{
		ModuleLive:   "[MODULE_STATE_LIVE] Normal state",
		ModuleComing: "[MODULE_STATE_COMING] Full formed, running module_init",
		ModuleGoing:  "[MODULE_STATE_GOING] Going away",
	}
	var out []string
	for _, e := range events {
		switch {
		case e.Callback == 0:
			out = append(out, "livepatch: "+e.Text)
		case e.Object == Vmlinux:
			out = append(out, fmt.Sprintf("%s: %s_callback: vmlinux", e.Patch, e.Callback))
		default:
			out = append(out, fmt.Sprintf("%s: %s_callback: %s -> %s", e.Patch, e.Callback, e.Object, desc[e.State]))
		}
	}
	return out
}

// busyWorker is the kworker that test_klp_callbacks_busy's work item
// keeps sleeping in busymod_work_func while block_transition is set.
const busyWorker = "kworker/busymod"

var fBusyWork = FuncID{Object: "test_klp_callbacks_busy", Name: "busymod_work_func", Pos: 1}

// runScenario replays a scenario's commands on a fresh kernel of the line.
func runScenario(t *testing.T, line Line, sc scenario) []string {
	t.Helper()
	k := NewLine(line, nil)
	var log []string
	flush := func() { log = append(log, selftestLog(k.TakeTrace())...) }
	for _, c := range sc.Commands {
		f := strings.Fields(c)
		name := ""
		if len(f) > 1 {
			name = f[1]
		}
		params := map[string]string{}
		for _, p := range f[min(2, len(f)):] {
			if kv := strings.SplitN(p, "=", 2); len(kv) == 2 {
				params[kv[0]] = kv[1]
			}
		}
		load := func() *Refusal {
			if spec, ok := testModule(name, params); ok {
				return k.Insmod(spec)
			}
			if r := k.Modprobe(name); r != nil {
				return r
			}
			if name == "test_klp_callbacks_busy" && (params["block_transition"] == "Y" || params["block_transition"] == "1") {
				k.Block(busyWorker, fBusyWork)
			}
			return nil
		}
		switch f[0] {
		case "load_mod", "load_lp", "load_lp_nowait":
			if r := load(); r != nil {
				t.Fatalf("%s: %v", c, r)
			}
			if f[0] == "load_lp" {
				if done, stuck := k.TryCompleteTransition(); !done {
					t.Fatalf("%s: transition stuck: %v", c, stuck)
				}
			} else {
				k.TryCompleteTransition()
			}
		case "load_failing_mod":
			r := load()
			if r == nil {
				t.Fatalf("%s: loaded", c)
			}
			flush()
			log = append(log, "ERROR: "+r.Errno.Text())
		case "unload_mod", "unload_lp":
			if name == "test_klp_callbacks_busy" {
				k.Release(busyWorker) // its exit clears block_transition
				k.TryCompleteTransition()
			}
			if r := k.Rmmod(name); r != nil {
				t.Fatalf("%s: %v", c, r)
			}
		case "disable_lp":
			if r := k.Disable(name); r != nil {
				t.Fatalf("%s: %v", c, r)
			}
			if done, stuck := k.TryCompleteTransition(); !done {
				t.Fatalf("%s: transition stuck: %v", c, stuck)
			}
		case "set_pre_patch_ret":
			v, _ := strconv.Atoi(f[2])
			errno := Errno(0)
			if v < 0 {
				errno = Errno(-v)
			}
			if r := k.SetPrePatchErr(name, "", errno); r != nil {
				t.Fatalf("%s: %v", c, r)
			}
		case "loop_until":
			if strings.Contains(c, "transition") {
				if p, _ := k.Transition(); p == nil {
					t.Fatalf("%s: no transition is pending", c)
				}
			} else {
				k.TryCompleteTransition()
			}
		case "check_sysfs_rights", "check_sysfs_value":
			checkSysfs(t, k, f)
		case "grep":
			// grep 'live patched' FILE > /dev/kmsg: the replacement's output.
			for _, file := range f[3:] {
				if id, ok := livePatched[file]; ok {
					if impl := k.Now(id); impl.Patch != "" {
						log = append(log, impl.Patch+": this has been live patched")
					}
				}
			}
		}
		flush()
	}
	return log
}

func checkSysfs(t *testing.T, k *Kernel, f []string) {
	t.Helper()
	if len(f) < 3 {
		t.Fatalf("%v: too few arguments", f)
	}
	path := strings.Trim(f[1], `"`)
	want := ""
	if len(f) > 3 {
		if sub := strings.Trim(f[2], `"`); sub != "" {
			path += "/" + sub
		}
		want = strings.Trim(f[3], `"`)
	} else {
		want = strings.Trim(f[2], `"`)
	}
	for _, p := range k.Sysfs() {
		for _, file := range p.Files() {
			if file.Path != path {
				continue
			}
			got := file.Value
			if f[0] == "check_sysfs_rights" {
				got = file.Mode
			}
			if got != want {
				t.Errorf("%s: %s is %q, want %q", strings.Join(f, " "), path, got, want)
			}
			return
		}
	}
	t.Errorf("%s: /sys/kernel/livepatch/%s does not exist", strings.Join(f, " "), path)
}

// The testdata format: "== script: name", "$ command" and "> expected".
func writeScenarios(scs []scenario) string {
	var b strings.Builder
	for _, sc := range scs {
		fmt.Fprintf(&b, "== %s: %s\n", sc.Script, sc.Name)
		for _, c := range sc.Commands {
			fmt.Fprintf(&b, "$ %s\n", c)
		}
		for _, e := range sc.Expected {
			fmt.Fprintf(&b, "> %s\n", e)
		}
	}
	return b.String()
}

func readScenarios(text string) ([]scenario, error) {
	var out []scenario
	sc := bufio.NewScanner(strings.NewReader(text))
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "== "):
			script, name, ok := strings.Cut(strings.TrimPrefix(line, "== "), ": ")
			if !ok {
				return nil, fmt.Errorf("line %d: want \"== script: name\"", n)
			}
			out = append(out, scenario{Script: script, Name: name})
		case len(out) == 0:
			return nil, fmt.Errorf("line %d: text before the first scenario", n)
		case strings.HasPrefix(line, "$ "):
			out[len(out)-1].Commands = append(out[len(out)-1].Commands, line[2:])
		case strings.HasPrefix(line, "> "):
			out[len(out)-1].Expected = append(out[len(out)-1].Expected, line[2:])
		default:
			return nil, fmt.Errorf("line %d: unknown line %q", n, line)
		}
	}
	return out, nil
}

func TestKernelSelftests(t *testing.T) {
	for _, line := range Lines() {
		ver := selftestLines[line]
		golden := filepath.Join("testdata", "selftests", ver+".txt")
		if os.Getenv("KLPC_UPDATE") == "1" {
			var all []scenario
			for _, s := range selftestScripts {
				src := filepath.Join("..", "..", ".cache", "src", ver, "tools", "testing", "selftests", "livepatch", s)
				text, err := os.ReadFile(src)
				if err != nil {
					t.Fatalf("%v (run plan/klp/testdata/unpack-kernel-source.sh first)", err)
				}
				scs, err := parseSelftest(s, string(text))
				if err != nil {
					t.Fatal(err)
				}
				all = append(all, scs...)
			}
			if err := os.MkdirAll(filepath.Dir(golden), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(golden, []byte(writeScenarios(all)), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		text, err := os.ReadFile(golden)
		if err != nil {
			t.Fatal(err)
		}
		scs, err := readScenarios(string(text))
		if err != nil {
			t.Fatalf("%s: %v", golden, err)
		}
		for _, sc := range scs {
			t.Run(line.String()+"/"+sc.Script+"/"+sc.Name, func(t *testing.T) {
				got := runScenario(t, line, sc)
				if !slices.Equal(got, sc.Expected) {
					t.Errorf("kernel log differs from %s %s\n got:\n\t%s\nwant:\n\t%s", ver, sc.Script,
						strings.Join(got, "\n\t"), strings.Join(sc.Expected, "\n\t"))
				}
			})
		}
	}
}
