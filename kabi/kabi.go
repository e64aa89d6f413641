// Package kabi holds the facts about the kernel and klpc's own vocabulary
// that every other package shares: the limits the kernel puts on names,
// the livepatch ELF constants, and the names of step actions, expectations
// and release layouts. It imports nothing, so any package may use it;
// nothing here reads a file or decides anything about a plan.
package kabi

import (
	"fmt"
	"strings"
)

// Vmlinux is the object name livepatches use for the kernel image; the
// klp_object's name is NULL for it (klp_is_module in core.c).
const Vmlinux = "vmlinux"

// Limits the kernel puts on names. They hold for 6.1, 6.12 and 7.x.
const (
	// ModuleNameLen is MODULE_NAME_LEN on 64-bit (include/linux/module.h:
	// MAX_PARAM_PREFIX_LEN, 64 - sizeof(unsigned long)), NUL included.
	ModuleNameLen = 56
	// ModuleNameMax is the longest name struct module can hold.
	ModuleNameMax = ModuleNameLen - 1
	// KsymNameLen is KSYM_NAME_LEN (include/linux/kallsyms.h, 512 since
	// 6.1); klp_init_func refuses an old_name of this length or more.
	KsymNameLen = 512
)

// The livepatch ELF format (Documentation/livepatch/module-elf-format.rst,
// include/uapi/linux/elf.h).
const (
	SHNLivepatch     = 0xff20     // st_shndx of a .klp.sym symbol
	SHFRelaLivepatch = 0x00100000 // sh_flags bit of a .klp.rela section
	// KlpSymPrefix and KlpRelaPrefix start the names of .klp.sym symbols
	// and .klp.rela sections; klp_resolve_symbols parses the object name
	// with "%55[^.]" and the symbol with "%511[^,]".
	KlpSymPrefix  = ".klp.sym."
	KlpRelaPrefix = ".klp.rela."
)

// Action is what a deployment step does.
type Action string

// The step actions of the language.
const (
	ActionLoad         Action = "load"          // insmod of a livepatch module
	ActionDisable      Action = "disable"       // echo 0 > /sys/kernel/livepatch/<p>/enabled
	ActionUnload       Action = "unload"        // rmmod of a livepatch module
	ActionModuleLoad   Action = "module_load"   // modprobe of an ordinary module
	ActionModuleUnload Action = "module_unload" // rmmod of an ordinary module
	ActionEnable       Action = "enable"        // echo 1 > .../enabled: reverses a pending unpatching
	ActionForce        Action = "force"         // echo 1 > .../force: completes a pending transition
	ActionBlock        Action = "block"         // a task sleeps in a function (keeps transitions pending)
	ActionRelease      Action = "release"       // the sleeping task returns
)

// Actions lists every step action, in the order the README gives them.
var Actions = []Action{ActionLoad, ActionDisable, ActionUnload, ActionModuleLoad, ActionModuleUnload,
	ActionEnable, ActionForce, ActionBlock, ActionRelease}

// OnLivepatch reports whether the action names a livepatch release.
func (a Action) OnLivepatch() bool {
	return a == ActionLoad || a == ActionDisable || a == ActionUnload || a == ActionEnable || a == ActionForce
}

// OnModule reports whether the action names an ordinary module.
func (a Action) OnModule() bool { return a == ActionModuleLoad || a == ActionModuleUnload }

// OnTask reports whether the action names a task.
func (a Action) OnTask() bool { return a == ActionBlock || a == ActionRelease }

// Errnos maps the errno names a callback may return in a rehearsal to
// their numbers (include/uapi/asm-generic/errno-base.h); "0" is success.
var Errnos = map[string]int{"0": 0, "EPERM": 1, "ENOENT": 2, "EIO": 5, "ENOEXEC": 8, "EAGAIN": 11,
	"ENOMEM": 12, "EBUSY": 16, "EEXIST": 17, "ENODEV": 19, "EINVAL": 22, "ENOSPC": 28}

// StateVersionMax is the largest klp_state version: struct klp_state keeps
// it as unsigned int (include/linux/livepatch.h, 6.1 to 7.x).
const StateVersionMax = 1<<32 - 1

// Expect is what a step expects of the kernel.
type Expect string

// The expectations of a step.
const (
	ExpectOK      Expect = "ok"
	ExpectRefused Expect = "refused"
)

// Layout is how a release is split into modules.
type Layout string

// The layouts of a release.
const (
	LayoutCombined  Layout = "combined"   // one module, one klp_patch
	LayoutPerObject Layout = "per-object" // one module per patched object
)

// ModuleName turns a release name into the name kbuild gives its module:
// '-' becomes '_' (KBUILD_MODNAME).
func ModuleName(name string) string {
	return strings.ReplaceAll(name, "-", "_")
}

// PerObjectModuleName is the module of one object of a per-object release.
func PerObjectModuleName(release, object string) string {
	return ModuleName(release) + "__" + object
}

// CheckModuleName says what is wrong with name as the name of a module that
// kbuild builds from a file called name+".ko", or "" if nothing is.
func CheckModuleName(name string) string {
	switch {
	case name == "":
		return "a module name cannot be empty"
	case len(ModuleName(name)) > ModuleNameMax:
		return fmt.Sprintf("the module name %q is %d characters long; the kernel keeps at most %d (MODULE_NAME_LEN-1)",
			ModuleName(name), len(name), ModuleNameMax)
	}
	for i, r := range name {
		if !(r == '_' || r == '-' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			return fmt.Sprintf("character %q at position %d cannot appear in a module name; use letters, digits, '_' and '-'", r, i+1)
		}
	}
	return ""
}

// CheckObjectName says what is wrong with name as a klp_object name, or ""
// if nothing is. The kernel compares it byte for byte with the name of a
// loaded module (klp_find_object_module), and module names always use '_';
// the .klp.rela/.klp.sym parsers stop at '.' (klp_resolve_symbols).
func CheckObjectName(name string) string {
	if name == Vmlinux {
		return ""
	}
	if msg := CheckModuleName(name); msg != "" {
		return msg
	}
	if strings.Contains(name, "-") {
		return fmt.Sprintf("loaded modules are named with '_', never '-': the kernel would never find %q; write %q",
			name, ModuleName(name))
	}
	return ""
}

// CheckFuncName says what is wrong with name as the name of a kernel symbol
// to patch, or "" if nothing is. It must be a C identifier, optionally with
// the suffixes GCC gives to clones (".isra.0", ".constprop.0", ".cold"),
// without ',' (the .klp.sym format uses it as the sympos separator), and
// shorter than KSYM_NAME_LEN (klp_init_func).
func CheckFuncName(name string) string {
	if len(name) >= KsymNameLen {
		return fmt.Sprintf("the name is %d characters long; the kernel refuses names of %d or more (KSYM_NAME_LEN)", len(name), KsymNameLen)
	}
	base, suffix, dotted := strings.Cut(name, ".")
	if !IsCIdent(base) {
		if base == "" {
			return fmt.Sprintf("%q is not a C identifier", name)
		}
		return fmt.Sprintf("%q is not a C identifier", base)
	}
	if dotted {
		for _, part := range strings.Split(suffix, ".") {
			if part == "" || !isIdentChars(part) {
				return fmt.Sprintf("%q is not a C identifier or a compiler clone suffix such as \".isra.0\"", name)
			}
		}
	}
	return ""
}

// CheckCIdent says what is wrong with name as a C identifier, or "".
func CheckCIdent(name string) string {
	if !IsCIdent(name) {
		return fmt.Sprintf("%q is not a C identifier", name)
	}
	return ""
}

// IsCIdent reports whether s is a C identifier.
func IsCIdent(s string) bool {
	if s == "" || s[0] >= '0' && s[0] <= '9' {
		return false
	}
	return isIdentChars(s)
}

func isIdentChars(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

// ReservedPrefix starts the names of the C functions and symbols klpc
// generates; the functions of a fix may not use it.
const ReservedPrefix = "klpc__"

// ReleaseMax is the longest release uname reports (__NEW_UTS_LEN, 64).
const ReleaseMax = 64

// CheckRelease says what is wrong with a kernel release (uname -r), or "".
// Releases hold letters, digits and ._+~- (Debian's 6.12.57+deb13-amd64);
// klpc writes them into Makefiles, scripts and C, so nothing else passes.
func CheckRelease(r string) string {
	switch {
	case r == "":
		return "it cannot be empty"
	case len(r) > ReleaseMax:
		return fmt.Sprintf("it is %d characters long; uname reports at most %d", len(r), ReleaseMax)
	case !isAlnum(r[0]):
		return fmt.Sprintf("it must start with a letter or digit, not %q", r[0])
	}
	for i := 0; i < len(r); i++ {
		if c := r[i]; !isAlnum(c) && !strings.ContainsRune("._+~-", rune(c)) {
			return fmt.Sprintf("the character %q at position %d cannot appear in a release; use letters, digits and ._+~-", c, i+1)
		}
	}
	return ""
}

// CheckMakePath says why a path cannot be written as a make variable's
// value and a shell word (KDIR ?= PATH; $(MAKE) -C $(KDIR)), or "". make
// has no quoting: only characters that neither make nor the shell give a
// meaning to pass.
func CheckMakePath(p string) string {
	for i := 0; i < len(p); i++ {
		if c := p[i]; !isAlnum(c) && !strings.ContainsRune("/._+,@%=:~-", rune(c)) {
			return fmt.Sprintf("the character %q at position %d has a meaning to make or the shell; use a path of letters, digits and /._+,@%%=:~-", c, i+1)
		}
	}
	return ""
}

func isAlnum(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}
