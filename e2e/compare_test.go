package e2e

import (
	"strings"
	"testing"
)

// TestCompareCallbacksAndTransitions checks that a wrong callback or
// transition prediction is reported readably, without a kernel: the
// observation is what the real 6.1 kernel did when a patch of
// klpc_probe_sleep was loaded with a task asleep in it (TestProbeTasks).
func TestCompareCallbacksAndTransitions(t *testing.T) {
	kernel := Result{Steps: []Observation{{
		OK:          true,
		Callbacks:   []string{"lp: pre_patch vmlinux", "lp: pre_patch klpc_probe (MODULE_STATE_LIVE)"},
		Livepatches: []SysfsPatch{{Name: "lp", Enabled: true, Transition: true}},
		Tasks:       []Task{{Name: "t1", PID: 9, PatchState: 0, Running: Original}},
	}}}
	right := expectedStep{what: "step 1 (load lp)", ok: true,
		callbacks:  []string{"lp: pre_patch vmlinux", "lp: pre_patch klpc_probe"},
		transition: "lp to patched, stuck: [t1]"}
	if d := (dcheck{steps: []expectedStep{right}}).compare(kernel); d != "" {
		t.Fatalf("a right prediction differs:\n%s", d)
	}

	wrongCB := right
	wrongCB.callbacks = []string{"lp: pre_patch vmlinux", "lp: post_patch vmlinux", "lp: pre_patch klpc_probe (MODULE_STATE_COMING)"}
	d := (dcheck{steps: []expectedStep{wrongCB}}).compare(kernel)
	for _, want := range []string{
		"step 1 (load lp): callbacks differ (- plan, + kernel):",
		"      lp: pre_patch vmlinux\n",
		"    - lp: post_patch vmlinux\n",
		"    - lp: pre_patch klpc_probe (MODULE_STATE_COMING)\n",
		"    + lp: pre_patch klpc_probe (MODULE_STATE_LIVE)\n",
	} {
		if !strings.Contains(d, want) {
			t.Errorf("wrong callbacks: the diff lacks %q:\n%s", want, d)
		}
	}

	wrongTr := right
	wrongTr.transition = "none"
	d = (dcheck{steps: []expectedStep{wrongTr}}).compare(kernel)
	if want := "step 1 (load lp): pending transition: plan: none | kernel: lp to patched, stuck: [t1]"; !strings.Contains(d, want) {
		t.Errorf("wrong transition: got %q, want it to contain %q", d, want)
	}
	wrongTr.transition = "lp to patched, stuck: []"
	if d = (dcheck{steps: []expectedStep{wrongTr}}).compare(kernel); !strings.Contains(d, "plan: lp to patched, stuck: [] | kernel: lp to patched, stuck: [t1]") {
		t.Errorf("wrong stuck tasks: got %q", d)
	}
}
