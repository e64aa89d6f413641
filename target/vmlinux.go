package target

import (
	"io"
	"sort"
)

// ReadVmlinux reads a vmlinux ELF (plain or compressed) and returns its
// symbols in kallsyms order, with source files from STT_FILE entries and
// traceability from __mcount_loc or __patchable_function_entries.
func ReadVmlinux(path string) (*Object, error) {
	return newReader(nil).readVmlinux(path)
}

func (rd *reader) readVmlinux(path string) (*Object, error) {
	r, size, done, err := rd.openInput(KindVmlinux, path)
	if err != nil {
		return nil, err
	}
	defer done()
	return parseVmlinux(path, r, size)
}

func parseVmlinux(path string, r io.ReaderAt, size int64) (*Object, error) {
	f, err := openELF(path, r, size)
	if err != nil {
		return nil, err
	}
	if f.typ == etRel {
		return nil, parseErr(path, 0, "relocatable ELF file: this looks like a module or object file, not a linked vmlinux")
	}
	syms, traced, err := f.symbolsTraced()
	if err != nil {
		return nil, err
	}
	haveSites := traced != nil

	// Build what `nm -n vmlinux` prints: no section or file symbols, sorted
	// by address and then by name (nm's numeric_forward falls back to
	// non_numeric_forward, strcoll in kbuild's C locale), symtab order last.
	type entry struct {
		nmSymbol
		index int
	}
	list := make([]entry, 0, len(syms))
	file := ""
	for i := range syms {
		s := &syms[i]
		switch s.typ() {
		case sttFile:
			file = s.name
			continue
		case sttSection:
			continue
		}
		if s.bind() != stbLocal {
			file = ""
		}
		if s.name == "" {
			continue
		}
		e := entry{index: i, nmSymbol: nmSymbol{
			addr: s.value, size: s.size, name: s.name,
			typ: nmType(s, f.sections),
			fn:  s.typ() == sttFunc || s.typ() == sttIfunc,
		}}
		if s.bind() == stbLocal {
			e.file = file
		}
		if e.fn && haveSites {
			e.traceable = No
			if traced[i] {
				e.traceable = Yes
			}
		}
		list = append(list, e)
	}
	sort.Slice(list, func(i, j int) bool {
		a, b := &list[i], &list[j]
		if a.addr != b.addr {
			return a.addr < b.addr
		}
		if a.name != b.name {
			return a.name < b.name
		}
		return a.index < b.index
	})
	nm := make([]nmSymbol, len(list))
	for i := range list {
		nm[i] = list[i].nmSymbol
	}
	if len(nm) == 0 {
		return nil, parseErr(path, 0, "ELF symbol table has no named symbols")
	}
	return &Object{Name: VmlinuxName, Path: path, Source: "vmlinux", RealAddrs: true, Symbols: kallsymsOrder(nm)}, nil
}

// nmType gives the letter GNU nm prints for a symbol of a linked ELF file
// (bfd's decode_symclass), which is what scripts/mksysmap and
// scripts/kallsyms filter on.
func nmType(s *elfSym, secs []elfSection) byte {
	bind := s.bind()
	var c byte
	switch {
	case s.shndx == shnUndef:
		if bind == stbWeak {
			if s.typ() == sttObject {
				return 'v'
			}
			return 'w'
		}
		return 'U'
	case bind == stbWeak:
		if s.typ() == sttObject {
			return 'V'
		}
		return 'W'
	case s.typ() == sttIfunc:
		return 'i'
	case bind == 10: // STB_GNU_UNIQUE
		return 'u'
	case s.shndx == shnAbs:
		c = 'a'
	case s.shndx == shnCommon:
		return 'C'
	case s.shndx >= shnLoreserve || int(s.shndx) >= len(secs):
		return '?'
	default:
		sec := &secs[s.shndx]
		switch {
		case sec.flags&shfExecinstr != 0:
			c = 't'
		case sec.flags&shfAlloc != 0 && sec.typ == shtNobits:
			c = 'b'
		case sec.flags&shfAlloc != 0 && sec.flags&shfWrite == 0:
			c = 'r'
		case sec.flags&shfAlloc != 0:
			c = 'd'
		case len(sec.name) >= 6 && sec.name[:6] == ".debug":
			c = 'N'
			return c
		default:
			c = 'n'
		}
	}
	if bind == stbGlobal {
		c = upper(c)
	}
	return c
}
