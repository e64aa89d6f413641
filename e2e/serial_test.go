package e2e

import (
	"encoding/base64"
	"fmt"
	"os/exec"
	"reflect"
	"strings"
	"testing"
)

// encode formats a record as the guest writes it.
func encode(r Record) string {
	s, p := "-", "-"
	if r.Scenario >= 0 {
		s, p = fmt.Sprint(r.Scenario), r.Phase
	}
	v := base64.StdEncoding.EncodeToString([]byte(r.Value))
	if v == "" {
		v = "-"
	}
	return fmt.Sprintf("@@KLPC %s %s %s %s", s, p, r.Key, v)
}

// transcript builds serial output from records, closing it with the end
// record, as the guest would.
func transcript(recs []Record) string {
	var b strings.Builder
	for _, r := range recs {
		b.WriteString(encode(r) + "\r\n")
	}
	fmt.Fprintf(&b, "@@KLPC - - end %s\r\n", base64.StdEncoding.EncodeToString([]byte(fmt.Sprint(len(recs)))))
	return b.String()
}

// cannedRecords is what the guest reports for the canned scenario below.
var cannedRecords = []Record{
	{-1, "-", "cmdline", "console=ttyS0 panic=-1 quiet"},
	{0, "pre", "start", "clean"},
	{0, "pre", "preload", "klpc_probe 0 "},
	{0, "pre", "settle", "ok"},
	{0, "pre", "dmesg", "[    1.500000] klpc_probe: loading out-of-tree module taints kernel.\n"},
	{0, "pre", "modules", " klpc_probe"},
	{0, "pre", "src:cmdline", "console=ttyS0 panic=-1 quiet\n"},
	{0, "pre", "src:klpc_probe", "klpc_probe_alpha original\nklpc_probe_beta original\nklpc_probe_gamma original\nklpc_probe_delta original\n"},
	{0, "pre", "done", ""},
	{0, "1", "rc", "0"},
	{0, "1", "out", ""},
	{0, "1", "settle", "ok"},
	{0, "1", "dmesg", "[    2.000000] lp_a: tainting kernel with TAINT_LIVEPATCH\n[    2.000001] livepatch: enabling patch 'lp_a'\n[    2.500000] livepatch: 'lp_a': patching complete"},
	{0, "1", "patch", "lp_a 1 0"},
	{0, "1", "modules", " lp_a klpc_probe"},
	{0, "1", "src:cmdline", "lp_a:livepatch_cmdline_proc_show\n"},
	{0, "1", "src:klpc_probe", "klpc_probe_alpha lp_a:livepatch_klpc_probe_alpha\nklpc_probe_beta original\n"},
	{0, "1", "done", ""},
	{0, "2", "rc", "1"},
	{0, "2", "out", "insmod: /m/1/lp_b.ko: invalid argument (EINVAL)\n"},
	{0, "2", "settle", "timeout"},
	{0, "2", "dmesg", "[    3.000000] livepatch: Livepatch patch (lp_b) is not compatible with the already installed livepatches."},
	{0, "2", "patch", "lp_z 0 1"},
	{0, "2", "patch", "lp_a 1 0"},
	{0, "2", "modules", ""},
	{0, "2", "src:cmdline", "console=ttyS0 panic=-1 quiet"},
	{0, "2", "nosrc:klpc_probe", ""},
	{0, "2", "done", ""},
	{0, "post", "dmesg", ""},
	{0, "post", "clean", "1"},
}

var cannedScenario = Scenario{
	Name:    "canned",
	Modules: map[string]string{"klpc_probe": "p.ko", "lp_a": "a.ko", "lp_b": "b.ko"},
	Preload: []string{"klpc_probe"},
	Steps:   []Step{{Action: ActionLoad, Module: "lp_a"}, {Action: ActionLoad, Module: "lp_b"}},
	Observe: []string{ObserveCmdline, "klpc_probe:klpc_probe_alpha", "klpc_probe:klpc_probe_beta", "klpc_probe:klpc_probe_gamma"},
}

func TestParseSerialRoundTrip(t *testing.T) {
	// Kernel messages around and before records, as on a shared console.
	noise := "[    0.000000] Linux version 6.1.0-56-amd64\r\n" +
		"random text @@KLPC-POWEROFF\r\n"
	text := transcript(cannedRecords)
	lines := strings.SplitAfter(text, "\n")
	mixed := noise + lines[0] + "[    2.1] livepatch: enabling patch 'x'\r\n" +
		"[    2.2] kernel says something " + strings.Join(lines[1:], "")
	recs, complete, err := ParseSerial([]byte(mixed))
	if err != nil || !complete {
		t.Fatalf("ParseSerial: complete %v, err %v", complete, err)
	}
	if !reflect.DeepEqual(recs, cannedRecords) {
		t.Fatalf("records differ:\n got %+v\nwant %+v", recs, cannedRecords)
	}
}

func TestParseSerialDamage(t *testing.T) {
	text := transcript(cannedRecords[:4])
	lines := strings.Split(text, "\n")

	// A lost record: the count no longer matches.
	lost := strings.Join(append(append([]string{}, lines[:1]...), lines[2:]...), "\n")
	if _, complete, err := ParseSerial([]byte(lost)); complete || err == nil {
		t.Errorf("lost record: complete %v, err %v", complete, err)
	}
	// A guest that stopped early: no end record, no error.
	early := strings.Join(lines[:2], "\n")
	recs, complete, err := ParseSerial([]byte(early))
	if complete || err != nil || len(recs) != 2 {
		t.Errorf("early stop: %d records, complete %v, err %v", len(recs), complete, err)
	}
	// Malformed records.
	for _, bad := range []string{
		"@@KLPC 0 pre key",
		"@@KLPC 0 pre key !!!",
		"@@KLPC x pre key -",
		"@@KLPC 0 0 key -",
		"@@KLPC 01 pre key -",
		"@@KLPC - pre key -",
		"@@KLPC 0 - key -",
		"@@KLPC 0 pre k/y -",
		"@@KLPC - - end bm90YW51bWJlcg==",
	} {
		if _, _, err := ParseSerial([]byte(bad + "\n")); err == nil {
			t.Errorf("ParseSerial(%q): no error", bad)
		}
	}
}

func TestAssemble(t *testing.T) {
	groups, cmdline := groupRecords(cannedRecords)
	res, complete := assemble(&cannedScenario, groups[0], cmdline)
	if !complete || !res.StartedClean || !res.Clean || res.Err != "" {
		t.Fatalf("complete %v, result %+v", complete, res)
	}
	wantSetup := Observation{
		OK:        true,
		Dmesg:     []string{"klpc_probe: loading out-of-tree module taints kernel."},
		Modules:   []string{"klpc_probe"},
		Functions: map[string]string{ObserveCmdline: Original, "klpc_probe:klpc_probe_alpha": Original, "klpc_probe:klpc_probe_beta": Original, "klpc_probe:klpc_probe_gamma": Original},
	}
	if !reflect.DeepEqual(res.Setup, wantSetup) {
		t.Errorf("setup:\n got %+v\nwant %+v", res.Setup, wantSetup)
	}
	want := []Observation{{
		Step:        Step{Action: ActionLoad, Module: "lp_a"},
		OK:          true,
		Kmsg:        []string{"livepatch: enabling patch 'lp_a'", "livepatch: 'lp_a': patching complete"},
		Dmesg:       []string{"lp_a: tainting kernel with TAINT_LIVEPATCH", "livepatch: enabling patch 'lp_a'", "livepatch: 'lp_a': patching complete"},
		Livepatches: []SysfsPatch{{Name: "lp_a", Enabled: true}},
		Modules:     []string{"klpc_probe", "lp_a"},
		Functions: map[string]string{
			ObserveCmdline:                "lp_a:livepatch_cmdline_proc_show",
			"klpc_probe:klpc_probe_alpha": "lp_a:livepatch_klpc_probe_alpha",
			"klpc_probe:klpc_probe_beta":  Original,
			"klpc_probe:klpc_probe_gamma": Absent, // missing from the file
		},
	}, {
		Step:              Step{Action: ActionLoad, Module: "lp_b"},
		ExitStatus:        1,
		Errno:             "EINVAL",
		Message:           "insmod: /m/1/lp_b.ko: invalid argument (EINVAL)",
		Kmsg:              []string{"livepatch: Livepatch patch (lp_b) is not compatible with the already installed livepatches."},
		Dmesg:             []string{"livepatch: Livepatch patch (lp_b) is not compatible with the already installed livepatches."},
		Livepatches:       []SysfsPatch{{Name: "lp_a", Enabled: true}, {Name: "lp_z", Transition: true}},
		Modules:           []string{},
		TransitionTimeout: true,
		Functions: map[string]string{
			ObserveCmdline:                Original,
			"klpc_probe:klpc_probe_alpha": Absent,
			"klpc_probe:klpc_probe_beta":  Absent,
			"klpc_probe:klpc_probe_gamma": Absent,
		},
	}}
	if !reflect.DeepEqual(res.Steps, want) {
		t.Errorf("steps:\n got %+v\nwant %+v", res.Steps, want)
	}

	// A guest that stopped after the first step.
	groups, cmdline = groupRecords(cannedRecords[:19])
	res, complete = assemble(&cannedScenario, groups[0], cmdline)
	if complete || len(res.Steps) != 1 {
		t.Errorf("stopped guest: complete %v, %d steps", complete, len(res.Steps))
	}
	// A failed preload is the scenario's error.
	bad := append([]Record{}, cannedRecords...)
	bad[2] = Record{0, "pre", "preload", "klpc_probe 1 insmod: /m/0/klpc_probe.ko: exec format error (ENOEXEC)"}
	groups, cmdline = groupRecords(bad)
	res, _ = assemble(&cannedScenario, groups[0], cmdline)
	if res.Setup.OK || !strings.Contains(res.Err, "preloading klpc_probe failed") {
		t.Errorf("failed preload: setup OK %v, err %q", res.Setup.OK, res.Err)
	}
}

// TestAssembleTransition reads callbacks from the kernel log and a pending
// transition from the sysfs attributes and the probe tasks' patch_state.
func TestAssembleTransition(t *testing.T) {
	sc := Scenario{
		Name:    "tr",
		Modules: map[string]string{"lp_cb": "cb.ko"},
		Steps:   []Step{{Action: ActionLoad, Module: "lp_cb"}},
	}
	recs := []Record{
		{0, "pre", "start", "clean"},
		{0, "pre", "done", ""},
		{0, "1", "rc", "0"},
		{0, "1", "dmesg", "[    3.1] klpc-cb lp_cb: pre_patch vmlinux\n[    3.2] livepatch: enabling patch 'lp_cb'\n" +
			"[    3.3] klpc-cb lp_cb: pre_patch klpc_probe (MODULE_STATE_LIVE)\n"},
		{0, "1", "patch", "lp_cb 1 1"},
		{0, "1", "task", "t1 77 0 original"},
		{0, "1", "task", "t0 78 1 lp_x:klpc_sleep_x"},
		{0, "1", "done", ""},
		{0, "post", "clean", "1"},
	}
	groups, cmdline := groupRecords(recs)
	res, complete := assemble(&sc, groups[0], cmdline)
	if !complete || len(res.Steps) != 1 {
		t.Fatalf("complete %v, result %+v", complete, res)
	}
	ob := res.Steps[0]
	wantCB := []string{"lp_cb: pre_patch vmlinux", "lp_cb: pre_patch klpc_probe (MODULE_STATE_LIVE)"}
	if !reflect.DeepEqual(ob.Callbacks, wantCB) {
		t.Errorf("callbacks = %q, want %q", ob.Callbacks, wantCB)
	}
	wantTasks := []Task{{Name: "t0", PID: 78, PatchState: 1, Running: "lp_x:klpc_sleep_x"}, {Name: "t1", PID: 77, PatchState: 0, Running: "original"}}
	if !reflect.DeepEqual(ob.Tasks, wantTasks) {
		t.Errorf("tasks = %+v, want %+v", ob.Tasks, wantTasks)
	}
	if got, want := ob.Transition().String(), "lp_cb to patched, stuck: [t1]"; got != want {
		t.Errorf("transition = %q, want %q", got, want)
	}
	ob.Livepatches[0].Enabled = false
	if got, want := ob.Transition().String(), "lp_cb to unpatched, stuck: [t0]"; got != want {
		t.Errorf("reversed transition = %q, want %q", got, want)
	}
	ob.Livepatches[0].Transition = false
	if tr := ob.Transition(); tr != nil {
		t.Errorf("no transition: got %v", tr)
	}
}

func TestClassify(t *testing.T) {
	const cmd = "console=ttyS0 panic=-1 quiet"
	for _, tc := range []struct{ src, fn, text, want string }{
		{"cmdline", "cmdline_proc_show", cmd + "\n", Original},
		{"cmdline", "cmdline_proc_show", "m:livepatch_cmdline_proc_show\n", "m:livepatch_cmdline_proc_show"},
		{"version", "version_proc_show", "Linux version 6.1.0-56-amd64 (debian-kernel@lists.debian.org)\n", Original},
		{"version", "version_proc_show", "m:f\n", "m:f"},
		{"meminfo", "meminfo_proc_show", "MemTotal:        1000 kB\nMemFree: 1 kB\n", Original},
		{"meminfo", "meminfo_proc_show", "m:f", "m:f"},
		{ProbeModule, "klpc_probe_beta", "klpc_probe_alpha x:y\nklpc_probe_beta original\n", Original},
		{ProbeModule, "klpc_probe_alpha", "klpc_probe_alpha x:y\nklpc_probe_beta original\n", "x:y"},
		{ProbeModule, "klpc_probe_delta", "klpc_probe_alpha x:y\n", Absent},
	} {
		if got := classify(tc.src, tc.fn, tc.text, cmd); got != tc.want {
			t.Errorf("classify(%s, %s, %q) = %q, want %q", tc.src, tc.fn, tc.text, got, tc.want)
		}
	}
}

func TestValidate(t *testing.T) {
	ok := cannedScenario
	if err := ok.validate(); err != nil {
		t.Fatalf("valid scenario: %v", err)
	}
	for name, mutate := range map[string]func(*Scenario){
		"no name":        func(s *Scenario) { s.Name = "" },
		"unknown action": func(s *Scenario) { s.Steps = []Step{{Action: "reboot", Module: "lp_a"}} },
		"unlisted load":  func(s *Scenario) { s.Steps = []Step{{Action: ActionLoad, Module: "lp_c"}} },
		"unsafe module":  func(s *Scenario) { s.Steps = []Step{{Action: ActionDisable, Module: "a;b"}} },
		"bad preload":    func(s *Scenario) { s.Preload = []string{"nope"} },
		"bad observe":    func(s *Scenario) { s.Observe = []string{"vmlinux:schedule"} },
		"bad probe fn":   func(s *Scenario) { s.Observe = []string{"klpc_probe:klpc_probe_omega"} },
		"bad object":     func(s *Scenario) { s.Observe = []string{"ext4:ext4_fill_super"} },
		"no colon":       func(s *Scenario) { s.Observe = []string{"cmdline_proc_show"} },
		"unsafe params":  func(s *Scenario) { s.Steps = []Step{{Action: ActionLoad, Module: "lp_a", Params: "x='1'"}} },
		"no task":        func(s *Scenario) { s.Steps = []Step{{Action: ActionBlock, Function: ProbeSleep}} },
		"long task":      func(s *Scenario) { s.Steps = []Step{{Action: ActionRelease, Task: "abcdefghijk"}} },
		"other sleep": func(s *Scenario) {
			s.Steps = []Step{{Action: ActionBlock, Task: "t1", Function: "klpc_probe:klpc_probe_alpha"}}
		},
		"unsafe value": func(s *Scenario) {
			s.Steps = []Step{{Action: ActionParam, Module: "lp_a", Param: "pre_patch_ret", Value: "$(reboot)"}}
		},
	} {
		sc := ok
		sc.Modules = map[string]string{"klpc_probe": "p.ko", "lp_a": "a.ko", "lp_b": "b.ko"}
		mutate(&sc)
		if err := sc.validate(); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func TestGuestScript(t *testing.T) {
	scs := []Scenario{cannedScenario, {
		Name:    "second",
		Modules: map[string]string{"lp-dash": "d.ko", "lp_a": "a.ko"},
		Steps: []Step{{Action: ActionLoad, Module: "lp_a"}, {Action: ActionLoad, Module: "lp-dash", Params: "pre_patch_ret=-19"},
			{Action: ActionDisable, Module: "lp-dash"}, {Action: ActionBlock, Task: "t1", Function: ProbeSleep},
			{Action: ActionForce, Module: "lp-dash"}, {Action: ActionParam, Module: "lp_a", Param: "pre_patch_ret", Value: "-19"},
			{Action: ActionRelease, Task: "t1"}, {Action: ActionUnload, Module: "lp-dash"}},
		Observe: []string{ObserveVersion},
	}}
	script, files := guestScript(scs, 0, 15)
	again, _ := guestScript(scs, 0, 15)
	if script != again {
		t.Fatal("guest script is not deterministic")
	}
	for _, want := range []string{
		"preload 0 klpc_probe /m/0/klpc_probe.ko\n",
		"step 0 1 load lp_a /m/1/lp_a.ko '' cmdline klpc_probe\n",
		`LPMODS="lp_a lp_dash"`,
		"step 1 1 load lp_a /m/1/lp_a.ko '' version\n", // stored once
		"step 1 2 load lp_dash /m/3/lp-dash.ko 'pre_patch_ret=-19' version\n",
		"step 1 3 disable lp_dash - '' version\n",
		"step 1 4 block - - 't1' version\n",
		"step 1 5 force lp_dash - '' version\n",
		"step 1 6 param lp_a - 'pre_patch_ret -19' version\n",
		"step 1 7 release - - 't1' version\n",
		"SETTLE=15\n",
		"SETTLE_BLOCKED=4\n",
	} {
		if !strings.Contains(script, want) {
			t.Errorf("guest script lacks %q", want)
		}
	}
	if len(files) != 4 || files[0].host != "p.ko" || files[3].host != "d.ko" {
		t.Errorf("files = %+v", files)
	}
	// The later boot of a retried run starts at its first scenario.
	tailScript, _ := guestScript(scs, 1, 15)
	if strings.Contains(tailScript, "begin 0\n") || !strings.Contains(tailScript, "begin 1\n") {
		t.Error("guest script for scenarios[1:] is wrong")
	}
	// The script must at least parse as a POSIX shell script.
	if sh, err := exec.LookPath("sh"); err == nil {
		cmd := exec.Command(sh, "-n")
		cmd.Stdin = strings.NewReader(script)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("sh -n: %v\n%s", err, out)
		}
	}
}

func FuzzParseSerial(f *testing.F) {
	f.Add([]byte(transcript(cannedRecords)))
	f.Add([]byte("@@KLPC 0 pre key -\n@@KLPC - - end MQ==\n"))
	f.Add([]byte("noise @@KLPC 3 12 src:klpc_probe a2xwY19wcm9iZQ==\r\n@@KLPC"))
	f.Fuzz(func(t *testing.T, data []byte) {
		recs, _, _ := ParseSerial(data)
		// Whatever was read must survive being written and read again.
		again, complete, err := ParseSerial([]byte(transcript(recs)))
		if err != nil || !complete {
			t.Fatalf("re-parse: complete %v, err %v", complete, err)
		}
		if len(again) != len(recs) {
			t.Fatalf("re-parse: %d records, want %d", len(again), len(recs))
		}
		for i := range recs {
			if again[i] != recs[i] {
				t.Fatalf("re-parse: record %d = %+v, want %+v", i, again[i], recs[i])
			}
		}
		groups, cmdline := groupRecords(recs)
		for _, sr := range groups {
			assemble(&cannedScenario, sr, cmdline)
		}
	})
}
