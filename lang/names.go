package lang

import (
	"fmt"
	"strings"
)

// Limits the kernel puts on names, from the 6.1 headers.
const (
	// ModuleNameMax is MODULE_NAME_LEN-1 on 64-bit (include/linux/module.h:
	// MODULE_NAME_LEN is MAX_PARAM_PREFIX_LEN, 64 - sizeof(unsigned long)),
	// the longest name struct module can hold with its NUL.
	ModuleNameMax = 55
	// KsymNameLen is KSYM_NAME_LEN (include/linux/kallsyms.h, 512 in 6.1);
	// klp_init_func refuses an old_name of this length or more.
	KsymNameLen = 512
)

// ModuleName turns a livepatch block name into the name kbuild gives its
// module: '-' becomes '_' (KBUILD_MODNAME).
func ModuleName(name string) string {
	return strings.ReplaceAll(name, "-", "_")
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
	if name == "vmlinux" {
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
	base, suffix, _ := strings.Cut(name, ".")
	if !isCIdent(base) {
		return fmt.Sprintf("%q is not a C identifier", base)
	}
	if suffix != "" {
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
	if !isCIdent(name) {
		return fmt.Sprintf("%q is not a C identifier", name)
	}
	return ""
}

func isCIdent(s string) bool {
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
