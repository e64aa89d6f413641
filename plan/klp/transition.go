package klp

import (
	"fmt"
	"slices"
	"sort"
)

// Task patch states (KLP_UNDEFINED / KLP_TRANSITION_IDLE, KLP_UNPATCHED,
// KLP_PATCHED), as /proc/<pid>/patch_state shows them.
const (
	TaskIdle      = -1
	TaskUnpatched = int(Unpatched)
	TaskPatched   = int(Patched)
)

const (
	idle = TaskIdle
	// maxStackFrames bounds what Block keeps of a task's stack.
	maxStackFrames = 64
)

// task is a thread the caller named, with the code it sleeps in.
type task struct {
	name  string
	stack []FuncID // functions on the task's stack, outermost first
	state int      // patch_state: idle outside a transition
}

// Block makes a task sleep with the given functions on its stack: the
// original code of a patched function (its FuncID), or a replacement
// function, named as the function of its livepatch module
// (FuncID{Object: "lp", Name: "new_func", Pos: 1}). A task that does not
// exist yet is created; created during a transition, it counts as one that
// has not switched yet. A blocked task cannot switch while one of the
// transition's checked functions is on its stack (klp_check_stack_func).
func (k *Kernel) Block(name string, stack ...FuncID) {
	t := k.tasks[name]
	if t == nil {
		t = &task{name: name, state: idle}
		if k.transition != nil {
			t.state = int(1 - k.target)
		}
		k.tasks[name] = t
	}
	t.stack = append(t.stack, stack...)
	if len(t.stack) > maxStackFrames {
		t.stack = t.stack[len(t.stack)-maxStackFrames:]
	}
}

// BlockCalling makes a task sleep inside whatever a call to the function
// runs for it now (ResolveTask): the original code, or a replacement.
func (k *Kernel) BlockCalling(name string, id FuncID) {
	k.Block(name) // create it with the right state first
	impl := k.ResolveTask(name, id)
	code := id
	if impl.Patch != "" {
		code = FuncID{Object: impl.Patch, Name: impl.New, Pos: 1}
	}
	k.Block(name, code)
}

// Release lets a task return from everything it sleeps in; it switches at
// the next attempt to complete the transition (klp_try_switch_task).
func (k *Kernel) Release(name string) {
	if t := k.tasks[name]; t != nil {
		t.stack = nil
	}
}

// Tasks returns the names of the tasks the caller created, sorted.
func (k *Kernel) Tasks() []string {
	names := make([]string, 0, len(k.tasks))
	for n := range k.tasks {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// TaskState returns a task's patch_state as /proc/<pid>/patch_state shows
// it: TaskIdle (-1) outside a transition, else TaskUnpatched or
// TaskPatched. An unknown task is idle.
func (k *Kernel) TaskState(name string) int {
	if t := k.tasks[name]; t != nil && k.transition != nil {
		return t.state
	}
	return idle
}

// ResolveTask returns what a call to the function runs for a named task
// now: during a transition that depends on whether the task has switched
// (klp_ftrace_handler reads current->patch_state). An unknown task counts
// as switched, as every task that blocks nothing is.
func (k *Kernel) ResolveTask(name string, id FuncID) Impl {
	patched := k.target == Patched
	if t := k.tasks[name]; t != nil && k.transition != nil {
		patched = t.state == int(Patched)
	}
	return k.Resolve(id, patched)
}

// Stuck is a task that cannot switch, and the checked function on its
// stack that keeps it.
type Stuck struct {
	Task string
	Func FuncID
}

func (s Stuck) String() string {
	return fmt.Sprintf("%s is sleeping in %s (%s)", s.Task, s.Func.Name, s.Func.Object)
}

// TryCompleteTransition mirrors klp_try_complete_transition (transition.c;
// 6.1, 6.12, 7.x): every task that has not switched tries to
// (klp_try_switch_task); if none is left, klp_complete_transition runs and
// the patch is freed when it was disabled, or the patches it replaced are.
// It returns whether the transition completed and, if not, the tasks that
// keep it pending. With no transition pending it returns true.
func (k *Kernel) TryCompleteTransition() (done bool, stuck []Stuck) {
	p := k.transition
	if p == nil {
		return true, nil
	}
	var checked map[FuncID]bool // built for the first task that has to switch
	for _, name := range k.Tasks() {
		t := k.tasks[name]
		if t.state == int(k.target) {
			continue
		}
		if checked == nil {
			checked = k.checkedFuncs()
		}
		if i := slices.IndexFunc(t.stack, func(f FuncID) bool { return checked[f] }); i >= 0 {
			stuck = append(stuck, Stuck{Task: name, Func: t.stack[i]})
			continue
		}
		t.state = int(k.target)
	}
	if len(stuck) > 0 {
		return false, stuck
	}
	k.finishTransition()
	return true, nil
}

// finishTransition completes the pending transition and schedules the
// frees that klp_try_complete_transition schedules.
func (k *Kernel) finishTransition() {
	p := k.transition
	k.completeTransition()
	if !p.Enabled {
		k.freePatch(p) // klp_free_patch_async
	} else if p.Replace {
		// klp_free_replaced_patches_async frees every older patch.
		for len(k.patches) > 0 && k.patches[0] != p {
			k.freePatch(k.patches[0])
		}
	}
}

// checkedFuncs mirrors klp_check_stack_func (transition.c; 6.1, 6.12,
// 7.x): the code a task that has not switched must not be sleeping in.
// Unpatching checks the transition patch's own replacement (a nop's is the
// original function); patching checks what ran before it: the original
// function when the func is alone on its func_stack, else the
// replacement of the func below it. Only patched objects are checked.
func (k *Kernel) checkedFuncs() map[FuncID]bool {
	checked := map[FuncID]bool{}
	for _, o := range k.transition.Objects {
		if !o.Patched {
			continue
		}
		for _, f := range o.Funcs {
			if !f.Patched {
				continue
			}
			var code *Func
			if k.target == Unpatched {
				code = f
			} else {
				stack := k.stacks[f.ID()]
				if i := slices.Index(stack, f); i >= 0 && i+1 < len(stack) {
					code = stack[i+1]
				}
			}
			if code == nil || code.Nop {
				checked[f.ID()] = true
			} else {
				checked[FuncID{Object: code.obj.patch.Module, Name: code.New, Pos: 1}] = true
			}
		}
	}
	return checked
}

// Force writes 1 to /sys/kernel/livepatch/<module>/force (force_store,
// klp_force_transition; 6.1, 6.12, 7.x): every task switches whatever its
// stack, and the transition completes. The patches that may still be in
// use are marked forced and their modules can never be removed: the
// transition patch when unpatching, every other listed patch when a
// replace patch is patching.
func (k *Kernel) Force(module string) *Refusal {
	p := k.listed(module)
	if p == nil {
		return refuse(ENOENT, "/sys/kernel/livepatch/%s/force: No such file or directory", module)
	}
	if p != k.transition {
		return refuse(EINVAL, "livepatch: %s is not in transition, there is nothing to force", module)
	}
	k.logf("forcing remaining tasks to the patched state")
	for _, t := range k.tasks {
		t.state = int(k.target)
	}
	if k.target == Unpatched {
		p.Forced = true
	} else if p.Replace {
		for _, q := range k.patches {
			if q != p {
				q.Forced = true
			}
		}
	}
	k.finishTransition()
	return nil
}
