package klp

import "slices"

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
//
// A replacement function is a function of its livepatch module, and a
// later livepatch may patch it in turn: the call then runs the end of the
// chain (see Chain).
func (k *Kernel) Resolve(id FuncID, taskPatched bool) Impl {
	// Chain's last element, without making the chain: Resolve runs for
	// every watched function at every step.
	var buf [4]FuncID
	seen := buf[:0]
	var last Impl
	for hops := 0; ; hops++ {
		impl := k.resolveOne(id, taskPatched)
		if impl.Patch == "" {
			if hops > 0 {
				return last // the original code of a replacement is that replacement
			}
			return impl
		}
		code := FuncID{Object: impl.Patch, Name: impl.New, Pos: 1}
		if slices.Contains(seen, code) {
			return last
		}
		seen = append(seen, code)
		last = impl
		if len(k.stacks[code]) == 0 {
			return last
		}
		id = code
	}
}

// Chain returns every implementation a call to the function passes
// through, for a task whose patch_state is patched or not: the first is
// what the function's own ftrace handler selects; when that is a
// replacement whose function (FuncID{Object: its livepatch module, Name:
// its name, Pos: 1}) is patched too, its handler redirects again, and so
// on (klp_module_coming patches livepatch modules like any module; 6.1,
// 6.12, 7.x). loop is true when the chain comes back to a function it
// passed, which recurses until the stack overflows; the chain then stops
// before the repetition.
func (k *Kernel) Chain(id FuncID, taskPatched bool) (chain []Impl, loop bool) {
	// Chains are short (most end at their first replacement): a list is
	// cheaper than a map for what the chain passed.
	var seen []FuncID
	for {
		impl := k.resolveOne(id, taskPatched)
		if impl.Patch == "" {
			if len(chain) > 0 {
				// The original code of a replacement is that replacement.
				return chain, false
			}
			return []Impl{impl}, false
		}
		code := FuncID{Object: impl.Patch, Name: impl.New, Pos: 1}
		if slices.Contains(seen, code) {
			return chain, true
		}
		seen = append(seen, code)
		chain = append(chain, impl)
		if len(k.stacks[code]) == 0 {
			return chain, false
		}
		id = code
	}
}

func (k *Kernel) resolveOne(id FuncID, taskPatched bool) Impl {
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
// the system settles on, at the end of the chain of redirections.
func (k *Kernel) Now(id FuncID) Impl {
	return k.Resolve(id, k.target == Patched)
}
