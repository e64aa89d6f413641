package target

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"io"
	"slices"
	"sync"

	"github.com/klpc/klpc/internal/safeio"
)

// Reading a module tree fast: a Debian module tree holds about 4,000
// files, and what the index needs of each uncompressed module (the ELF
// header, the section headers, .symtab, .strtab, .modinfo and the
// __mcount_loc relocations) is a few kilobytes near its start and its end.
// readModuleFile gets it with open, fstat, one to three preads and close:
// a small file is read whole in one pread; a larger one as its first
// kilobytes and its tail from a little before the section headers, plus
// one pread per group of nearby sections still missing.

// readAhead sizes the reads (tests shrink it to exercise every path).
var readAhead = struct {
	// whole: files up to this size are read in one pread.
	whole int64
	// head is what is read first of a larger file: the ELF header and,
	// in most modules, .modinfo and __mcount_loc.
	head int64
	// tailBefore is how far before the section headers the tail read
	// starts: .symtab, .strtab and the relocation sections usually sit
	// right before them.
	tailBefore int64
	// mergeGap: missing sections closer than this are read in one pread.
	mergeGap uint64
}{whole: 48 << 10, head: 4 << 10, tailBefore: 4 << 10, mergeGap: 16 << 10}

// readBufs recycles the read-ahead buffers: parsed objects copy what they
// keep (names, .modinfo values), so a buffer is free once a module is
// parsed.
var readBufs = sync.Pool{New: func() any { return new([]byte) }}

// scratchPool recycles the parser's per-file buffers.
var scratchPool = sync.Pool{New: func() any { return new(elfScratch) }}

// readModuleFile reads one module file for load. listed says that the
// folder listing showed a regular file (no symlink), so no stat is needed
// before the open; hash says whether the caller needs the input's hash
// (a cache key), which is then computed over what the index reads: for an
// uncompressed module its size and the bytes of each section used, in
// order, for a compressed one the whole file as stored.
func (rd *reader) readModuleFile(f inputFile, rules moduleRules, hash bool) (*Object, Input, error) {
	var fh *safeio.File
	var err error
	if f.listed {
		fh, err = safeio.OpenListed(f.path, limitOf(f.kind))
	} else {
		fh, err = safeio.OpenFile(f.path, limitOf(f.kind))
	}
	if err != nil {
		return nil, Input{Kind: f.kind, Path: f.path}, err
	}
	defer fh.Close()
	return rd.readModuleOpen(fh, f, rules, hash)
}

// readModuleOpen is readModuleFile on the module file, opened.
func (rd *reader) readModuleOpen(fh *safeio.File, f inputFile, rules moduleRules, hash bool) (*Object, Input, error) {
	in := Input{Kind: f.kind, Path: f.path}
	size := fh.Size()
	in.Size = size

	bp := readBufs.Get().(*[]byte)
	defer readBufs.Put(bp)
	buf := *bp
	grab := func(n int) []byte {
		if cap(buf)-len(buf) < n {
			// Chunks handed out earlier keep the old array.
			buf = make([]byte, 0, max(2*cap(buf), n, 64<<10))
		}
		b := buf[len(buf) : len(buf)+n]
		buf = buf[:len(buf)+n]
		return b
	}
	defer func() { *bp = buf[:0] }()
	read := func(off, n int64) ([]byte, error) {
		b := grab(int(n))
		m, err := fh.ReadAt(b, off)
		if err == io.EOF && int64(m) == n {
			err = nil
		}
		if err != nil {
			return nil, fmt.Errorf("%s: reading %d bytes at %d: %w", f.path, n, off, err)
		}
		return b, nil
	}

	first := size
	if size > readAhead.whole {
		first = readAhead.head
	}
	head, err := read(0, first)
	if err != nil {
		return nil, in, err
	}
	sc := scratchPool.Get().(*elfScratch)
	defer scratchPool.Put(sc)
	if isCompressed(head[:min(len(head), 6)]) {
		raw := make([]byte, size)
		copy(raw, head)
		if len(head) < len(raw) {
			if _, err := fh.ReadAt(raw[len(head):], int64(len(head))); err != nil {
				return nil, in, fmt.Errorf("%s: %w", f.path, err)
			}
		}
		if hash {
			sum := sha256.Sum256(raw)
			in.SHA256 = hex.EncodeToString(sum[:])
		}
		o, err := rd.parseModuleBytes(f.path, raw, rules, sc)
		return o, in, err
	}
	ef := &elfFile{path: f.path, r: fh, size: size, chunks: []chunk{{0, head}}, scratch: sc, compact: true}
	if int64(len(head)) < size && len(head) >= 64 {
		// The tail: from a little before the section headers to the end.
		shoff := le.Uint64(head[40:])
		if shoff >= uint64(len(head)) && shoff < uint64(size) {
			start := max(int64(shoff)-readAhead.tailBefore, int64(len(head)))
			tail, err := read(start, size-start)
			if err != nil {
				return nil, in, err
			}
			ef.chunks = append(ef.chunks, chunk{uint64(start), tail})
		}
	}
	if err := ef.readHeaders(); err != nil {
		return nil, in, err
	}
	used := ef.usedSections()
	if err := ef.fetch(used, read); err != nil {
		return nil, in, err
	}
	o, err := parseModuleELF(ef, rules)
	if err == nil && hash {
		in.SHA256 = ef.hashSections(used)
	}
	return o, in, err
}

// usedSections lists the sections parseModule reads, by index, in file
// order: the symbol table, its string table and extended indexes,
// .modinfo and the relocations of the ftrace call site sections.
func (f *elfFile) usedSections() []int {
	var out []int
	for i := range f.sections {
		s := &f.sections[i]
		switch {
		case s.typ == shtSymtab:
			out = append(out, i)
			if int(s.link) < len(f.sections) {
				out = append(out, int(s.link))
			}
		case s.typ == shtSymtabShndx, s.name == ".modinfo":
			out = append(out, i)
		case s.typ == shtRela && int(s.info) < len(f.sections):
			if n := f.sections[s.info].name; n == "__mcount_loc" || n == "__patchable_function_entries" {
				out = append(out, i)
			}
		}
	}
	slices.SortFunc(out, func(a, b int) int {
		if c := int64(f.sections[a].off) - int64(f.sections[b].off); c != 0 {
			if c < 0 {
				return -1
			}
			return 1
		}
		return a - b
	})
	return slices.Compact(out)
}

// fetch reads the used sections the chunks do not cover, merging nearby
// ones into one read. Sections out of the file's bounds are left for the
// parser to report.
func (f *elfFile) fetch(used []int, read func(off, n int64) ([]byte, error)) error {
	type span struct{ lo, hi uint64 }
	var miss []span
	for _, i := range used {
		s := &f.sections[i]
		if s.typ == shtNobits || s.size == 0 || s.size > maxSection || s.off > uint64(f.size) || s.size > uint64(f.size)-s.off {
			continue
		}
		if _, ok := f.chunkAt(s.off, s.size); ok {
			continue
		}
		if n := len(miss); n > 0 && s.off <= miss[n-1].hi+readAhead.mergeGap && s.off >= miss[n-1].lo {
			miss[n-1].hi = max(miss[n-1].hi, s.off+s.size)
			continue
		}
		miss = append(miss, span{s.off, s.off + s.size})
	}
	for _, m := range miss {
		b, err := read(int64(m.lo), int64(m.hi-m.lo))
		if err != nil {
			return err
		}
		f.chunks = append(f.chunks, chunk{m.lo, b})
	}
	return nil
}

// chunkAt returns the n bytes at off when a chunk read ahead holds them.
func (f *elfFile) chunkAt(off, n uint64) ([]byte, bool) {
	for _, c := range f.chunks {
		if off >= c.off && off+n <= c.off+uint64(len(c.b)) {
			return c.b[off-c.off : off-c.off+n : off-c.off+n], true
		}
	}
	return nil, false
}

// hashSections hashes the file size, the ELF header, the section headers
// and names, and every used section with its offset and length.
func (f *elfFile) hashSections(used []int) string {
	h := sha256.New()
	var hdr [16]byte
	put := func(off, n uint64) {
		binary.LittleEndian.PutUint64(hdr[:8], off)
		binary.LittleEndian.PutUint64(hdr[8:], n)
		h.Write(hdr[:])
		if b, err := f.readAt(off, n, "hashed data"); err == nil {
			h.Write(b)
		}
	}
	binary.LittleEndian.PutUint64(hdr[:8], uint64(f.size))
	h.Write(hdr[:8])
	put(0, 64)
	if h0, err := f.readAt(0, 64, "ELF header"); err == nil {
		put(le.Uint64(h0[40:]), uint64(len(f.sections))*shdrSize)
	}
	if i := f.shstrndx; i < len(f.sections) {
		put(f.sections[i].off, f.sections[i].size)
	}
	for _, i := range used {
		if s := &f.sections[i]; s.typ != shtNobits {
			put(s.off, s.size)
		}
	}
	return hex.EncodeToString(h.Sum(nil))
}
