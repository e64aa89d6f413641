package target

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"slices"
	"sync"
	"unsafe"

	"github.com/klpc/klpc/internal/safeio"
)

// Reading an index entry lazily. A warm load reads the entry's head (a
// few hundred kilobytes for a whole module tree: inputs, config,
// exports, vmlinux and what each module holds besides its symbols, with
// its counts) and leaves the modules' symbols, most of the entry, on
// disk: each module's are read and decoded, with their own CRC checked,
// the first time something asks for them. A plan uses a handful of the
// thousands of modules a tree holds; `klpc index` uses none.

// indexSource is one index entry a lazily loaded build came from.
type indexSource struct {
	path string
	data []byte // the module symbols, for an entry held in memory (tests)
	size int64  // the entry's size when its head was read
	base int64  // offset of the first module's symbols

	// What to read again when the entry can no longer be trusted (it
	// changed on disk after its head was read, or fails its checks).
	files  []inputFile
	root   string
	budget *safeio.Budget
	once   sync.Once
	fb     *Build
}

// lazySymbols is where a module of a lazily loaded build keeps its
// symbols: in an index entry (src), or in memory (blob).
type lazySymbols struct {
	src    *indexSource
	off, n uint64
	crc    uint32
	counts Counts
	// vmlinux marks the symbols of vmlinux rather than of a module.
	vmlinux bool
	// blob, when set, is the symbols' encoding (encoder.symbols) held
	// in memory by a module read from its file (see compactSymbols); it
	// is private and never written again.
	blob []byte
}

// compactSymbols keeps a module's symbols, as a tree load reads them, in
// their index encoding: about a third of the memory of Symbol records,
// none of it pointers for the collector to scan, and the bytes an index
// entry stores as they are. Most modules of a tree are never looked at
// again; one that is decodes its symbols on first use (Object.load). syms
// may point into the file's bytes: the encoding copies what it keeps.
func (sc *elfScratch) compactSymbols(syms []Symbol) *lazySymbols {
	e := encoder{buf: slices.Grow(sc.enc[:0], 32*len(syms))}
	e.symbols(syms)
	sc.enc = e.buf
	return &lazySymbols{blob: bytes.Clone(e.buf), counts: countSymbols(syms)}
}

// pending returns the lazy record of an object whose symbols are not
// decoded yet, or nil. Once they are, what it records is not used: the
// symbols may have come from the files instead.
func (o *Object) pending() *lazySymbols {
	if o.lazy == nil || o.loaded.Load() {
		return nil
	}
	return o.lazy
}

// lazyCounts returns the counts recorded for an object whose symbols are
// not decoded yet, or nil.
func (o *Object) lazyCounts() *Counts {
	if l := o.pending(); l != nil {
		return &l.counts
	}
	return nil
}

// decode returns the module's symbols: from the entry when they pass
// their checks, else from reading the build's files again.
func (l *lazySymbols) decode(o *Object) []Symbol {
	if l.blob != nil {
		// The parse wrote the blob moments ago and nothing writes it
		// since, so it decodes; no file is left to fall back on.
		syms, _ := decodeEncoded(l.blob)
		return syms
	}
	if syms, ok := l.read(); ok {
		return syms
	}
	l.src.once.Do(func() {
		l.src.fb, _ = load(l.src.files, l.src.root, l.src.budget, false)
	})
	if l.src.fb != nil && l.vmlinux {
		if l.src.fb.Vmlinux != nil {
			return l.src.fb.Vmlinux.Symbols
		}
		return nil
	}
	if l.src.fb != nil {
		if m, ok := l.src.fb.Modules[o.Name]; ok {
			return m.Symbols
		}
	}
	return nil
}

func (l *lazySymbols) read() ([]Symbol, bool) {
	fh, ok := l.src.open()
	if !ok {
		return nil, false
	}
	if fh != nil {
		defer fh.Close()
	}
	buf, ok := l.src.readBlob(fh, l.off, l.n)
	if !ok {
		return nil, false
	}
	return decodeSymbols(buf, l.crc)
}

// decodeSymbols decodes one module's symbols from buf, which must be
// private to the caller: names become substrings of it.
func decodeSymbols(buf []byte, crc uint32) ([]Symbol, bool) {
	if crc32.Checksum(buf, castagnoli) != crc {
		return nil, false
	}
	return decodeEncoded(buf)
}

// decodeEncoded decodes symbols written by encoder.symbols from buf,
// which is never written again: names become substrings of it.
func decodeEncoded(buf []byte) ([]Symbol, bool) {
	d := decoder{s: unsafe.String(unsafe.SliceData(buf), len(buf))}
	syms := d.symbols()
	if !d.done() {
		return nil, false
	}
	return syms, true
}

// readIndex reads an index entry's head (see encodeIndex). files, root
// and budget are what the build was loaded from, for a module whose
// symbols fail their checks later.
func readIndex(path string, files []inputFile, root string, budget *safeio.Budget) (*Build, bool) {
	// Decoding a vmlinux allocates ~100k live symbols at once; see boostGC.
	defer boostGC()()
	fh, err := safeio.OpenFile(path, limitOf(kindIndex))
	if err != nil {
		return nil, false
	}
	defer fh.Close()
	var hdr [24]byte
	if n, _ := fh.ReadAt(hdr[:], 0); n != len(hdr) || [8]byte(hdr[:8]) != indexMagic ||
		binary.LittleEndian.Uint32(hdr[8:]) != cacheVersion {
		return nil, false
	}
	n := binary.LittleEndian.Uint64(hdr[12:])
	size := fh.Size()
	if n > uint64(size)-uint64(len(hdr)) {
		return nil, false
	}
	head := make([]byte, n)
	if m, _ := fh.ReadAt(head, int64(len(hdr))); uint64(m) != n {
		return nil, false
	}
	if binary.LittleEndian.Uint32(hdr[20:]) != crc32.Checksum(head, castagnoli) {
		return nil, false
	}
	src := &indexSource{path: path, size: size, base: int64(len(hdr)) + int64(n), files: files, root: root, budget: budget}
	// head is private to this call and never written again: decoded
	// names are substrings of it.
	b, err := decodeHead(unsafe.String(unsafe.SliceData(head), len(head)), uint64(size-src.base), src)
	return b, err == nil
}

// compactBlob returns the encoding of a module whose symbols are still
// compact (see compactSymbols), or nil.
func (o *Object) compactBlob() []byte {
	if l := o.pending(); l != nil {
		return l.blob
	}
	return nil
}
