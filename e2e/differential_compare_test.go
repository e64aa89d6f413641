package e2e

import (
	"strings"
	"testing"
)

// TestDifferentialCompare feeds the comparison of TestDifferential wrong
// predictions, one kind at a time, and checks that each is reported with
// the step, what the plan said and what the kernel did. It needs no
// kernel: the observations are written as a 7.x guest records them.
func TestDifferentialCompare(t *testing.T) {
	observed := Result{Scenario: "module-symbols", Steps: []Observation{{
		OK:          true,
		Livepatches: []SysfsPatch{{Name: "modsym", Enabled: true}},
		Sysfs:       map[string]string{"modsym/replace": "0", "modsym/stack_order": "1"},
		Functions:   map[string]string{"klpc_probe:klpc_probe_alpha": Absent},
	}, {
		OK:          true,
		Livepatches: []SysfsPatch{{Name: "modsym", Enabled: true}},
		Sysfs:       map[string]string{"modsym/replace": "0", "modsym/stack_order": "1"},
		Functions:   map[string]string{"klpc_probe:klpc_probe_alpha": "modsym:klpc_alpha_sym"},
	}}}
	right := func() dcheck {
		return dcheck{name: "module-symbols", steps: []expectedStep{{
			what: "step 1 (load modsym)", ok: true, enabled: []string{"modsym"},
			functions:  map[string]string{"klpc_probe:klpc_probe_alpha": Absent},
			sysfs:      map[string]string{"modsym/replace": "0", "modsym/stack_order": "1"},
			checkSysfs: true,
		}, {
			what: "step 4 (module_load klpc_probe)", ok: true, enabled: []string{"modsym"},
			functions:  map[string]string{"klpc_probe:klpc_probe_alpha": "modsym:klpc_alpha_sym"},
			sysfs:      map[string]string{"modsym/replace": "0", "modsym/stack_order": "1"},
			checkSysfs: true,
		}}}
	}
	if diff := right().compare(observed); diff != "" {
		t.Fatalf("a right prediction is reported as wrong:\n%s", diff)
	}
	tests := []struct {
		name string
		flip func(*dcheck)
		want []string
	}{{
		// The 6.1 model's prediction on a 6.12 or 7.x kernel.
		name: "refusal",
		flip: func(ch *dcheck) { ch.steps[1].ok, ch.steps[1].errno = false, "ENOEXEC" },
		want: []string{"step 4 (module_load klpc_probe): plan: ok=false ENOEXEC | kernel: ok=true"},
	}, {
		name: "function",
		flip: func(ch *dcheck) { ch.steps[1].functions["klpc_probe:klpc_probe_alpha"] = Original },
		want: []string{"step 4 (module_load klpc_probe): klpc_probe:klpc_probe_alpha: plan: original | kernel: modsym:klpc_alpha_sym"},
	}, {
		name: "enabled",
		flip: func(ch *dcheck) { ch.steps[0].enabled = []string{} },
		want: []string{"step 1 (load modsym): /sys/kernel/livepatch: plan: [] | kernel: [modsym]"},
	}, {
		name: "replace",
		flip: func(ch *dcheck) { ch.steps[0].sysfs["modsym/replace"] = "1" },
		want: []string{"step 1 (load modsym): /sys/kernel/livepatch/modsym/replace: plan: 1 | kernel: 0"},
	}, {
		// The 6.12 model's prediction on a 7.x kernel.
		name: "stack_order",
		flip: func(ch *dcheck) {
			for i := range ch.steps {
				delete(ch.steps[i].sysfs, "modsym/stack_order")
			}
		},
		want: []string{
			"step 1 (load modsym): /sys/kernel/livepatch/modsym/stack_order: plan: (no such file) | kernel: 1",
			"step 4 (module_load klpc_probe): /sys/kernel/livepatch/modsym/stack_order: plan: (no such file) | kernel: 1",
		},
	}, {
		// The 6.1 model's sysfs view on a later kernel.
		name: "no attributes",
		flip: func(ch *dcheck) { ch.steps[0].sysfs = nil },
		want: []string{
			"step 1 (load modsym): /sys/kernel/livepatch/modsym/replace: plan: (no such file) | kernel: 0",
			"step 1 (load modsym): /sys/kernel/livepatch/modsym/stack_order: plan: (no such file) | kernel: 1",
		},
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ch := right()
			tc.flip(&ch)
			diff := ch.compare(observed)
			for _, w := range tc.want {
				if !strings.Contains(diff, w) {
					t.Errorf("the report does not say %q:\n%s", w, diff)
				}
			}
			if got, want := strings.Count(diff, "\n"), len(tc.want); got != want {
				t.Errorf("%d differences reported, want %d:\n%s", got, want, diff)
			}
		})
	}
	// A kernel that stopped early: the steps not performed are named.
	short := observed
	short.Steps = short.Steps[:1]
	short.Err = "guest died"
	if diff := right().compare(short); !strings.Contains(diff, "did not complete: guest died") || !strings.Contains(diff, "step 4 (module_load klpc_probe): not performed") {
		t.Errorf("an incomplete scenario is not reported: %q", diff)
	}
}

// TestLinePick checks how TestDifferential spreads its scenarios over
// the lines: the ones in everyLine everywhere, each other one on exactly
// one line, all of them with a single line or KLPC_E2E_ALL_LINES.
func TestLinePick(t *testing.T) {
	for name := range everyLine {
		for i := range 3 {
			if !(linePick{index: i, lines: 3}).runs(name, 0) {
				t.Errorf("%s does not run on line %d of 3", name, i)
			}
		}
	}
	for n := range 7 {
		count := 0
		for i := range 3 {
			if (linePick{index: i, lines: 3}).runs("basic", n) {
				count++
			}
		}
		if count != 1 {
			t.Errorf("scenario %d runs on %d of 3 lines, want 1", n, count)
		}
		if !(linePick{index: 0, lines: 1}).runs("basic", n) || !(linePick{index: 2, lines: 3, all: true}).runs("basic", n) {
			t.Errorf("scenario %d does not run on the only line, or with all set", n)
		}
	}
}
