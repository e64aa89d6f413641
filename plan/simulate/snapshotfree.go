package simulate

import (
	"fmt"

	"github.com/klpc/klpc/diag"
	"github.com/klpc/klpc/hostsnap"
)

// settledDisabled refuses a snapshot that lists a patch disabled and not
// in transition. The kernel frees a disabled patch as soon as its
// unpatching transition completes (klp_try_complete_transition ->
// klp_free_patch_async, kernel/livepatch/transition.c, 6.1, 6.12, 7.x),
// which removes /sys/kernel/livepatch/<patch> while the module stays
// loaded: a host shows such a patch only in the moment between the two,
// and a snapshot taken again a moment later lists the module in
// /proc/modules without the patch, a state the model reaches.
func settledDisabled(snap *hostsnap.Snapshot) error {
	for i, p := range snap.Livepatches {
		if p.Enabled || p.Transition {
			continue
		}
		return &SnapshotError{diag.SnapshotUnreachable, fmt.Sprintf("livepatches[%d] (%s).enabled", i, p.Name),
			fmt.Sprintf("patch %s is disabled and not in transition, a state the kernel does not keep: it frees a disabled patch when its transition completes (klp_free_patch_async), and its sysfs folder goes while the module stays loaded. Take the snapshot again", p.Name)}
	}
	return nil
}
