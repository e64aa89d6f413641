package target

import (
	"bytes"
	"errors"
	"io"
	"path/filepath"
	"slices"
	"strings"
)

// moduleRules are the kernel configuration options that change which module
// symbols mod->kallsyms keeps. The zero value is not useful; use
// defaultModuleRules or rulesFromConfig.
type moduleRules struct {
	// kallsymsAll mirrors CONFIG_KALLSYMS_ALL: data symbols are kept too.
	kallsymsAll bool
	// moduleUnload mirrors CONFIG_MODULE_UNLOAD: .exit sections stay in the
	// core layout instead of being freed with init.
	moduleUnload bool
}

// defaultModuleRules are Debian's (CONFIG_KALLSYMS_ALL=y,
// CONFIG_MODULE_UNLOAD=y), used when no .config is given.
var defaultModuleRules = moduleRules{kallsymsAll: true, moduleUnload: true}

func rulesFromConfig(c Config) moduleRules {
	if c == nil {
		return defaultModuleRules
	}
	return moduleRules{kallsymsAll: c.Enabled("CONFIG_KALLSYMS_ALL"), moduleUnload: c.Enabled("CONFIG_MODULE_UNLOAD")}
}

// ReadModule reads one kernel module (.ko, optionally compressed with xz,
// zstd or gzip) with Debian's module loader rules.
func ReadModule(path string) (*Object, error) {
	return newReader(nil).readModule(path, defaultModuleRules)
}

func (rd *reader) readModule(path string, rules moduleRules) (*Object, error) {
	r, size, done, err := rd.openInput(KindModule, path)
	if err != nil {
		return nil, err
	}
	defer done()
	return parseModule(path, r, size, rules)
}

// parseModuleBytes parses a module file's bytes as stored (maybe
// compressed). With scratch the object keeps its symbols compact (see
// compactSymbols).
func (rd *reader) parseModuleBytes(path string, raw []byte, rules moduleRules, scratch *elfScratch) (*Object, error) {
	data, err := rd.decompress(KindModule, path, raw)
	if err != nil {
		return nil, err
	}
	f, err := openELF(path, &bytesReaderAt{data}, int64(len(data)))
	if err != nil {
		return nil, err
	}
	f.scratch, f.compact = scratch, scratch != nil
	return parseModuleELF(f, rules)
}

func parseModule(path string, r io.ReaderAt, size int64, rules moduleRules) (*Object, error) {
	f, err := openELF(path, r, size)
	if err != nil {
		return nil, err
	}
	return parseModuleELF(f, rules)
}

// parseModuleELF is parseModule on an opened ELF file.
func parseModuleELF(f *elfFile, rules moduleRules) (*Object, error) {
	path := f.path
	if f.typ != etRel {
		return nil, parseErr(path, 0, "not a kernel module: ELF type %d, want relocatable (1)", f.typ)
	}
	o := &Object{Path: path, Source: "module"}
	livepatch := false
	info := f.section(".modinfo")
	if info >= 0 {
		data, err := f.sectionData(info, "module info")
		if err != nil {
			return nil, err
		}
		// NUL-separated key=value entries; only the values kept are
		// copied out of the file's bytes.
		for len(data) > 0 {
			kv := data
			if i := bytes.IndexByte(data, 0); i >= 0 {
				kv, data = data[:i], data[i+1:]
			} else {
				data = nil
			}
			k, v, ok := bytes.Cut(kv, []byte{'='})
			if !ok {
				continue
			}
			switch string(k) {
			case "name":
				o.Name = string(v)
			case "srcversion":
				o.SrcVersion = string(v)
			case "vermagic":
				o.Vermagic = string(v)
			case "livepatch":
				livepatch = string(v) == "Y"
			case "depends":
				if len(v) > 0 {
					o.Depends = strings.Split(string(v), ",")
				}
			}
		}
	}
	if o.Name == "" {
		o.Name = moduleNameFromPath(path)
	}
	o.Name = ModuleName(o.Name)
	if hasControl(o.Name) || o.Name == "" {
		return nil, parseErr(path, 0, "bad module name %s in .modinfo", excerpt(o.Name))
	}

	syms, traced, err := f.symbolsTraced()
	if err != nil {
		return nil, err
	}
	haveSites := traced != nil

	// The loader clears SHF_ALLOC on .modinfo and __versions
	// (rewrite_section_headers) and on the per-cpu section
	// (layout_and_allocate) before it lays out sections and symbols.
	var flags []uint64
	if f.scratch != nil {
		flags = slices.Grow(f.scratch.flags[:0], len(f.sections))[:len(f.sections)]
		f.scratch.flags = flags
	} else {
		flags = make([]uint64, len(f.sections))
	}
	for i := range f.sections {
		flags[i] = f.sections[i].flags
	}
	pcpu := -1
	for i := range f.sections {
		switch f.sections[i].name {
		case ".modinfo", "__versions":
			flags[i] &^= shfAlloc
		case ".data..percpu":
			if flags[i]&shfAlloc != 0 && pcpu < 0 {
				pcpu = i
				flags[i] &^= shfAlloc
			}
		}
	}
	var exported map[string]bool
	if len(f.ksymtab) > 0 {
		if f.compact {
			// Its keys may point into the file's bytes: cleared after use.
			if f.scratch.exported == nil {
				f.scratch.exported = map[string]bool{}
			}
			exported = f.scratch.exported
			defer clear(exported)
		} else {
			exported = make(map[string]bool, len(f.ksymtab))
		}
		for _, n := range f.ksymtab {
			exported[n] = true
		}
	}

	shnum := uint32(len(f.sections))
	file := ""
	var out []Symbol
	if f.compact {
		out = slices.Grow(f.scratch.out[:0], f.named)
	} else {
		out = make([]Symbol, 0, f.named)
	}
	for i := range syms {
		s := &syms[i]
		if s.typ() == sttFile {
			file = s.name
		} else if s.bind() != stbLocal {
			file = "" // globals follow all locals and have no file
		}
		// module_kallsyms_on_each_symbol skips undefined symbols, and an
		// empty name can never match a klp_func.old_name.
		if s.shndx == shnUndef || s.name == "" {
			continue
		}
		core := livepatch || isCoreSymbol(s, f.sections, flags, shnum, pcpu, rules)
		typ := moduleSymbolType(s, f.sections, flags, pcpu)
		if exported != nil && s.bind() != stbLocal && exported[s.name] {
			// s_show upper-cases exported module symbols.
			typ = upper(typ)
		}
		sym := Symbol{
			Name:        s.name,
			Addr:        s.value,
			Size:        s.size,
			Type:        typ,
			Func:        s.typ() == sttFunc || s.typ() == sttIfunc,
			LoadingOnly: !core,
		}
		if s.typ() != sttFile && s.bind() == stbLocal {
			sym.File = file
		}
		if sym.Func && haveSites {
			sym.Traceable = No
			if traced[i] {
				sym.Traceable = Yes
			}
		}
		out = append(out, sym)
	}
	if f.compact {
		f.scratch.out = out
		o.lazy = f.scratch.compactSymbols(out)
		return o, nil
	}
	o.Symbols = out
	return o, nil
}

// isCoreSymbol mirrors is_core_symbol in kernel/module/kallsyms.c: the
// symbols add_kallsyms copies into core_kallsyms, which is what
// module_kallsyms_on_each_symbol walks once the module is live.
func isCoreSymbol(s *elfSym, secs []elfSection, flags []uint64, shnum uint32, pcpu int, rules moduleRules) bool {
	if s.shndx == shnUndef || s.shndx >= shnum || s.name == "" {
		return false
	}
	if rules.kallsymsAll && int(s.shndx) == pcpu {
		return true
	}
	fl := flags[s.shndx]
	if fl&shfAlloc == 0 || (!rules.kallsymsAll && fl&shfExecinstr == 0) {
		return false
	}
	// Sections that layout_sections puts in the init layout carry
	// INIT_OFFSET_MASK in sh_entsize: module_init_layout_section.
	name := secs[s.shndx].name
	if strings.HasPrefix(name, ".init") || (!rules.moduleUnload && strings.HasPrefix(name, ".exit")) {
		return false
	}
	return true
}

// moduleSymbolType mirrors elf_type in kernel/module/kallsyms.c ("as per
// nm"), which gives the letters /proc/kallsyms shows for module symbols.
func moduleSymbolType(s *elfSym, secs []elfSection, flags []uint64, pcpu int) byte {
	if s.bind() == stbWeak {
		if s.typ() == sttObject {
			return 'v'
		}
		return 'w'
	}
	switch {
	case s.shndx == shnUndef:
		return 'U'
	case s.shndx == shnAbs || int(s.shndx) == pcpu:
		return 'a'
	case s.shndx >= shnLoreserve || int(s.shndx) >= len(secs):
		return '?'
	}
	fl := flags[s.shndx]
	sec := &secs[s.shndx]
	if fl&shfExecinstr != 0 {
		return 't'
	}
	if fl&shfAlloc != 0 && sec.typ != shtNobits {
		if fl&shfWrite == 0 {
			return 'r'
		}
		return 'd'
	}
	if sec.typ == shtNobits {
		return 'b'
	}
	if strings.HasPrefix(sec.name, ".debug") {
		return 'n'
	}
	return '?'
}

func upper(c byte) byte {
	if c >= 'a' && c <= 'z' {
		return c - 'a' + 'A'
	}
	return c
}

// moduleSuffixes are the file name endings of modules, compressed or not,
// as kmod looks for them.
var moduleSuffixes = []string{".ko", ".ko.xz", ".ko.zst", ".ko.gz"}

func isModuleFile(name string) bool {
	for _, s := range moduleSuffixes {
		if strings.HasSuffix(name, s) {
			return true
		}
	}
	return false
}

// moduleNameFromPath derives KBUILD_MODNAME from a file name, for modules
// without a name= entry in .modinfo.
func moduleNameFromPath(path string) string {
	base := filepath.Base(path)
	for _, s := range moduleSuffixes {
		if strings.HasSuffix(base, s) {
			return ModuleName(strings.TrimSuffix(base, s))
		}
	}
	return ModuleName(base)
}

// ReadModules reads every module below dir (recursively), in parallel.
// Modules are keyed by module name; two files with the same module name are
// an error, since a kernel can only load one of them, and so is any file
// that cannot be read (Load keeps those apart in Build.Damaged instead).
func ReadModules(dir string) (map[string]*Object, error) {
	b, err := Load(Spec{Modules: dir})
	if err != nil {
		return nil, err
	}
	var errs []error
	for _, n := range sortedKeys(b.Damaged) {
		errs = append(errs, b.Damaged[n])
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	for _, m := range b.Modules {
		m.load()
	}
	return b.Modules, nil
}

// Bounds of the modules folder walk. A Debian module tree holds about
// 4,500 files, seven folders deep. (Variables so that tests can lower
// them.)
var (
	maxModuleTreeEntries = 200000
	maxModuleTreeDepth   = 32
)

// findModuleFiles lists module files below dir in lexical order. The walk
// never follows a symlink to a folder, and opens folders without blocking
// (see safeio.OpenFolder); a file the listing shows as regular is marked
// listed, and symlinked module files are checked by load.
func findModuleFiles(dir string) ([]inputFile, error) {
	return walkModuleFiles(dir, nil)
}

// walkModuleFiles is findModuleFiles that also records, when dirs is not
// nil, every folder it listed with its identity before the listing.
func walkModuleFiles(dir string, dirs *dirList) ([]inputFile, error) {
	found, err := (*reader)(nil).walkRead(dir, "", moduleRules{}, false, dirs)
	if err != nil {
		return nil, err
	}
	files := make([]inputFile, len(found))
	for i, r := range found {
		files[i] = r.file
	}
	return files, nil
}
