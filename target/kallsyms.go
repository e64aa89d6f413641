package target

import (
	"bytes"
	"fmt"
	"sort"
	"strings"
)

// ksymNameLen mirrors KSYM_NAME_LEN (include/linux/kallsyms.h, 512 in 6.1):
// the kernel never shows a longer name, so a longer one means a bad file.
const ksymNameLen = 512

// Kallsyms is a parsed /proc/kallsyms.
type Kallsyms struct {
	// Vmlinux holds the kernel image's symbols in kallsyms order.
	Vmlinux *Object
	// Modules holds, per loaded module, its symbols in the module's own
	// order (its core symtab, as module_get_kallsym walks it).
	Modules map[string]*Object
}

// ReadKallsyms reads a saved /proc/kallsyms (plain or compressed).
func ReadKallsyms(path string) (*Kallsyms, error) {
	data, err := newReader(nil).readFile(KindKallsyms, path)
	if err != nil {
		return nil, err
	}
	return parseKallsyms(path, data)
}

// isPseudoModule reports module columns that /proc/kallsyms uses for
// symbols that belong to no module: BPF programs (get_ksymbol_bpf), ftrace
// trampolines (__builtin__ftrace) and kprobe insn pages
// (__builtin__kprobes). None of them is visible to klp_find_object_symbol.
func isPseudoModule(name string) bool {
	return name == "bpf" || strings.HasPrefix(name, "__builtin__")
}

// kallsymsLine is one parsed "addr type name [module]" line.
type kallsymsLine struct {
	addr   uint64
	typ    byte
	name   string
	module string
}

// parseSymbolLine parses the nm/System.map/kallsyms line form. line is a
// substring of the whole file, so the name it returns shares that memory
// instead of being copied.
func parseSymbolLine(path string, n int, line string, allowModule bool) (kallsymsLine, error) {
	var l kallsymsLine
	f := fieldsN(line, 5)
	// Whole lines are never echoed: a path pointing at another file
	// must not show that file's content in an error.
	want := "\"address type name\""
	if allowModule {
		want = "\"address type name [module]\""
	}
	if len(f) < 3 {
		return l, parseErr(path, n, "want \"address type name\", got %s", fieldCount(len(f)))
	}
	if len(f) > 4 || (len(f) == 4 && !allowModule) {
		return l, parseErr(path, n, "too many fields: want %s", want)
	}
	addr, ok := parseHex(f[0])
	if !ok {
		return l, parseErr(path, n, "bad address %s", excerpt(f[0]))
	}
	if len(f[1]) != 1 || f[1][0] < '!' || f[1][0] > '~' {
		return l, parseErr(path, n, "bad symbol type %s", excerpt(f[1]))
	}
	if len(f[2]) >= ksymNameLen {
		return l, parseErr(path, n, "symbol name longer than KSYM_NAME_LEN (%d)", ksymNameLen)
	}
	if hasControl(f[2]) {
		return l, parseErr(path, n, "symbol name %s holds control characters", excerpt(f[2]))
	}
	l.addr, l.typ, l.name = addr, f[1][0], f[2]
	if len(f) == 4 {
		m := f[3]
		if len(m) < 3 || m[0] != '[' || m[len(m)-1] != ']' {
			return l, parseErr(path, n, "bad module column %s (want [name])", excerpt(m))
		}
		l.module = m[1 : len(m)-1]
		if hasControl(l.module) {
			return l, parseErr(path, n, "module name %s holds control characters", excerpt(l.module))
		}
	}
	return l, nil
}

func parseKallsyms(path string, data []byte) (*Kallsyms, error) {
	text := string(data)
	vm := &Object{Name: VmlinuxName, Path: path, Source: "kallsyms"}
	ks := &Kallsyms{Vmlinux: vm, Modules: map[string]*Object{}}
	allZero := true
	err := lines(path, data, func(n int, b []byte) error {
		if len(bytes.TrimSpace(b)) == 0 {
			return nil
		}
		off := bytesOffset(data, b)
		line := text[off : off+len(b)]
		l, err := parseSymbolLine(path, n, line, true)
		if err != nil {
			return err
		}
		if l.addr != 0 {
			allZero = false
		}
		sym := Symbol{Name: l.name, Addr: l.addr, Type: l.typ, Func: isTextType(l.typ)}
		switch {
		case l.module == "":
			vm.Symbols = append(vm.Symbols, sym)
		case isPseudoModule(l.module):
		default:
			name := ModuleName(l.module)
			m := ks.Modules[name]
			if m == nil {
				m = &Object{Name: name, Path: path, Source: "kallsyms"}
				ks.Modules[name] = m
			}
			m.Symbols = append(m.Symbols, sym)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(vm.Symbols) == 0 && len(ks.Modules) == 0 {
		return nil, parseErr(path, 0, "no symbols: not a kallsyms file")
	}
	// Addresses read as zero when kptr_restrict hides them; the order is
	// still the kernel's, only the address checks are skipped.
	vm.RealAddrs = !allZero
	for _, m := range ks.Modules {
		m.RealAddrs = !allZero
	}
	return ks, nil
}

// bytesOffset returns the offset of sub within data; sub must be a subslice.
func bytesOffset(data, sub []byte) int {
	if len(sub) == 0 {
		return 0
	}
	return cap(data) - cap(sub)
}

// debianSystemMapPlaceholder is the single line Debian ships as
// boot/System.map-* in linux-image packages.
const debianSystemMapPlaceholder = "The real System.map is in the linux-image-"

// ReadSystemMap reads a System.map and returns the vmlinux symbols in
// kallsyms order (see sortKallsyms).
func ReadSystemMap(path string) (*Object, error) {
	data, err := newReader(nil).readFile(KindSystemMap, path)
	if err != nil {
		return nil, err
	}
	return parseSystemMap(path, data)
}

func parseSystemMap(path string, data []byte) (*Object, error) {
	if bytes.Contains(data[:min(len(data), 256)], []byte(debianSystemMapPlaceholder)) {
		return nil, parseErr(path, 1, "this is Debian's placeholder System.map; the real one is in the "+
			"linux-image-<version>-dbg package (or use a saved /proc/kallsyms instead)")
	}
	text := string(data)
	var syms []nmSymbol
	err := lines(path, data, func(n int, b []byte) error {
		if len(bytes.TrimSpace(b)) == 0 {
			return nil
		}
		off := bytesOffset(data, b)
		l, err := parseSymbolLine(path, n, text[off:off+len(b)], false)
		if err != nil {
			return err
		}
		syms = append(syms, nmSymbol{addr: l.addr, typ: l.typ, name: l.name})
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(syms) == 0 {
		return nil, parseErr(path, 0, "no symbols: not a System.map file")
	}
	return &Object{Name: VmlinuxName, Path: path, Source: "System.map", RealAddrs: true, Symbols: kallsymsOrder(syms)}, nil
}

// nmSymbol is a symbol as `nm -n vmlinux` lists it, before scripts/kallsyms
// filters and sorts it.
type nmSymbol struct {
	addr uint64
	size uint64
	typ  byte
	name string
	file string
	fn   bool
	// traceable is filled in by ELF readers.
	traceable Tristate
}

// kallsymsOrder turns `nm -n` output order into the kernel's kallsyms
// order. It mirrors scripts/mksysmap (the grep that builds the .syms input)
// and scripts/kallsyms.c of Linux 6.1: read_symbol/is_ignored_symbol drop
// symbols, make_percpus_absolute retypes per-cpu symbols, and sort_symbols
// orders the rest with compare_symbols.
func kallsymsOrder(in []nmSymbol) []Symbol {
	var perCPUStart, perCPUEnd uint64
	havePerCPU := 0
	kept := make([]nmSymbol, 0, len(in))
	for _, s := range in {
		// check_symbol_range runs before filtering in read_symbol.
		switch s.name {
		case "__per_cpu_start":
			perCPUStart = s.addr
			havePerCPU |= 1
		case "__per_cpu_end":
			perCPUEnd = s.addr
			havePerCPU |= 2
		}
		if mksysmapDrops(s) || kallsymsIgnores(s) {
			continue
		}
		kept = append(kept, s)
	}
	// make_percpus_absolute (with --absolute-percpu, set on x86_64 SMP by
	// CONFIG_KALLSYMS_ABSOLUTE_PERCPU) shows per-cpu symbols as 'A'.
	if havePerCPU == 3 {
		for i := range kept {
			if kept[i].addr >= perCPUStart && kept[i].addr <= perCPUEnd {
				kept[i].typ = 'A'
			}
		}
	}
	// compare_symbols ends with start_pos, so a stable sort on the other
	// keys is the same order.
	sort.SliceStable(kept, func(i, j int) bool {
		a, b := &kept[i], &kept[j]
		if a.addr != b.addr {
			return a.addr < b.addr
		}
		if wa, wb := isWeakType(a.typ), isWeakType(b.typ); wa != wb {
			return !wa
		}
		if la, lb := mayBeLinkerScriptProvided(a.name), mayBeLinkerScriptProvided(b.name); la != lb {
			return !la
		}
		return leadingUnderscores(a.name) < leadingUnderscores(b.name)
	})
	out := make([]Symbol, len(kept))
	for i, s := range kept {
		out[i] = Symbol{Name: s.name, Addr: s.addr, Size: s.size, Type: s.typ, File: s.file, Func: s.fn, Traceable: s.traceable}
	}
	return out
}

// mksysmapDrops mirrors the grep in scripts/mksysmap (6.1).
func mksysmapDrops(s nmSymbol) bool {
	switch s.typ {
	case 'a', 'N', 'U', 'w':
		return true
	}
	return strings.HasPrefix(s.name, "$") || strings.HasPrefix(s.name, ".L") ||
		strings.HasPrefix(s.name, "__crc_") || strings.HasPrefix(s.name, "__kstrtab_") ||
		strings.HasPrefix(s.name, "__kstrtabns_") || s.name == "L0"
}

// kallsymsIgnores mirrors is_ignored_symbol in scripts/kallsyms.c (6.1),
// with the x86-relevant lists.
func kallsymsIgnores(s nmSymbol) bool {
	switch s.name {
	case "kallsyms_addresses", "kallsyms_offsets", "kallsyms_relative_base",
		"kallsyms_num_syms", "kallsyms_names", "kallsyms_markers",
		"kallsyms_token_table", "kallsyms_token_index", "kallsyms_seqs_of_names",
		"_SDA_BASE_", "_SDA2_BASE_":
		return true
	}
	for _, p := range []string{"__efistub_", "__kvm_nvhe_$", "__kvm_nvhe_.L", "__AArch64ADRPThunk_",
		"__ARMV5PILongThunk_", "__ARMV7PILongThunk_", "__ThumbV7PILongThunk_", "__LA25Thunk_",
		"__microLA25Thunk_", "__kcfi_typeid_"} {
		if strings.HasPrefix(s.name, p) {
			return true
		}
	}
	for _, p := range []string{"_from_arm", "_from_thumb", "_veneer"} {
		if strings.HasSuffix(s.name, p) {
			return true
		}
	}
	if strings.Contains(s.name, ".long_branch.") || strings.Contains(s.name, ".plt_branch.") {
		return true
	}
	switch s.typ {
	case 'U', 'u', 'N', 'n':
		return true
	case 'A', 'a':
		switch s.name {
		case "__kernel_syscall_via_break", "__kernel_syscall_via_epc", "__kernel_sigtramp", "__gp":
			return false
		}
		return true
	}
	return false
}

func isWeakType(t byte) bool { return t == 'w' || t == 'W' }

// mayBeLinkerScriptProvided mirrors may_be_linker_script_provide_symbol.
func mayBeLinkerScriptProvided(s string) bool {
	if len(s) < 8 || !strings.HasPrefix(s, "__") {
		return false
	}
	return strings.HasPrefix(s[2:], "start_") || strings.HasPrefix(s[2:], "stop_") ||
		strings.HasPrefix(s[2:], "end_") || strings.HasSuffix(s, "_start") || strings.HasSuffix(s, "_end")
}

func leadingUnderscores(s string) int {
	n := 0
	for n < len(s) && s[n] == '_' {
		n++
	}
	return n
}

// isTextType reports nm letters of code symbols; weak symbols (w/W) are in
// practice weak functions in kallsyms (weak objects show as v/V).
func isTextType(t byte) bool {
	switch t {
	case 't', 'T', 'w', 'W':
		return true
	}
	return false
}

// fieldsN splits s on runs of spaces and tabs, returning at most max
// fields (the last one may then hold the rest).
func fieldsN(s string, max int) []string {
	out := make([]string, 0, 4)
	for len(s) > 0 && len(out) < max {
		i := 0
		for i < len(s) && (s[i] == ' ' || s[i] == '\t') {
			i++
		}
		s = s[i:]
		if s == "" {
			break
		}
		j := 0
		for j < len(s) && s[j] != ' ' && s[j] != '\t' {
			j++
		}
		out = append(out, s[:j])
		s = s[j:]
	}
	return out
}

func parseHex(s string) (uint64, bool) {
	if len(s) == 0 || len(s) > 16 {
		return 0, false
	}
	var v uint64
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c -= 'a' - 10
		case c >= 'A' && c <= 'F':
			c -= 'A' - 10
		default:
			return 0, false
		}
		v = v<<4 | uint64(c)
	}
	return v, true
}

// fieldCount says how many fields a line has, for error messages.
func fieldCount(n int) string {
	if n == 1 {
		return "1 field"
	}
	return fmt.Sprintf("%d fields", n)
}
