package target

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"fmt"
	"io"
	"slices"
	"strings"
	"unsafe"

	"github.com/klpc/klpc/internal/safeio"
)

// This file holds a small ELF64 little-endian reader. debug/elf would do,
// but it reads every section header name, program header and symbol into
// fresh allocations; indexing thousands of modules needs only the section
// headers, .symtab/.strtab, .modinfo and the __mcount_loc relocations, read
// with a handful of pread calls per file.

// ELF constants used below (include/uapi/linux/elf.h).
const (
	shtSymtab      = 2
	shtStrtab      = 3
	shtRela        = 4
	shtNobits      = 8
	shtSymtabShndx = 18

	shfWrite     = 0x1
	shfAlloc     = 0x2
	shfExecinstr = 0x4

	shnUndef     = 0
	shnLoreserve = 0xff00
	shnAbs       = 0xfff1
	shnCommon    = 0xfff2
	shnXindex    = 0xffff

	sttObject  = 1
	sttFunc    = 2
	sttSection = 3
	sttFile    = 4
	sttIfunc   = 10

	stbLocal  = 0
	stbGlobal = 1
	stbWeak   = 2

	etRel = 1

	symSize  = 24
	relaSize = 24
	shdrSize = 64

	// maxScratchSections bounds the section headers kept in a pooled
	// elfScratch; Debian's modules have well under a hundred sections.
	maxScratchSections = 1 << 12

	// maxSection bounds one section read, so a corrupt size cannot make us
	// allocate unbounded memory.
	maxSection = 1 << 30
)

type elfSection struct {
	name    string
	typ     uint32
	flags   uint64
	addr    uint64
	off     uint64
	size    uint64
	link    uint32
	info    uint32
	entsize uint64
}

type elfFile struct {
	path string
	// data holds the whole file when it is in memory; sections are then
	// sub-slices of it instead of copies. Otherwise r is read with ReadAt.
	data []byte
	// chunks are ranges of the file read ahead (see readModuleFile);
	// readAt answers from them when they cover a range.
	chunks   []chunk
	r        io.ReaderAt
	size     int64
	typ      uint16
	sections []elfSection
	shstrndx int
	// scratch, when set, lends the parser buffers that do not outlive
	// one file (see readModuleFile).
	scratch *elfScratch
	// Filled in by symbols: the names that follow "__ksymtab_" in
	// symbol names (exported symbols), and how many symbols are defined
	// and named (those a module's kallsyms can list).
	ksymtab []string
	named   int
	// compact asks parseModuleELF for the module's symbols in their
	// compact encoding (see compactSymbols) rather than as Symbols; the
	// parse then needs scratch, and names may point into the file's
	// bytes, as nothing the parse returns keeps them.
	compact bool
}

// elfScratch holds per-file working buffers for reuse across files.
type elfScratch struct {
	syms   []elfSym
	calls  []callSite
	sites  []callSite
	keys   []uint64
	traced []bool
	// Section headers and their name offsets (see readHeaders).
	sections []elfSection
	nameOffs []uint32
	// A compact parse's symbols and their encoding (see compactSymbols).
	out []Symbol
	enc []byte
	// parseModuleELF's working sets.
	ksymtab  []string
	exported map[string]bool
	flags    []uint64
}

// chunk is a range of a file held in memory.
type chunk struct {
	off uint64
	b   []byte
}

type elfSym struct {
	name  string
	value uint64
	size  uint64
	info  uint8
	shndx uint32
}

func (s *elfSym) typ() uint8  { return s.info & 0xf }
func (s *elfSym) bind() uint8 { return s.info >> 4 }

var le = binary.LittleEndian

func (f *elfFile) readAt(off, n uint64, what string) ([]byte, error) {
	if n > maxSection {
		return nil, parseErr(f.path, 0, "%s is implausibly large (%d bytes)", what, n)
	}
	if off > uint64(f.size) || n > uint64(f.size)-off {
		return nil, parseErr(f.path, 0, "truncated ELF file: %s at offset %d+%d is past the end (%d bytes)", what, off, n, f.size)
	}
	if f.data != nil {
		return f.data[off : off+n : off+n], nil
	}
	if b, ok := f.chunkAt(off, n); ok {
		return b, nil
	}
	buf := make([]byte, n)
	if _, err := f.r.ReadAt(buf, int64(off)); err != nil && !(err == io.EOF && uint64(len(buf)) == n) {
		return nil, parseErr(f.path, 0, "reading %s: %v", what, err)
	}
	return buf, nil
}

// openELF reads the ELF header and section headers.
func openELF(path string, r io.ReaderAt, size int64) (*elfFile, error) {
	f := &elfFile{path: path, r: r, size: size}
	if br, ok := r.(*bytesReaderAt); ok {
		f.data = br.b
	}
	if err := f.readHeaders(); err != nil {
		return nil, err
	}
	return f, nil
}

// readHeaders reads the ELF header and section headers of a file whose
// path, reader, size and any read-ahead chunks are set.
func (f *elfFile) readHeaders() error {
	path, size := f.path, f.size
	if size < 64 {
		return parseErr(path, 0, "not an ELF file (only %d bytes)", size)
	}
	h, err := f.readAt(0, 64, "ELF header")
	if err != nil {
		return err
	}
	if !bytes.HasPrefix(h, []byte("\x7fELF")) {
		return parseErr(path, 0, "not an ELF file (bad magic)")
	}
	if h[4] != 2 || h[5] != 1 {
		return parseErr(path, 0, "unsupported ELF class/encoding (want 64-bit little-endian)")
	}
	f.typ = le.Uint16(h[16:])
	shoff := le.Uint64(h[40:])
	shentsize := le.Uint16(h[58:])
	shnum := uint64(le.Uint16(h[60:]))
	shstrndx := uint32(le.Uint16(h[62:]))
	if shoff == 0 {
		return parseErr(path, 0, "ELF file has no section headers")
	}
	if shentsize != shdrSize {
		return parseErr(path, 0, "bad ELF section header size %d", shentsize)
	}
	// Extended numbering: with more than SHN_LORESERVE sections the real
	// count and string table index live in section header 0.
	if shnum == 0 || shstrndx == shnXindex {
		sh0, err := f.readAt(shoff, shdrSize, "section header 0")
		if err != nil {
			return err
		}
		if shnum == 0 {
			shnum = le.Uint64(sh0[32:])
		}
		if shstrndx == shnXindex {
			shstrndx = le.Uint32(sh0[40:])
		}
	}
	// The module loader takes e_shnum (16 bits) as the count, with no
	// extended numbering (elf_validity_check in kernel/module/main.c, 6.1,
	// 6.12, 7.2); a linked vmlinux has a few dozen sections. A million
	// leaves room for -ffunction-sections objects and bounds the headers
	// kept in memory.
	if shnum == 0 || shnum > 1<<20 {
		return parseErr(path, 0, "bad ELF section count %d", shnum)
	}
	raw, err := f.readAt(shoff, shnum*shdrSize, "section headers")
	if err != nil {
		return err
	}
	var nameOffs []uint32
	if sc := f.scratch; sc != nil && shnum <= maxScratchSections {
		// Section headers do not outlive the file: nothing parsed from
		// it keeps them or their names. A file with very many sections
		// gets its own slices, so the pooled ones stay small.
		sc.sections = slices.Grow(sc.sections[:0], int(shnum))[:shnum]
		sc.nameOffs = slices.Grow(sc.nameOffs[:0], int(shnum))[:shnum]
		f.sections, nameOffs = sc.sections, sc.nameOffs
	} else {
		f.sections = make([]elfSection, shnum)
		nameOffs = make([]uint32, shnum)
	}
	for i := range f.sections {
		b := raw[i*shdrSize:]
		nameOffs[i] = le.Uint32(b)
		f.sections[i] = elfSection{
			typ: le.Uint32(b[4:]), flags: le.Uint64(b[8:]), addr: le.Uint64(b[16:]),
			off: le.Uint64(b[24:]), size: le.Uint64(b[32:]), link: le.Uint32(b[40:]),
			info: le.Uint32(b[44:]), entsize: le.Uint64(b[56:]),
		}
	}
	if uint64(shstrndx) >= shnum {
		return parseErr(path, 0, "bad section name table index %d", shstrndx)
	}
	f.shstrndx = int(shstrndx)
	names, err := f.sectionData(int(shstrndx), "section name table")
	if err != nil {
		return err
	}
	// One string for all names; section names are substrings of it
	// (of the file's bytes themselves in a compact parse, which keeps
	// no section name).
	var all string
	if f.compact {
		all = unsafe.String(unsafe.SliceData(names), len(names))
	} else {
		all = string(names)
	}
	for i := range f.sections {
		if off := int(nameOffs[i]); off < len(all) {
			n := all[off:]
			if j := strings.IndexByte(n, 0); j >= 0 {
				n = n[:j]
			}
			f.sections[i].name = n
		}
	}
	return nil
}

func (f *elfFile) sectionData(i int, what string) ([]byte, error) {
	s := &f.sections[i]
	if s.typ == shtNobits {
		return nil, nil
	}
	if s.size > maxSection || s.off > uint64(f.size) || s.size > uint64(f.size)-s.off {
		// Name the section only on the error path: excerpt allocates.
		what += " (" + excerpt(s.name) + ")"
	}
	return f.readAt(s.off, s.size, what)
}

func (f *elfFile) section(name string) int {
	for i := range f.sections {
		if f.sections[i].name == name {
			return i
		}
	}
	return -1
}

// symbols reads the symbol table. Entry 0 (the null symbol) is included so
// indexes match relocation symbol indexes.
func (f *elfFile) symbols() ([]elfSym, error) {
	si := -1
	for i := range f.sections {
		if f.sections[i].typ == shtSymtab {
			si = i
			break
		}
	}
	if si < 0 {
		return nil, parseErr(f.path, 0, "ELF file has no symbol table (.symtab); was it stripped?")
	}
	st := &f.sections[si]
	if st.size%symSize != 0 {
		return nil, parseErr(f.path, 0, "symbol table size %d is not a multiple of %d", st.size, symSize)
	}
	if int(st.link) >= len(f.sections) || f.sections[st.link].typ != shtStrtab {
		return nil, parseErr(f.path, 0, "symbol table has no valid string table (link %d)", st.link)
	}
	raw, err := f.sectionData(si, "symbol table")
	if err != nil {
		return nil, err
	}
	strtab, err := f.sectionData(int(st.link), "string table")
	if err != nil {
		return nil, err
	}
	var xindex []byte
	for i := range f.sections {
		if f.sections[i].typ == shtSymtabShndx && int(f.sections[i].link) == si {
			if xindex, err = f.sectionData(i, "extended section indexes"); err != nil {
				return nil, err
			}
		}
	}
	// One string for the whole table: names are substrings of it, which
	// saves an allocation per symbol. One pass over the table's bytes
	// settles the control-character check for every name at once; only a
	// table holding some control byte is checked name by name, so that the
	// error names the symbol.
	var strs string
	if f.compact {
		strs = unsafe.String(unsafe.SliceData(strtab), len(strtab))
	} else {
		strs = string(strtab)
	}
	checkNames := controlInTable(strtab)
	n := len(raw) / symSize
	if n > maxSymbols {
		return nil, parseErr(f.path, 0, "symbol table holds %d symbols, more than the %d allowed", n, maxSymbols)
	}
	var syms []elfSym
	if f.scratch != nil && cap(f.scratch.syms) >= n {
		syms = f.scratch.syms[:n]
		clear(syms)
	} else {
		syms = make([]elfSym, n)
		if f.scratch != nil {
			f.scratch.syms = syms
		}
	}
	const ksymtabPrefix = "__ksymtab_"
	if f.scratch != nil && f.ksymtab == nil {
		f.ksymtab = f.scratch.ksymtab
		defer func() { f.scratch.ksymtab = f.ksymtab }()
	}
	f.ksymtab, f.named = f.ksymtab[:0], 0
	for i := range syms {
		b := raw[i*symSize:]
		off := le.Uint32(b)
		s := &syms[i]
		if uint64(off) < uint64(len(strs)) {
			end := strings.IndexByte(strs[off:], 0)
			if end < 0 {
				return nil, parseErr(f.path, 0, "symbol %d: name is not NUL-terminated", i)
			}
			s.name = strs[off : int(off)+end]
			if end > len(ksymtabPrefix) && s.name[2] == 'k' && strings.HasPrefix(s.name, ksymtabPrefix) {
				f.ksymtab = append(f.ksymtab, s.name[len(ksymtabPrefix):])
			}
			if checkNames && hasControl(s.name) {
				return nil, parseErr(f.path, 0, "symbol %d: name %s holds control characters", i, excerpt(s.name))
			}
		} else if off != 0 {
			return nil, parseErr(f.path, 0, "symbol %d: name offset %d outside string table", i, off)
		}
		s.info = b[4]
		s.shndx = uint32(le.Uint16(b[6:]))
		s.value = le.Uint64(b[8:])
		s.size = le.Uint64(b[16:])
		if s.shndx == shnXindex && len(xindex) >= (i+1)*4 {
			s.shndx = le.Uint32(xindex[i*4:])
		}
		if s.shndx != shnUndef && s.name != "" {
			f.named++
		}
	}
	return syms, nil
}

// controlInTable reports whether a string table holds a control byte (C0
// other than the NUL terminators, or DEL): when it does not, no name in it
// does. It looks at eight bytes at a time; each test below is exact per
// byte, as no addition carries out of a byte.
func controlInTable(b []byte) bool {
	const (
		ones = 0x0101010101010101
		high = 0x8080808080808080
		low7 = 0x7f7f7f7f7f7f7f7f
	)
	for len(b) >= 8 {
		x := le.Uint64(b)
		b = b[8:]
		// High bit set where the byte's low seven bits are >= 0x20,
		// and where they are non-zero.
		ge20 := (x&low7 + (0x80-0x20)*ones) | x
		nonzero := (x&low7 + low7) | x
		// DEL: bytes equal to 0x7f become zero.
		d := x ^ low7
		notDel := (d&low7 + low7) | d
		if (^ge20&nonzero|^notDel)&high != 0 {
			return true
		}
	}
	for _, c := range b {
		if (c != 0 && c < 0x20) || c == 0x7f {
			return true
		}
	}
	return false
}

// callSite is an ftrace call site: an offset in a section for relocatable
// files (modules), or an absolute address (section -1) for linked ones.
type callSite struct {
	section int
	off     uint64
}

// ftraceCallSites returns the recorded ftrace call sites and whether the
// file records them at all. It reads __mcount_loc (gcc -mrecord-mcount, as
// Debian's x86_64 kernels use with -mfentry) or
// __patchable_function_entries. In a relocatable file the section holds
// zeros and the real targets are its RELA entries (symbol + addend), which
// is what the module loader applies before ftrace_module_init reads them.
func (f *elfFile) ftraceCallSites(syms []elfSym) ([]callSite, bool, error) {
	var sites []callSite
	if f.scratch != nil {
		sites = f.scratch.calls[:0]
		defer func() { f.scratch.calls = sites[:0] }()
	}
	found := false
	for i := range f.sections {
		s := &f.sections[i]
		if s.name != "__mcount_loc" && s.name != "__patchable_function_entries" {
			continue
		}
		found = true
		if f.typ == etRel {
			for j := range f.sections {
				r := &f.sections[j]
				if r.typ != shtRela || int(r.info) != i {
					continue
				}
				raw, err := f.sectionData(j, "relocations")
				if err != nil {
					return nil, true, err
				}
				for k := 0; k+relaSize <= len(raw); k += relaSize {
					info := le.Uint64(raw[k+8:])
					addend := int64(le.Uint64(raw[k+16:]))
					symi := info >> 32
					if symi == 0 || symi >= uint64(len(syms)) {
						return nil, true, parseErr(f.path, 0, "%s: relocation %d names symbol %d of %d",
							excerpt(r.name), k/relaSize, symi, len(syms))
					}
					sym := &syms[symi]
					sites = append(sites, callSite{section: int(sym.shndx), off: sym.value + uint64(addend)})
				}
			}
			continue
		}
		raw, err := f.sectionData(i, "ftrace call sites")
		if err != nil {
			return nil, true, err
		}
		for k := 0; k+8 <= len(raw); k += 8 {
			// ftrace_process_locs skips NULL entries (linker padding).
			if a := le.Uint64(raw[k:]); a != 0 {
				sites = append(sites, callSite{section: -1, off: a})
			}
		}
	}
	return sites, found, nil
}

// symbolsTraced reads the symbol table and, where the file records ftrace
// call sites, whether each symbol has one; traced is nil when it does not.
func (f *elfFile) symbolsTraced() (syms []elfSym, traced []bool, err error) {
	if syms, err = f.symbols(); err != nil {
		return nil, nil, err
	}
	sites, haveSites, err := f.ftraceCallSites(syms)
	if err != nil {
		return nil, nil, err
	}
	if haveSites {
		traced = f.traceable(syms, sites)
	}
	return syms, traced, nil
}

// traceable reports, for every symbol, whether a call site lies inside it:
// that is what ftrace_location (kernel/trace/ftrace.c) finds for sym+0 when
// klp_patch_func asks. Symbols are keyed by section for relocatable files.
func (f *elfFile) traceable(syms []elfSym, sites []callSite) []bool {
	if out, ok := f.traceablePacked(syms, sites); ok {
		return out
	}
	return f.traceableSorted(syms, sites)
}

// tracedFor returns n cleared flags for traceable's answer, in the
// parse's scratch space when it has some.
func (f *elfFile) tracedFor(n int) []bool {
	if f.scratch == nil {
		return make([]bool, n)
	}
	f.scratch.traced = slices.Grow(f.scratch.traced[:0], n)[:n]
	clear(f.scratch.traced)
	return f.scratch.traced
}

// traceableSorted is traceable for any file: call sites as (section,
// offset) pairs, searched with a comparison function.
func (f *elfFile) traceableSorted(syms []elfSym, sites []callSite) []bool {
	rel := f.typ == etRel
	key := func(section int, off uint64) callSite {
		if !rel {
			section = -1
		}
		return callSite{section, off}
	}
	var sorted []callSite
	if f.scratch != nil {
		sorted = f.scratch.sites[:0]
	}
	out := f.tracedFor(len(syms))
	for _, s := range sites {
		sorted = append(sorted, key(s.section, s.off))
	}
	if f.scratch != nil {
		f.scratch.sites = sorted
	}
	slices.SortFunc(sorted, compareSites)
	for i := range syms {
		s := &syms[i]
		if t := s.typ(); (t != sttFunc && t != sttIfunc) || s.shndx == shnUndef || s.shndx >= shnLoreserve {
			continue
		}
		lo := key(int(s.shndx), s.value)
		end := s.value + max(s.size, 1)
		j, _ := slices.BinarySearchFunc(sorted, lo, compareSites)
		out[i] = j < len(sorted) && sorted[j].section == lo.section && sorted[j].off < end
	}
	return out
}

// traceablePacked is traceable for the usual case, a module whose
// sections number fewer than 2^16 and are smaller than 2^48 bytes: each
// call site becomes one integer (section << 48 | offset), so sorting and
// searching them needs no comparison function. ok is false when the file
// does not fit.
func (f *elfFile) traceablePacked(syms []elfSym, sites []callSite) (out []bool, ok bool) {
	const shift, limit = 48, uint64(1) << 48
	if f.typ != etRel || len(f.sections) >= 1<<16 {
		return nil, false
	}
	var keys []uint64
	if f.scratch != nil {
		keys = f.scratch.keys[:0]
	}
	for _, c := range sites {
		if c.section < 0 || c.section >= 1<<16 || c.off >= limit {
			return nil, false
		}
		keys = append(keys, uint64(c.section)<<shift|c.off)
	}
	if f.scratch != nil {
		f.scratch.keys = keys
	}
	out = f.tracedFor(len(syms))
	slices.Sort(keys)
	j := 0
	for i := range syms {
		s := &syms[i]
		if t := s.typ(); (t != sttFunc && t != sttIfunc) || s.shndx == shnUndef || s.shndx >= shnLoreserve {
			continue
		}
		if s.value >= limit {
			return nil, false
		}
		sec := uint64(s.shndx) << shift
		end := s.value + max(s.size, 1)
		if end > limit || end < s.value {
			end = limit
		}
		j = lowerBoundFrom(keys, sec|s.value, j)
		out[i] = j < len(keys) && keys[j] < sec+end
	}
	return out, true
}

// openInput opens path for ELF reading: an uncompressed file is read in
// place with ReadAt (only the parts needed), a compressed one is
// decompressed into memory.
func (rd *reader) openInput(kind, path string) (io.ReaderAt, int64, func(), error) {
	fh, st, err := safeio.Open(path, limitOf(kind))
	if err != nil {
		return nil, 0, nil, err
	}
	var magic [6]byte
	n, _ := fh.ReadAt(magic[:], 0)
	if isCompressed(magic[:n]) {
		raw, err := safeio.ReadAll(io.LimitReader(fh, st.Size()), st.Size())
		fh.Close()
		if err != nil {
			return nil, 0, nil, fmt.Errorf("%s: %w", path, err)
		}
		data, err := rd.decompress(kind, path, raw)
		if err != nil {
			return nil, 0, nil, err
		}
		return &bytesReaderAt{data}, int64(len(data)), func() {}, nil
	}
	return fh, st.Size(), func() { fh.Close() }, nil
}

// bytesReaderAt is an in-memory file; openELF recognises it and reads
// sections without copying.
type bytesReaderAt struct{ b []byte }

func (r *bytesReaderAt) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 || off >= int64(len(r.b)) {
		return 0, io.EOF
	}
	n := copy(p, r.b[off:])
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

// lowerBound is slices.BinarySearch's index for sorted keys: the first
// element >= x. Its loop has no data-dependent branch (the compiler turns
// the conditional add into a conditional move), which matters for the
// unpredictable lookups of traceablePacked.
func lowerBound(keys []uint64, x uint64) int {
	n := len(keys)
	if n == 0 {
		return 0
	}
	base := 0
	for n > 1 {
		half := n / 2
		if keys[base+half-1] < x {
			base += half
		}
		n -= half
	}
	if keys[base] < x {
		base++
	}
	return base
}

// lowerBoundFrom is lowerBound starting from hint (0 <= hint <=
// len(keys)), the answer for a nearby x: it gallops away from the hint
// in doubling steps, then searches the last step, so lookups that mostly
// increase, as a module's functions do along its symbol table, cost a
// few comparisons each rather than a search of every key.
func lowerBoundFrom(keys []uint64, x uint64, hint int) int {
	n := len(keys)
	if hint < n && keys[hint] < x {
		// The answer is past hint.
		lo := hint + 1
		for step := 1; ; step <<= 1 {
			hi := lo + step - 1
			if hi >= n {
				return lo + lowerBound(keys[lo:], x)
			}
			if keys[hi] >= x {
				return lo + lowerBound(keys[lo:hi], x)
			}
			lo = hi + 1
		}
	}
	// The answer is hint or before it.
	hi := hint
	for step := 1; ; step <<= 1 {
		lo := hi - step
		if lo < 0 {
			return lowerBound(keys[:hi], x)
		}
		if keys[lo] < x {
			return lo + 1 + lowerBound(keys[lo+1:hi], x)
		}
		hi = lo
	}
}

func compareSites(a, b callSite) int {
	if c := cmp.Compare(a.section, b.section); c != 0 {
		return c
	}
	return cmp.Compare(a.off, b.off)
}
