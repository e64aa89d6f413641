// Package klp is a pure model of the Linux 6.1 kernel's livepatch core
// (kernel/livepatch/{core,patch,transition,state}.c) and of the parts of the
// module loader it depends on.
//
// It knows nothing of HCL, files or kernel builds: callers describe patches
// as the kernel sees them (struct klp_patch), perform the operations an
// operator performs (insmod, a write to /sys/kernel/livepatch/<p>/enabled,
// rmmod, loading and removing ordinary modules) and ask which implementation
// every function runs. Each rule names the kernel function it mirrors. An
// operation the kernel refuses returns a *Refusal and leaves the model as it
// was, as the kernel does.
package klp

import (
	"fmt"
	"sort"
)

// Vmlinux is the name of the core kernel object (klp_object.name == NULL).
const Vmlinux = "vmlinux"

// Errno values the livepatch core and module loader return.
type Errno int

// The errnos of include/uapi/asm-generic/errno-base.h that appear here.
const (
	ENOENT  Errno = 2
	ENOEXEC Errno = 8
	EAGAIN  Errno = 11 // EWOULDBLOCK
	ENODEV  Errno = 19
	EBUSY   Errno = 16
	EEXIST  Errno = 17
	EINVAL  Errno = 22
)

// String returns the errno's name.
func (e Errno) String() string {
	switch e {
	case ENOENT:
		return "ENOENT"
	case EAGAIN:
		return "EAGAIN"
	case ENOEXEC:
		return "ENOEXEC"
	case ENODEV:
		return "ENODEV"
	case EBUSY:
		return "EBUSY"
	case EEXIST:
		return "EEXIST"
	case EINVAL:
		return "EINVAL"
	}
	return fmt.Sprintf("errno %d", int(e))
}

// Text returns strerror(errno), as insmod and the shell print it.
func (e Errno) Text() string {
	switch e {
	case ENOENT:
		return "No such file or directory"
	case EAGAIN:
		return "Resource temporarily unavailable"
	case ENOEXEC:
		return "Exec format error"
	case ENODEV:
		return "No such device"
	case EBUSY:
		return "Device or resource busy"
	case EEXIST:
		return "File exists"
	case EINVAL:
		return "Invalid argument"
	}
	return e.String()
}

// Refusal is the kernel refusing an operation: the errno the operation
// returns and the kernel log lines that explain it.
type Refusal struct {
	Errno Errno
	Log   []string
}

func (r *Refusal) Error() string {
	if len(r.Log) == 0 {
		return fmt.Sprintf("%s (%s)", r.Errno.Text(), r.Errno)
	}
	return fmt.Sprintf("%s (%s): %s", r.Errno.Text(), r.Errno, r.Log[0])
}

func refuse(errno Errno, format string, args ...any) *Refusal {
	return &Refusal{Errno: errno, Log: []string{fmt.Sprintf(format, args...)}}
}

// FuncSpec is one entry of a klp_object's funcs array.
type FuncSpec struct {
	Name   string // old_name
	New    string // new_func, by name
	Sympos int    // old_sympos
}

// ObjectSpec is one entry of a klp_patch's objs array.
type ObjectSpec struct {
	Name  string // "vmlinux" or a module name
	Funcs []FuncSpec
	// Relocs is set when the livepatch module has .klp.rela sections for
	// this (module) object: relocations against the module's own symbols,
	// written when the module is present (klp_apply_object_relocs).
	Relocs bool
}

// StateSpec is one entry of a klp_patch's states array.
type StateSpec struct {
	ID      int64
	Version int64
}

// PatchSpec is the struct klp_patch a livepatch module hands to
// klp_enable_patch, and the module's name.
type PatchSpec struct {
	Module  string
	Replace bool
	Objects []ObjectSpec
	States  []StateSpec
}

// FuncID identifies a patched function the way the kernel does, by its
// address: the object, the name and the position among same-named symbols.
// sympos 0 means "the unique one", which is position 1.
type FuncID struct {
	Object string
	Name   string
	Pos    int
}

func funcID(object, name string, sympos int) FuncID {
	return FuncID{Object: object, Name: name, Pos: max(sympos, 1)}
}

// Symbols answers the questions the kernel asks its symbol tables while a
// patch is initialised or a module comes. A nil Symbols accepts everything.
type Symbols interface {
	// Find mirrors klp_find_object_symbol: the function must exist in the
	// loaded object with that sympos.
	Find(object, name string, sympos int) *Refusal
	// Traceable mirrors the ftrace_location check of klp_patch_func.
	Traceable(object, name string, sympos int) *Refusal
}

// Func is a struct klp_func in the kernel.
type Func struct {
	Name       string
	New        string
	Sympos     int
	Nop        bool
	Patched    bool
	Transition bool
	obj        *Object
}

// ID returns the function's identity.
func (f *Func) ID() FuncID { return funcID(f.obj.Name, f.Name, f.Sympos) }

// Patch returns the patch the function belongs to.
func (f *Func) Patch() *Patch { return f.obj.patch }

// Object is a struct klp_object in the kernel.
type Object struct {
	Name    string
	Funcs   []*Func
	Dynamic bool
	Patched bool
	// Relocs: the object has module-specific .klp.rela sections;
	// relocated: they have been written into the livepatch module's code.
	// 6.1 never clears them (there is no klp_clear_object_relocs), so they
	// cannot be written a second time.
	Relocs    bool
	relocated bool
	patch     *Patch
}

// Patch is a struct klp_patch in the kernel.
type Patch struct {
	Module  string
	Replace bool
	Objects []*Object
	States  []StateSpec
	Enabled bool
}

// Module is a loaded kernel module.
type Module struct {
	Name string
	// Patch is the module's klp_patch for a livepatch module, nil for an
	// ordinary one. It stays set after the patch is freed: the module is
	// still loaded until rmmod.
	Patch *Patch
	// Ref is true while the livepatch core holds a reference on the module
	// (try_module_get in klp_enable_patch, dropped in klp_free_patch_finish).
	Ref bool
}

// Target is the state a transition moves to.
type Target int

// Transition targets (KLP_UNPATCHED, KLP_PATCHED).
const (
	Unpatched Target = 0
	Patched   Target = 1
)

// Kernel is the livepatch core of one running kernel.
type Kernel struct {
	// Symbols answers symbol and ftrace questions; nil accepts everything.
	Symbols Symbols

	patches    []*Patch // klp_patches: enabled or in transition, oldest first
	modules    map[string]*Module
	stacks     map[FuncID][]*Func // klp_ops func_stack, top first
	transition *Patch             // klp_transition_patch
	target     Target             // klp_target_state
}

// New returns a freshly booted kernel with the given ordinary modules loaded.
func New(symbols Symbols, modules ...string) *Kernel {
	k := &Kernel{Symbols: symbols, modules: map[string]*Module{}, stacks: map[FuncID][]*Func{}}
	for _, m := range modules {
		k.modules[m] = &Module{Name: m}
	}
	return k
}

// Patches returns the patches in klp_patches, oldest first: what
// /sys/kernel/livepatch lists.
func (k *Kernel) Patches() []*Patch { return append([]*Patch(nil), k.patches...) }

// Transition returns the patch in transition and its target, or nil.
func (k *Kernel) Transition() (*Patch, Target) { return k.transition, k.target }

// Module returns a loaded module, or nil.
func (k *Kernel) Module(name string) *Module { return k.modules[name] }

// Loaded reports whether an object is present: vmlinux always is, a module
// while it is loaded.
func (k *Kernel) Loaded(object string) bool {
	return object == Vmlinux || k.modules[object] != nil
}

// Modules returns the names of the loaded modules, sorted.
func (k *Kernel) Modules() []string {
	names := make([]string, 0, len(k.modules))
	for n := range k.modules {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Stack returns the func_stack of a function, top first.
func (k *Kernel) Stack(id FuncID) []*Func { return append([]*Func(nil), k.stacks[id]...) }
