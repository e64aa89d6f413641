package klp

import "fmt"

// Callbacks are the klp_callbacks of one object: which of the four
// callbacks the livepatch defines, and what its pre_patch returns.
type Callbacks struct {
	PrePatch, PostPatch, PreUnpatch, PostUnpatch bool
	// PrePatchErr is the errno pre_patch returns; 0 is success. It only
	// matters when PrePatch is set.
	PrePatchErr Errno
}

// Callback names one of the four callbacks.
type Callback int

// The callbacks, in the order a patch's life calls them.
const (
	PrePatch Callback = iota + 1
	PostPatch
	PreUnpatch
	PostUnpatch
)

// String returns "pre_patch", "post_patch", "pre_unpatch" or "post_unpatch".
func (c Callback) String() string {
	switch c {
	case PrePatch:
		return "pre_patch"
	case PostPatch:
		return "post_patch"
	case PreUnpatch:
		return "pre_unpatch"
	case PostUnpatch:
		return "post_unpatch"
	}
	return fmt.Sprintf("Callback(%d)", int(c))
}

// Event is one entry of the kernel's trace: a callback that ran, or a line
// the livepatch core logs (pr_notice, pr_warn and the pr_debug lines the
// kernel's selftests enable), without the "livepatch: " prefix.
type Event struct {
	// Callback is set for a callback, 0 for a log line.
	Callback Callback
	// Patch is the livepatch module whose callback ran.
	Patch string
	// Object is the callback's object, "vmlinux" or a module name.
	Object string
	// State is the object module's state when the callback ran (always
	// ModuleLive for vmlinux).
	State ModuleState
	// Text is the log line.
	Text string
}

// String returns "lp: pre_patch vmlinux", "lp: post_patch mod (MODULE_STATE_COMING)"
// for a callback and the text for a log line.
func (e Event) String() string {
	if e.Callback == 0 {
		return e.Text
	}
	if e.Object == Vmlinux {
		return fmt.Sprintf("%s: %s %s", e.Patch, e.Callback, e.Object)
	}
	return fmt.Sprintf("%s: %s %s (%s)", e.Patch, e.Callback, e.Object, e.State)
}

// Trace returns the events since the kernel booted or the last TakeTrace.
func (k *Kernel) Trace() []Event { return append([]Event(nil), k.trace...) }

// TakeTrace returns the events since the kernel booted or the last
// TakeTrace, and forgets them: call it after each operation to show what
// the operation ran.
func (k *Kernel) TakeTrace() []Event {
	t := k.trace
	k.trace = nil
	return t
}

// CallbacksOf returns only the callbacks of a trace.
func CallbacksOf(events []Event) []Event {
	var out []Event
	for _, e := range events {
		if e.Callback != 0 {
			out = append(out, e)
		}
	}
	return out
}

func (k *Kernel) logf(format string, args ...any) {
	k.trace = append(k.trace, Event{Text: fmt.Sprintf(format, args...)})
}

func (k *Kernel) ran(c Callback, o *Object) {
	e := Event{Callback: c, Patch: o.patch.Module, Object: o.Name}
	if m := k.modules[o.Name]; m != nil && o.Name != Vmlinux {
		e.State = m.State
	}
	k.trace = append(k.trace, e)
}

// prePatch mirrors klp_pre_patch_callback (kernel/livepatch/core.h; 6.1,
// 6.12, 7.x): post_unpatch is enabled only when pre_patch succeeded (or
// there is none).
func (k *Kernel) prePatch(o *Object) Errno {
	var errno Errno
	if o.Callbacks.PrePatch {
		k.ran(PrePatch, o)
		errno = o.Callbacks.PrePatchErr
	}
	o.postUnpatchEnabled = errno == 0
	return errno
}

// postPatch mirrors klp_post_patch_callback (core.h; 6.1, 6.12, 7.x).
func (k *Kernel) postPatch(o *Object) {
	if o.Callbacks.PostPatch {
		k.ran(PostPatch, o)
	}
}

// preUnpatch mirrors klp_pre_unpatch_callback (core.h; 6.1, 6.12, 7.x).
func (k *Kernel) preUnpatch(o *Object) {
	if o.Callbacks.PreUnpatch {
		k.ran(PreUnpatch, o)
	}
}

// postUnpatch mirrors klp_post_unpatch_callback (core.h; 6.1, 6.12,
// 7.x): it runs only if pre_patch succeeded, and only once.
func (k *Kernel) postUnpatch(o *Object) {
	if o.postUnpatchEnabled && o.Callbacks.PostUnpatch {
		k.ran(PostUnpatch, o)
	}
	o.postUnpatchEnabled = false
}

// SetPrePatchErr changes what the pre_patch callbacks of a loaded
// livepatch module return from now on, as writing a module parameter does
// (test_klp_callbacks_demo's pre_patch_ret). object "" changes every
// object of the patch.
func (k *Kernel) SetPrePatchErr(module, object string, errno Errno) *Refusal {
	m := k.modules[module]
	if m == nil || m.Patch == nil {
		return refuse(ENOENT, "/sys/module/%s/parameters: No such file or directory", module)
	}
	for _, o := range m.Patch.Objects {
		if object == "" || o.Name == object {
			o.Callbacks.PrePatchErr = errno
		}
	}
	return nil
}
