package klp

import (
	"fmt"
	"slices"
)

// Insmod loads a livepatch module whose init calls klp_enable_patch. On
// success the patch is enabled and its transition started; call
// CompleteTransition to let every task switch. On refusal nothing changes.
//
// A livepatch module is a module: klp_module_coming runs for it before its
// init, so listed patches with an object of that name are applied to it,
// and a failed init runs klp_module_going (do_init_module; 6.1, 6.12, 7.x).
func (k *Kernel) Insmod(spec PatchSpec) *Refusal {
	// load_module -> add_unformed_module: one module of a name at a time.
	if m := k.modules[spec.Module]; m != nil {
		return refuse(EEXIST, "module %s is already loaded", spec.Module)
	}
	if spec.Module == Vmlinux {
		return refuse(EINVAL, "livepatch: vmlinux.ko: invalid module name")
	}
	p := &Patch{Module: spec.Module, Replace: spec.Replace, States: slices.Clone(spec.States)}
	for _, os := range spec.Objects {
		o := &Object{Name: os.Name, Relocs: os.Relocs, RelocSymbols: slices.Clone(os.RelocSymbols), Callbacks: os.Callbacks, patch: p}
		for _, fs := range os.Funcs {
			o.Funcs = append(o.Funcs, &Func{Name: fs.Name, New: fs.New, Sympos: fs.Sympos, obj: o})
		}
		p.Objects = append(p.Objects, o)
	}
	m := &Module{Name: spec.Module, Patch: p, State: ModuleComing}
	k.modules[spec.Module] = m
	if r := k.moduleComing(spec.Module); r != nil {
		delete(k.modules, spec.Module)
		return r
	}
	if r := k.enablePatch(p); r != nil {
		// do_init_module: a failed init makes the module go again.
		if e := k.line.InitErrno(r.Errno); e != r.Errno {
			r.Log = append(r.Log, fmt.Sprintf("do_init_module: the init of %s returned %s, reported as %s on %s", spec.Module, r.Errno, e, k.line))
			r.Errno = e
		}
		m.State = ModuleGoing
		k.moduleGoing(spec.Module)
		delete(k.modules, spec.Module)
		return r
	}
	m.State, m.Ref = ModuleLive, true
	return nil
}

// enablePatch mirrors klp_enable_patch (kernel/livepatch/core.c).
func (k *Kernel) enablePatch(p *Patch) *Refusal {
	if !k.patchCompatible(p) {
		k.logf("Livepatch patch (%s) is not compatible with the already installed livepatches.", p.Module)
		return refuse(EINVAL, "livepatch: Livepatch patch (%s) is not compatible with the already installed livepatches.", p.Module)
	}
	if r := k.initPatch(p); r != nil {
		return r
	}
	k.patches = append(k.patches, p) // list_add_tail in klp_init_patch
	if r := k.startEnable(p); r != nil {
		k.patches = k.patches[:len(k.patches)-1] // klp_free_patch_start
		return r
	}
	return nil
}

// patchCompatible mirrors klp_is_patch_compatible and
// klp_is_state_compatible (kernel/livepatch/state.c): every state of every
// installed patch must be carried with the same or a higher version, and
// only a non-replace patch may leave one out.
func (k *Kernel) patchCompatible(p *Patch) bool {
	return k.StateConflict(p.Replace, p.States) == nil
}

// StateConflict describes the first installed state that a patch with the
// given replace flag and states would be refused for, or nil.
type StateConflict struct {
	Installed *Patch
	State     StateSpec
	// New is the version the new patch carries, -1 when it lacks the id.
	New int64
}

// StateConflict returns why klp_is_patch_compatible would refuse a patch,
// or nil when it would not.
func (k *Kernel) StateConflict(replace bool, states []StateSpec) *StateConflict {
	for _, old := range k.patches {
		for _, os := range old.States {
			// klp_for_each_state stops at id 0.
			if os.ID == 0 {
				break
			}
			ns, ok := findState(states, os.ID)
			if !ok {
				if replace {
					return &StateConflict{Installed: old, State: os, New: -1}
				}
				continue
			}
			if ns.Version < os.Version {
				return &StateConflict{Installed: old, State: os, New: ns.Version}
			}
		}
	}
	return nil
}

// findState mirrors klp_get_state.
func findState(states []StateSpec, id int64) (StateSpec, bool) {
	for _, s := range states {
		if s.ID == 0 {
			break
		}
		if s.ID == id {
			return s, true
		}
	}
	return StateSpec{}, false
}

// initPatch mirrors klp_init_patch, klp_init_object and klp_init_func.
func (k *Kernel) initPatch(p *Patch) *Refusal {
	if p.Replace {
		k.addNops(p)
	}
	objDirs := map[string]bool{}
	for _, o := range p.Objects {
		// klp_init_object: module names must fit MODULE_NAME_LEN.
		if o.Name != Vmlinux && len(o.Name) >= 56 {
			return refuse(EINVAL, "livepatch: object name %q is too long", o.Name)
		}
		// kobject_add of the object directory: a second object of one name
		// collides in sysfs.
		if objDirs[o.Name] {
			return refuse(EEXIST, "sysfs: cannot create duplicate filename '/kernel/livepatch/%s/%s'", p.Module, o.Name)
		}
		objDirs[o.Name] = true
		type funcDir struct {
			name string
			pos  int
		}
		funcDirs := make(map[funcDir]bool, len(o.Funcs))
		for _, f := range o.Funcs {
			// klp_init_func names the directory "%s,%lu" with sympos 0
			// shown as 1, so (f, 0) and (f, 1) collide, and kobject_add
			// fails with -EEXIST before anything is patched (6.1, 6.12,
			// 7.x; the errno insmod reports is Line.InitErrno's).
			if funcDirs[funcDir{f.Name, max(f.Sympos, 1)}] {
				dir := f.sysfsName()
				return &Refusal{Errno: EEXIST, Log: []string{
					fmt.Sprintf("sysfs: cannot create duplicate filename '/kernel/livepatch/%s/%s/%s'", p.Module, o.Name, dir),
					fmt.Sprintf("kobject_add_internal failed for %s with -EEXIST, don't try to register things with the same name in the same directory.", dir),
				}}
			}
			funcDirs[funcDir{f.Name, max(f.Sympos, 1)}] = true
		}
		// klp_init_object_loaded: the relocations and symbols of a present
		// object are resolved now; those of an absent module when it comes.
		if k.Loaded(o.Name) {
			if r := k.initObjectLoaded(p, o); r != nil {
				return r
			}
		}
	}
	return nil
}

// initObjectLoaded mirrors klp_init_object_loaded: module-specific
// livepatch relocations first (klp_apply_object_relocs), then the symbol
// of every func. x86's apply_relocate_add refuses to write a relocation
// whose target is not zero, and 6.1 never clears the relocations when the
// module goes, so they apply only the first time.
//
// A module's init functions are found only while it is COMING
// (InitSymbols; do_init_module switches to core_kallsyms after init).
func (k *Kernel) initObjectLoaded(p *Patch, o *Object) *Refusal {
	if o.Relocs && o.Name != Vmlinux {
		// klp_resolve_symbols finds every symbol of a section before
		// apply_relocate_add writes any (6.1, 6.12, 7.x).
		if k.Symbols != nil {
			for _, s := range o.RelocSymbols {
				if r := k.Symbols.Find(o.Name, s.Name, s.Sympos); r != nil {
					return r
				}
			}
		}
		if o.relocated {
			return refuse(ENOEXEC, "x86/modules: Invalid relocation target, existing value is nonzero for type 2 (livepatch '%s' relocated its code for module '%s' before, and 6.1 does not clear klp relocations when a module goes)", p.Module, o.Name)
		}
		o.relocated = true
	}
	if k.Symbols == nil {
		return nil
	}
	init, _ := k.Symbols.(InitSymbols)
	coming := o.Name != Vmlinux && k.modules[o.Name] != nil && k.modules[o.Name].State == ModuleComing
	for _, f := range o.Funcs {
		if r := k.Symbols.Find(o.Name, f.Name, f.Sympos); r != nil {
			return r
		}
		if init != nil && o.Name != Vmlinux && !coming && init.InitOnly(o.Name, f.Name, f.Sympos) {
			return refuse(EINVAL, "livepatch: symbol '%s' not found in symbol table (it is an __init function of %s, and a live module's symbol table no longer holds its init symbols)", f.Name, o.Name)
		}
	}
	return nil
}

// addNops mirrors klp_add_nops and klp_add_object_nops: for every function
// of every installed patch that p does not patch itself (matched by name and
// sympos), p gets a nop, in a dynamic object if p lacks the object.
func (k *Kernel) addNops(p *Patch) {
	// klp_find_func searches the new patch's funcs linearly; an index of
	// the funcs each object already has keeps this linear in the number of
	// funcs. Its identity is klp_find_func's: the same old_name and
	// old_sympos, where sympos 0 and 1 count as identical (both select the
	// first symbol of the name; the Debian 6.1 kernel carries that rule,
	// as do 6.12 and 7.x, and the real kernel accepts a replace patch
	// spelled (f, 1) over an installed (f, 0)).
	type key struct {
		name string
		pos  int
	}
	have := map[*Object]map[key]bool{}
	index := func(o *Object) map[key]bool {
		m := have[o]
		if m == nil {
			m = make(map[key]bool, len(o.Funcs))
			for _, f := range o.Funcs {
				m[key{f.Name, max(f.Sympos, 1)}] = true
			}
			have[o] = m
		}
		return m
	}
	for _, old := range k.patches {
		for _, oo := range old.Objects {
			obj := p.object(oo.Name)
			if obj == nil {
				obj = &Object{Name: oo.Name, Dynamic: true, patch: p}
				p.Objects = append(p.Objects, obj)
			}
			m := index(obj)
			for _, of := range oo.Funcs {
				id := key{of.Name, max(of.Sympos, 1)}
				if m[id] {
					continue
				}
				m[id] = true
				obj.Funcs = append(obj.Funcs, &Func{Name: of.Name, Sympos: of.Sympos, Nop: true, obj: obj})
			}
		}
	}
}

func (p *Patch) object(name string) *Object {
	for _, o := range p.Objects {
		if o.Name == name {
			return o
		}
	}
	return nil
}

// startEnable mirrors __klp_enable_patch (core.c; 6.1, 6.12, 7.x): per
// present object, in array order, pre_patch then patching; a failure
// cancels the transition, which runs post_unpatch for the objects whose
// pre_patch succeeded.
func (k *Kernel) startEnable(p *Patch) *Refusal {
	if k.transition != nil {
		return refuse(EBUSY, "livepatch: %s: another livepatch (%s) is in transition", p.Module, k.transition.Module)
	}
	k.logf("enabling patch '%s'", p.Module)
	k.initTransition(p, Patched)
	for _, o := range p.Objects {
		if !k.Loaded(o.Name) {
			continue
		}
		var r *Refusal
		if errno := k.prePatch(o); errno != 0 {
			k.logf("pre-patch callback failed for object '%s'", o.Name)
			r = refuse(errno, "livepatch: pre-patch callback failed for object '%s'", o.Name)
		} else if r = k.patchObject(o); r != nil {
			k.logf("failed to patch object '%s'", o.Name)
			r.Log = append(r.Log, fmt.Sprintf("livepatch: failed to patch object '%s'", o.Name))
		}
		if r != nil {
			k.logf("failed to enable patch '%s'", p.Module)
			r.Log = append(r.Log, fmt.Sprintf("livepatch: failed to enable patch '%s'", p.Module))
			k.cancelTransition()
			return r
		}
	}
	k.startTransition()
	p.Enabled = true
	return nil
}

// patchObject mirrors klp_patch_object and klp_patch_func: each func is
// pushed on top of its function's func_stack.
func (k *Kernel) patchObject(o *Object) *Refusal {
	for _, f := range o.Funcs {
		id := f.ID()
		if len(k.stacks[id]) == 0 && k.Symbols != nil {
			if r := k.Symbols.Traceable(o.Name, f.Name, f.Sympos); r != nil {
				k.unpatchObject(o, false)
				return r
			}
		}
		k.stacks[id] = append([]*Func{f}, k.stacks[id]...)
		f.Patched = true
	}
	o.Patched = true
	return nil
}

// unpatchObject mirrors __klp_unpatch_object: it removes the object's funcs
// (or only its nops) from their func_stacks, wherever they sit.
func (k *Kernel) unpatchObject(o *Object, nopsOnly bool) {
	for _, f := range o.Funcs {
		if nopsOnly && !f.Nop || !f.Patched {
			continue
		}
		id := f.ID()
		k.stacks[id] = slices.DeleteFunc(k.stacks[id], func(g *Func) bool { return g == f })
		if len(k.stacks[id]) == 0 {
			delete(k.stacks, id) // the klp_ops and its ftrace_ops are freed
		}
		f.Patched = false
	}
	if o.Dynamic || !nopsOnly {
		o.Patched = false
	}
}

func (k *Kernel) unpatchObjects(p *Patch) {
	for _, o := range p.Objects {
		if o.Patched {
			k.unpatchObject(o, false)
		}
	}
}

// initTransition mirrors klp_init_transition: every func of the patch, of
// present and absent objects alike, is marked as in transition, and every
// task starts in the state opposite the target.
func (k *Kernel) initTransition(p *Patch, target Target) {
	k.transition, k.target = p, target
	k.logf("'%s': initializing %s transition", p.Module, target.verb())
	for _, t := range k.tasks {
		t.state = int(1 - target)
	}
	for _, o := range p.Objects {
		for _, f := range o.Funcs {
			f.Transition = true
		}
	}
}

// startTransition mirrors klp_start_transition.
func (k *Kernel) startTransition() {
	k.logf("'%s': starting %s transition", k.transition.Module, k.target.verb())
}

func (t Target) verb() string {
	if t == Patched {
		return "patching"
	}
	return "unpatching"
}

// cancelTransition mirrors klp_cancel_transition: an enable that failed
// before its transition started goes back to unpatched, and the patch is
// freed (klp_free_patch_start in klp_enable_patch's error path).
func (k *Kernel) cancelTransition() {
	k.logf("'%s': canceling patching transition, going to unpatch", k.transition.Module)
	k.target = Unpatched
	k.completeTransition()
}

// completeTransition mirrors klp_complete_transition (transition.c; 6.1,
// 6.12, 7.x): the replaced patches are unpatched without callbacks and the
// nops discarded, an unpatching patch leaves its func_stacks, and the post
// callbacks of the patch's present objects run.
func (k *Kernel) completeTransition() {
	p, target := k.transition, k.target
	k.logf("'%s': completing %s transition", p.Module, target.verb())
	if p.Replace && target == Patched {
		// klp_unpatch_replaced_patches, then klp_discard_nops.
		for _, old := range k.patches {
			if old == p {
				break
			}
			old.Enabled = false
			k.unpatchObjects(old)
		}
		k.discardNops(p)
	}
	if target == Unpatched {
		k.unpatchObjects(p)
	}
	for _, o := range p.Objects {
		for _, f := range o.Funcs {
			f.Transition = false
		}
	}
	for _, t := range k.tasks {
		t.state = idle
	}
	for _, o := range p.Objects {
		if !k.Loaded(o.Name) {
			continue
		}
		if target == Patched {
			k.postPatch(o)
		} else {
			k.postUnpatch(o)
		}
	}
	k.logf("'%s': %s complete", p.Module, target.verb())
	k.transition = nil
	k.target = Unpatched
}

// CompleteTransition lets every task that can switch do so and, when none
// is left behind, completes the transition as klp_try_complete_transition
// does, with the frees it schedules. Without blocked tasks (see Block) the
// transition always completes. It does nothing when no transition is
// pending.
func (k *Kernel) CompleteTransition() {
	k.TryCompleteTransition()
}

// discardNops mirrors klp_discard_nops: the nops leave their func_stacks
// and, with the dynamic objects, the patch.
func (k *Kernel) discardNops(p *Patch) {
	var kept []*Object
	for _, o := range p.Objects {
		k.unpatchObject(o, true)
		o.Funcs = slices.DeleteFunc(o.Funcs, func(f *Func) bool { return f.Nop })
		if !o.Dynamic {
			kept = append(kept, o)
		}
	}
	p.Objects = kept
}

// freePatch mirrors klp_free_patch_start/finish: the patch leaves
// klp_patches and sysfs, and its module reference is dropped.
func (k *Kernel) freePatch(p *Patch) {
	k.patches = slices.DeleteFunc(k.patches, func(q *Patch) bool { return q == p })
	if m := k.modules[p.Module]; m != nil && m.Patch == p && !p.Forced {
		m.Ref = false
	}
}

// Disable writes 0 to /sys/kernel/livepatch/<module>/enabled
// (enabled_store). Writing it during the patch's own transition reverses
// that transition.
func (k *Kernel) Disable(module string) *Refusal {
	p := k.listed(module)
	if p == nil {
		return refuse(ENOENT, "/sys/kernel/livepatch/%s/enabled: No such file or directory", module)
	}
	if p == k.transition {
		if !p.Enabled {
			return refuse(EINVAL, "livepatch: %s is already being disabled", module)
		}
		k.reverseTransition()
		return nil
	}
	if !p.Enabled {
		return refuse(EINVAL, "livepatch: %s is already disabled", module)
	}
	// __klp_disable_patch
	if k.transition != nil {
		return refuse(EBUSY, "livepatch: %s: another livepatch (%s) is in transition", module, k.transition.Module)
	}
	k.initTransition(p, Unpatched)
	for _, o := range p.Objects {
		if o.Patched {
			k.preUnpatch(o)
		}
	}
	k.startTransition()
	p.Enabled = false
	return nil
}

// Enable writes 1 to /sys/kernel/livepatch/<module>/enabled. The kernel
// only allows it to reverse the patch's own unpatching transition: "Do not
// allow to re-enable a disabled patch."
func (k *Kernel) Enable(module string) *Refusal {
	p := k.listed(module)
	if p == nil {
		return refuse(ENOENT, "/sys/kernel/livepatch/%s/enabled: No such file or directory", module)
	}
	if p == k.transition && !p.Enabled {
		k.reverseTransition()
		return nil
	}
	return refuse(EINVAL, "livepatch: a disabled patch cannot be enabled again; rmmod %s and load it again", module)
}

// reverseTransition mirrors klp_reverse_transition (transition.c; 6.1,
// 6.12, 7.x): no callbacks run; the tasks that had not switched yet are
// already in the new target state.
func (k *Kernel) reverseTransition() {
	p := k.transition
	k.logf("'%s': reversing transition from %s to %s", p.Module, k.target.verb(), (1 - k.target).verb())
	p.Enabled = !p.Enabled
	k.target = 1 - k.target
	k.startTransition()
}

func (k *Kernel) listed(module string) *Patch {
	for _, p := range k.patches {
		if p.Module == module {
			return p
		}
	}
	return nil
}

// Rmmod removes a module (the delete_module system call). A livepatch
// module cannot go while the core holds its reference (enabled, in
// transition, or forced); a replaced or disabled one can.
// Every patch of the module is reverted at once (klp_module_going), for
// livepatch modules as for ordinary ones.
func (k *Kernel) Rmmod(module string) *Refusal {
	m := k.modules[module]
	if m == nil {
		return refuse(ENOENT, "rmmod: ERROR: Module %s is not currently loaded", module)
	}
	// delete_module -> try_stop_module: a module someone holds a
	// reference on cannot go (-EWOULDBLOCK).
	if m.Ref {
		why := "the livepatch core holds it while its patch is enabled"
		if m.Patch != nil && m.Patch.Forced {
			why = "its patch was forced, and a forced patch's module reference is never dropped"
		}
		return refuse(EAGAIN, "rmmod: ERROR: could not remove module %s: Resource temporarily unavailable (%s)", module, why)
	}
	m.State = ModuleGoing
	k.moduleGoing(module)
	delete(k.modules, module)
	return nil
}

// moduleGoing mirrors klp_module_going: no transition, the module is gone.
func (k *Kernel) moduleGoing(module string) { k.cleanupModulePatches(module, nil) }

// cleanupModulePatches mirrors klp_cleanup_module_patches_limited
// (core.c): every listed patch before limit with an object for the module
// is reverted, with pre_unpatch (unless it is the patch in transition) and
// post_unpatch. 6.12 and 7.x also clear the object's klp relocations
// (klp_clear_object_relocs); 6.1 does not.
func (k *Kernel) cleanupModulePatches(module string, limit *Patch) {
	for _, p := range k.patches {
		if p == limit {
			break
		}
		o := p.object(module)
		if o == nil {
			continue
		}
		if p != k.transition {
			k.preUnpatch(o)
		}
		k.logf("reverting patch '%s' on unloading module '%s'", p.Module, module)
		k.unpatchObject(o, false)
		k.postUnpatch(o)
		if k.line.ClearsModuleRelocs() {
			o.relocated = false
		}
	}
}

// Modprobe loads an ordinary module. Every listed patch with an object for
// it is applied, oldest first (klp_module_coming); if one cannot be, the
// patches applied so far are reverted and the module load fails with that
// patch's errno (load_module: prepare_coming_module fails; 6.1, 6.12, 7.x).
func (k *Kernel) Modprobe(module string) *Refusal {
	if k.modules[module] != nil {
		return refuse(EEXIST, "module %s is already loaded", module)
	}
	if module == Vmlinux {
		return refuse(EINVAL, "livepatch: vmlinux.ko: invalid module name")
	}
	m := &Module{Name: module, State: ModuleComing}
	k.modules[module] = m
	if r := k.moduleComing(module); r != nil {
		delete(k.modules, module)
		return r
	}
	m.State = ModuleLive
	return nil
}

// moduleComing mirrors klp_module_coming (core.c; 6.1, 6.12, 7.x): for
// each listed patch, oldest first, its object for the module is
// initialised, pre_patch runs, the object is patched, and post_patch runs
// unless the patch is in transition (it then runs at completion).
func (k *Kernel) moduleComing(module string) *Refusal {
	for _, p := range k.patches {
		o := p.object(module)
		if o == nil {
			continue
		}
		r := k.initObjectLoaded(p, o)
		if r != nil {
			k.logf("failed to initialize patch '%s' for module '%s' (%d)", p.Module, module, -int(r.Errno))
			r.Log = append(r.Log, fmt.Sprintf("livepatch: failed to initialize patch '%s' for module '%s' (%d)", p.Module, module, -int(r.Errno)))
		} else {
			k.logf("applying patch '%s' to loading module '%s'", p.Module, module)
			if errno := k.prePatch(o); errno != 0 {
				k.logf("pre-patch callback failed for object '%s'", module)
				r = refuse(errno, "livepatch: pre-patch callback failed for object '%s'", module)
			} else if r = k.patchObject(o); r != nil {
				k.logf("failed to apply patch '%s' to module '%s' (%d)", p.Module, module, -int(r.Errno))
				r.Log = append(r.Log, fmt.Sprintf("livepatch: failed to apply patch '%s' to module '%s' (%d)", p.Module, module, -int(r.Errno)))
				k.postUnpatch(o)
			} else if p != k.transition {
				k.postPatch(o)
			}
		}
		if r != nil {
			k.logf("patch '%s' failed for module '%s', refusing to load module '%s'", p.Module, module, module)
			r.Log = append(r.Log, fmt.Sprintf("livepatch: patch '%s' failed for module '%s', refusing to load module '%s'", p.Module, module, module))
			k.cleanupModulePatches(module, p)
			return r
		}
	}
	return nil
}
