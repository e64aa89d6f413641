package klp

// Impl is the code a call to a function runs.
type Impl struct {
	// Absent is set when the function's module is not loaded.
	Absent bool
	// Patch is the livepatch module whose replacement runs; "" means the
	// original code.
	Patch string
	New   string
}

// Original reports whether the original code runs.
func (i Impl) Original() bool { return !i.Absent && i.Patch == "" }

// String returns "absent", "original" or "<module>:<new function>".
func (i Impl) String() string {
	switch {
	case i.Absent:
		return "absent"
	case i.Patch == "":
		return "original"
	}
	return i.Patch + ":" + i.New
}

// Resolve returns what a call to the function runs for a task whose
// patch_state is patched or not, mirroring klp_ftrace_handler
// (kernel/livepatch/patch.c): the top of the func_stack wins, but while that
// func is in transition a task in the unpatched state runs the entry just
// below it (or the original when there is none); a nop runs the original.
// Outside a transition no func is marked, so the state does not matter.
func (k *Kernel) Resolve(id FuncID, taskPatched bool) Impl {
	if !k.Loaded(id.Object) {
		return Impl{Absent: true}
	}
	stack := k.stacks[id]
	if len(stack) == 0 {
		return Impl{}
	}
	f := stack[0]
	if f.Transition && !taskPatched {
		if len(stack) == 1 {
			return Impl{}
		}
		f = stack[1]
	}
	if f.Nop {
		return Impl{}
	}
	return Impl{Patch: f.obj.patch.Module, New: f.New}
}

// Now returns what a call runs once every task has reached the target of
// the pending transition, or at rest when there is none: the implementation
// the system settles on.
func (k *Kernel) Now(id FuncID) Impl {
	return k.Resolve(id, k.target == Patched)
}
