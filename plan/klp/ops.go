package klp

import (
	"fmt"
	"slices"
)

// Insmod loads a livepatch module whose init calls klp_enable_patch. On
// success the patch is enabled and its transition started; call
// CompleteTransition to let every task switch. On refusal nothing changes.
func (k *Kernel) Insmod(spec PatchSpec) *Refusal {
	// load_module -> add_unformed_module: one module of a name at a time.
	if m := k.modules[spec.Module]; m != nil {
		return refuse(EEXIST, "module %s is already loaded", spec.Module)
	}
	p := &Patch{Module: spec.Module, Replace: spec.Replace, States: slices.Clone(spec.States)}
	for _, os := range spec.Objects {
		o := &Object{Name: os.Name, Relocs: os.Relocs, patch: p}
		for _, fs := range os.Funcs {
			o.Funcs = append(o.Funcs, &Func{Name: fs.Name, New: fs.New, Sympos: fs.Sympos, obj: o})
		}
		p.Objects = append(p.Objects, o)
	}
	if r := k.enablePatch(p); r != nil {
		return r
	}
	k.modules[spec.Module] = &Module{Name: spec.Module, Patch: p, Ref: true}
	return nil
}

// enablePatch mirrors klp_enable_patch (kernel/livepatch/core.c).
func (k *Kernel) enablePatch(p *Patch) *Refusal {
	if !k.patchCompatible(p) {
		r := refuse(EINVAL, "livepatch: Livepatch patch (%s) is not compatible with the already installed livepatches.", p.Module)
		return r
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
		funcDirs := map[string]bool{}
		for _, f := range o.Funcs {
			// klp_init_func names the directory "%s,%lu" with sympos 0
			// shown as 1, so (f, 0) and (f, 1) collide.
			dir := fmt.Sprintf("%s,%d", f.Name, max(f.Sympos, 1))
			if funcDirs[dir] {
				return refuse(EEXIST, "sysfs: cannot create duplicate filename '/kernel/livepatch/%s/%s/%s'", p.Module, o.Name, dir)
			}
			funcDirs[dir] = true
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
func (k *Kernel) initObjectLoaded(p *Patch, o *Object) *Refusal {
	if o.Relocs && o.Name != Vmlinux {
		if o.relocated {
			return refuse(ENOEXEC, "x86/modules: Invalid relocation target, existing value is nonzero for type 2 (livepatch '%s' relocated its code for module '%s' before, and 6.1 does not clear klp relocations when a module goes)", p.Module, o.Name)
		}
		o.relocated = true
	}
	if k.Symbols != nil {
		for _, f := range o.Funcs {
			if r := k.Symbols.Find(o.Name, f.Name, f.Sympos); r != nil {
				return r
			}
		}
	}
	return nil
}

// addNops mirrors klp_add_nops and klp_add_object_nops: for every function
// of every installed patch that p does not patch itself (matched by name and
// sympos), p gets a nop, in a dynamic object if p lacks the object.
func (k *Kernel) addNops(p *Patch) {
	for _, old := range k.patches {
		for _, oo := range old.Objects {
			obj := p.object(oo.Name)
			if obj == nil {
				obj = &Object{Name: oo.Name, Dynamic: true, patch: p}
				p.Objects = append(p.Objects, obj)
			}
			for _, of := range oo.Funcs {
				if obj.findFunc(of.Name, of.Sympos) != nil {
					continue
				}
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

// findFunc mirrors klp_find_func: the same old_name and old_sympos, where
// sympos 0 and 1 count as identical (both select the first symbol of the
// name; the Debian 6.1 kernel carries that rule, and the real kernel
// accepts a replace patch spelled (f, 1) over an installed (f, 0)).
func (o *Object) findFunc(name string, sympos int) *Func {
	for _, f := range o.Funcs {
		if f.Name == name && max(f.Sympos, 1) == max(sympos, 1) {
			return f
		}
	}
	return nil
}

// startEnable mirrors __klp_enable_patch.
func (k *Kernel) startEnable(p *Patch) *Refusal {
	if k.transition != nil {
		return refuse(EBUSY, "livepatch: %s: another livepatch (%s) is in transition", p.Module, k.transition.Module)
	}
	k.initTransition(p, Patched)
	for _, o := range p.Objects {
		if !k.Loaded(o.Name) {
			continue
		}
		if r := k.patchObject(o); r != nil {
			r.Log = append(r.Log,
				fmt.Sprintf("livepatch: failed to patch object '%s'", o.Name),
				fmt.Sprintf("livepatch: failed to enable patch '%s'", p.Module))
			k.cancelTransition()
			return r
		}
	}
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
// present and absent objects alike, is marked as in transition.
func (k *Kernel) initTransition(p *Patch, target Target) {
	k.transition, k.target = p, target
	for _, o := range p.Objects {
		for _, f := range o.Funcs {
			f.Transition = true
		}
	}
}

// cancelTransition mirrors klp_cancel_transition: an enable that failed
// before its transition started goes back to unpatched.
func (k *Kernel) cancelTransition() {
	k.target = Unpatched
	p := k.transition
	k.unpatchObjects(p)
	k.endTransition(p)
}

func (k *Kernel) endTransition(p *Patch) {
	for _, o := range p.Objects {
		for _, f := range o.Funcs {
			f.Transition = false
		}
	}
	k.transition = nil
	k.target = Unpatched
}

// CompleteTransition lets every task switch to the target state and runs
// klp_complete_transition, then the frees klp_try_complete_transition
// schedules. It does nothing when no transition is pending.
func (k *Kernel) CompleteTransition() {
	p := k.transition
	if p == nil {
		return
	}
	target := k.target
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
	k.endTransition(p)
	if !p.Enabled {
		k.freePatch(p) // klp_free_patch_async
	} else if p.Replace {
		// klp_free_replaced_patches_async frees every older patch.
		for len(k.patches) > 0 && k.patches[0] != p {
			k.freePatch(k.patches[0])
		}
	}
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
	if m := k.modules[p.Module]; m != nil && m.Patch == p {
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

// reverseTransition mirrors klp_reverse_transition.
func (k *Kernel) reverseTransition() {
	p := k.transition
	p.Enabled = !p.Enabled
	k.target = 1 - k.target
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
// transition); a replaced or disabled one can.
// An ordinary module goes at once, and every patch of it is reverted
// (klp_module_going).
func (k *Kernel) Rmmod(module string) *Refusal {
	m := k.modules[module]
	if m == nil {
		return refuse(ENOENT, "rmmod: ERROR: Module %s is not currently loaded", module)
	}
	// delete_module -> try_stop_module: a module someone holds a
	// reference on cannot go (-EWOULDBLOCK).
	if m.Ref {
		return refuse(EAGAIN, "rmmod: ERROR: could not remove module %s: Resource temporarily unavailable (the livepatch core holds it while its patch is enabled)", module)
	}
	if m.Patch == nil {
		k.moduleGoing(module)
	}
	delete(k.modules, module)
	return nil
}

// moduleGoing mirrors klp_module_going and
// klp_cleanup_module_patches_limited: no transition, the module is gone.
func (k *Kernel) moduleGoing(module string) {
	for _, p := range k.patches {
		for _, o := range p.Objects {
			if o.Name == module && o.Patched {
				k.unpatchObject(o, false)
			}
		}
	}
}

// Modprobe loads an ordinary module. Every listed patch with an object for
// it is applied, oldest first (klp_module_coming); if one cannot be, the
// patches applied so far are reverted and the module load fails.
func (k *Kernel) Modprobe(module string) *Refusal {
	if k.modules[module] != nil {
		return refuse(EEXIST, "module %s is already loaded", module)
	}
	if module == Vmlinux {
		return refuse(EINVAL, "livepatch: vmlinux.ko: invalid module name")
	}
	k.modules[module] = &Module{Name: module}
	for _, p := range k.patches {
		o := p.object(module)
		if o == nil {
			continue
		}
		r := k.initObjectLoaded(p, o)
		if r != nil {
			r.Log = append(r.Log, fmt.Sprintf("livepatch: failed to initialize patch '%s' for module '%s' (%d)", p.Module, module, -int(r.Errno)))
		} else {
			r = k.patchObject(o)
			if r != nil {
				r.Log = append(r.Log, fmt.Sprintf("livepatch: failed to apply patch '%s' to module '%s' (%d)", p.Module, module, -int(r.Errno)))
			}
		}
		if r != nil {
			r.Log = append(r.Log, fmt.Sprintf("livepatch: patch '%s' failed for module '%s', refusing to load module '%s'", p.Module, module, module))
			k.moduleGoing(module)
			delete(k.modules, module)
			return r
		}
	}
	return nil
}
