// Package klp is a pure model of the Linux kernel's livepatch core
// (kernel/livepatch/{core,patch,transition,state}.c) and of the parts of the
// module loader it depends on, for the kernel lines 6.1, 6.12 and 7.x (see
// Line). It imports only the standard library.
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
	// RelocSymbols are the module's symbols those sections refer to
	// (.klp.sym.<object>.<name>,<sympos>), which klp_resolve_symbols
	// looks up before any is written.
	RelocSymbols []SymbolSpec
	// Callbacks are the object's klp_callbacks.
	Callbacks Callbacks
}

// SymbolSpec is one .klp.sym symbol of a klp relocation section.
type SymbolSpec struct {
	Name   string
	Sympos int
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
	// Traceable mirrors the ftrace_location check of klp_patch_func. For
	// a module it answers for the module's text as loaded, init text
	// included (ftrace_module_init records it; do_init_module frees it).
	Traceable(object, name string, sympos int) *Refusal
}

// InitSymbols is implemented by a Symbols that knows which module
// functions are __init. A module's symbol table (mod->kallsyms) holds its
// init symbols only while the module is COMING: do_init_module switches it
// to core_kallsyms once init returned (6.1, 6.12, 7.x). So the livepatch
// core finds an init function only in klp_module_coming or while the
// module's own init runs, never in a module that is already live.
type InitSymbols interface {
	// InitOnly reports whether the function of a module lives in the
	// module's init text. It is not asked for vmlinux.
	InitOnly(object, name string, sympos int) bool
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
	Relocs       bool
	RelocSymbols []SymbolSpec
	relocated    bool
	// Callbacks are the object's klp_callbacks; nop objects have none.
	Callbacks Callbacks
	// postUnpatchEnabled mirrors callbacks.post_unpatch_enabled: set by
	// klp_pre_patch_callback when pre_patch succeeded.
	postUnpatchEnabled bool
	patch              *Patch
}

// Patch is a struct klp_patch in the kernel.
type Patch struct {
	Module  string
	Replace bool
	Objects []*Object
	States  []StateSpec
	Enabled bool
	// Forced is set by klp_force_transition on the patches it may leave
	// in use: their module reference is never dropped.
	Forced bool
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
	// State is the module's state: ModuleComing while klp_module_coming and its
	// init run, ModuleLive after, ModuleGoing while it is removed.
	State ModuleState
}

// ModuleState is enum module_state (include/linux/module.h).
type ModuleState int

// Module states.
const (
	ModuleLive ModuleState = iota
	ModuleComing
	ModuleGoing
)

// String returns the kernel's name, e.g. "MODULE_STATE_COMING".
func (s ModuleState) String() string {
	switch s {
	case ModuleComing:
		return "MODULE_STATE_COMING"
	case ModuleGoing:
		return "MODULE_STATE_GOING"
	}
	return "MODULE_STATE_LIVE"
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

	line  Line
	trace []Event
	tasks map[string]*task

	patches    []*Patch // klp_patches: enabled or in transition, oldest first
	modules    map[string]*Module
	stacks     map[FuncID][]*Func // klp_ops func_stack, top first
	transition *Patch             // klp_transition_patch
	target     Target             // klp_target_state
}

// New returns a freshly booted 6.1 kernel with the given ordinary modules
// loaded.
func New(symbols Symbols, modules ...string) *Kernel {
	return NewLine(Line6_1, symbols, modules...)
}

// NewLine returns a freshly booted kernel of a line with the given ordinary
// modules loaded. An unknown line is modelled as 6.1.
func NewLine(line Line, symbols Symbols, modules ...string) *Kernel {
	if line < Line6_1 || line > Line7 {
		line = Line6_1
	}
	k := &Kernel{Symbols: symbols, line: line, modules: map[string]*Module{}, stacks: map[FuncID][]*Func{}, tasks: map[string]*task{}}
	for _, m := range modules {
		k.modules[m] = &Module{Name: m}
	}
	return k
}

// Line returns the kernel line the model follows.
func (k *Kernel) Line() Line { return k.line }

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

// StackView is Stack without the copy, for callers that read it at once
// and do not keep or modify it.
func (k *Kernel) StackView(id FuncID) []*Func { return k.stacks[id] }
