package e2e

import (
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// phaseRecords gathers the records of one phase of one scenario.
type phaseRecords struct {
	recs []Record
	done bool // the phase's closing record arrived
}

// scenarioRecords gathers the records of one scenario by phase.
type scenarioRecords struct {
	any    bool
	start  string // "clean" or "dirty"
	phases map[string]*phaseRecords
	clean  string // "1" or "0" from the post phase, "" when cleanup never ended
}

// groupRecords sorts records by scenario and phase, and returns the boot
// command line the guest reported.
func groupRecords(recs []Record) (map[int]*scenarioRecords, string) {
	out := map[int]*scenarioRecords{}
	cmdline := ""
	for _, r := range recs {
		if r.Scenario < 0 {
			if r.Key == "cmdline" {
				cmdline = r.Value
			}
			continue
		}
		sr := out[r.Scenario]
		if sr == nil {
			sr = &scenarioRecords{phases: map[string]*phaseRecords{}}
			out[r.Scenario] = sr
		}
		sr.any = true
		pr := sr.phases[r.Phase]
		if pr == nil {
			pr = &phaseRecords{}
			sr.phases[r.Phase] = pr
		}
		switch {
		case r.Phase == "pre" && r.Key == "start":
			sr.start = r.Value
		case r.Phase == "post" && r.Key == "clean":
			sr.clean = r.Value
			pr.done = true
		case r.Key == "done":
			pr.done = true
		default:
			pr.recs = append(pr.recs, r)
		}
	}
	return out, cmdline
}

// assemble turns the records of one scenario into its Result. complete
// reports that the scenario ran to the end of its cleanup.
func assemble(sc *Scenario, sr *scenarioRecords, cmdline string) (res Result, complete bool) {
	res = Result{Scenario: sc.Name}
	if sr == nil || !sr.any {
		return res, false
	}
	res.StartedClean = sr.start == "clean"
	var problems []string
	if !res.StartedClean {
		problems = append(problems, "the kernel was not clean when the scenario began")
	}
	pre := sr.phases["pre"]
	if pre == nil || !pre.done {
		return withProblems(res, problems), false
	}
	res.Setup = observation(sc, pre.recs, cmdline)
	res.Setup.OK = true
	for _, r := range pre.recs {
		if r.Key != "preload" {
			continue
		}
		// "<module> <exit status> <output>"
		f := strings.SplitN(r.Value, " ", 3)
		if len(f) >= 2 && f[1] != "0" {
			msg := ""
			if len(f) == 3 {
				msg = f[2]
			}
			res.Setup.OK = false
			res.Setup.Message = strings.TrimSpace(res.Setup.Message + "\n" + msg)
			problems = append(problems, fmt.Sprintf("preloading %s failed: %s", f[0], msg))
		}
	}
	for i, st := range sc.Steps {
		pr := sr.phases[strconv.Itoa(i+1)]
		if pr == nil || !pr.done {
			return withProblems(res, problems), false
		}
		ob := observation(sc, pr.recs, cmdline)
		ob.Step = st
		res.Steps = append(res.Steps, ob)
	}
	if sr.clean == "" {
		return withProblems(res, problems), false
	}
	res.Clean = sr.clean == "1"
	return withProblems(res, problems), true
}

func withProblems(res Result, problems []string) Result {
	if len(problems) > 0 {
		res.Err = strings.Join(problems, "; ")
	}
	return res
}

// callbackPrefix starts the kernel log line a klp_callback of the
// differential suite prints: "klpc-cb <livepatch module>: <callback>
// <object>[ (<module state>)]".
const callbackPrefix = "klpc-cb "

// dmesgStamp matches the timestamp dmesg puts before each line.
var dmesgStamp = regexp.MustCompile(`^\[\s*[0-9]+\.[0-9]+\]\s?`)

// observation builds the observation of one phase from its records.
func observation(sc *Scenario, recs []Record, cmdline string) Observation {
	ob := Observation{OK: true, Functions: map[string]string{}}
	srcs := map[string]string{}
	present := map[string]bool{}
	for _, r := range recs {
		switch {
		case r.Key == "rc":
			n, err := strconv.Atoi(strings.TrimSpace(r.Value))
			if err != nil {
				n = -1
			}
			ob.ExitStatus = n
			ob.OK = n == 0
		case r.Key == "out":
			ob.Message = strings.TrimSpace(r.Value)
		case r.Key == "settle":
			ob.TransitionTimeout = r.Value != "ok"
		case r.Key == "dmesg":
			for _, line := range strings.Split(r.Value, "\n") {
				line = strings.TrimSpace(dmesgStamp.ReplaceAllString(strings.TrimRight(line, "\r"), ""))
				if line == "" {
					continue
				}
				ob.Dmesg = append(ob.Dmesg, line)
				if strings.Contains(line, "livepatch") {
					ob.Kmsg = append(ob.Kmsg, line)
				}
				if _, cb, ok := strings.Cut(line, callbackPrefix); ok {
					ob.Callbacks = append(ob.Callbacks, cb)
				}
			}
		case r.Key == "patch":
			f := strings.Fields(r.Value)
			if len(f) == 3 {
				ob.Livepatches = append(ob.Livepatches, SysfsPatch{Name: f[0], Enabled: f[1] == "1", Transition: f[2] == "1"})
			}
		case r.Key == "sysfs":
			if k, v, ok := strings.Cut(r.Value, " "); ok {
				if ob.Sysfs == nil {
					ob.Sysfs = map[string]string{}
				}
				ob.Sysfs[k] = v
			}
		case r.Key == "modules":
			ob.Modules = strings.Fields(r.Value)
		case r.Key == "task":
			// "<name> <pid> <patch_state> <identity>"
			f := strings.SplitN(r.Value, " ", 4)
			if len(f) < 3 {
				continue
			}
			t := Task{Name: f[0], PatchState: -2}
			t.PID, _ = strconv.Atoi(f[1])
			if n, err := strconv.Atoi(f[2]); err == nil {
				t.PatchState = n
			}
			if len(f) == 4 {
				t.Running = f[3]
			}
			ob.Tasks = append(ob.Tasks, t)
		case r.Key == "snapshot":
			ob.Snapshot = r.Value
		case strings.HasPrefix(r.Key, "src:"):
			name := strings.TrimPrefix(r.Key, "src:")
			srcs[name] = r.Value
			present[name] = true
		case strings.HasPrefix(r.Key, "nosrc:"):
			present[strings.TrimPrefix(r.Key, "nosrc:")] = false
		}
	}
	sort.Slice(ob.Livepatches, func(i, j int) bool { return ob.Livepatches[i].Name < ob.Livepatches[j].Name })
	sort.Slice(ob.Tasks, func(i, j int) bool { return ob.Tasks[i].Name < ob.Tasks[j].Name })
	sort.Strings(ob.Modules)
	if !ob.OK {
		ob.Errno = errnoOf(ob.Message)
	}
	for _, key := range sc.Observe {
		src, err := source(key)
		if err != nil {
			continue
		}
		_, fn, _ := strings.Cut(key, ":")
		ok, seen := present[src]
		if !seen {
			continue // the guest never read it: the phase is incomplete
		}
		if !ok {
			ob.Functions[key] = Absent
			continue
		}
		ob.Functions[key] = classify(src, fn, srcs[src], cmdline)
	}
	return ob
}

// classify reads which implementation of fn answered, from the contents of
// the /proc source that calls it.
func classify(src, fn, text, cmdline string) string {
	switch src {
	case "cmdline":
		if strings.TrimSpace(text) == strings.TrimSpace(cmdline) {
			return Original
		}
	case "version":
		if strings.HasPrefix(text, "Linux version") {
			return Original
		}
	case "meminfo":
		if strings.HasPrefix(text, "MemTotal:") {
			return Original
		}
	case ProbeModule:
		for _, line := range strings.Split(text, "\n") {
			name, val, ok := strings.Cut(strings.TrimSpace(line), " ")
			if ok && name == fn {
				return strings.TrimSpace(val)
			}
		}
		return Absent
	}
	return strings.TrimSpace(text)
}

// errnoName matches the error name klpc-guest puts at the end of a failure.
var errnoName = regexp.MustCompile(`\((E[A-Z0-9]+)\)\s*$`)

// errnoOf returns the name of the error a step's message reports, or "".
func errnoOf(msg string) string {
	if m := errnoName.FindStringSubmatch(msg); m != nil {
		return m[1]
	}
	return ""
}
