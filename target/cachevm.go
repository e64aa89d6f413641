package target

import (
	"encoding/binary"
	"hash/crc32"
	"sync"
	"unsafe"

	"github.com/klpc/klpc/internal/safeio"
)

// vmlinux in the index cache. A vmlinux holds ~94k symbols, and decoding
// them all costs more than the rest of a warm plan, which asks about a
// handful of names. So an entry keeps vmlinux's symbols among the blobs,
// after the modules', in chunks of symChunk records, each with its own
// CRC, and beside them a hash table of the names: per bucket (FNV-1a of
// the name modulo a power of two at least the symbol count) the indexes
// of the symbols whose names fall in it, in symbol order, checked by a
// CRC per group of idxGroup buckets. A lookup reads one group and the
// chunks of its candidates, and compares the names themselves, so a
// collision can never add a symbol. Whatever fails a check, or more than
// sparseLookups lookups, makes the object decode all of its symbols the
// way a module does (and that falls back to reading the inputs again).

const (
	symChunk      = 256
	idxGroup      = 256
	sparseLookups = 128
)

// vmlinuxBlobs says where vmlinux's symbols and name table are in an
// entry's blobs.
type vmlinuxBlobs struct {
	off, n   uint64 // the symbols, encoded as encoder.symbols writes them
	crc      uint32
	nsyms    uint64
	recStart uint64 // offset of the first record, after the source files
	filesCRC uint32 // of the bytes before recStart
	chunks   []chunkRef
	idxOff   uint64 // buckets (uint32 x 2^logB+1), then entries (uint32 x nsyms)
	logB     uint64
	groups   []uint32 // CRC of each group's buckets and entries
}

// chunkRef is where a chunk of symChunk records starts (from off) and
// its CRC; it ends where the next one starts, or at n.
type chunkRef struct {
	off uint64
	crc uint32
}

// nameHash is 32-bit FNV-1a.
func nameHash(s string) uint32 {
	h := uint32(2166136261)
	for i := 0; i < len(s); i++ {
		h ^= uint32(s[i])
		h *= 16777619
	}
	return h
}

// encodeVmlinux appends vmlinux's symbols and name table to blobs.
func encodeVmlinux(blobs *encoder, syms []Symbol) vmlinuxBlobs {
	start := len(blobs.buf)
	vm := vmlinuxBlobs{off: uint64(start), nsyms: uint64(len(syms))}
	var offs []uint64
	blobs.symbolsAt(syms, func(i, off int) {
		if i == 0 {
			vm.recStart = uint64(off - start)
		}
		if i < len(syms) && i%symChunk == 0 {
			offs = append(offs, uint64(off-start))
		}
	})
	blob := blobs.buf[start:]
	vm.n, vm.crc = uint64(len(blob)), crc32.Checksum(blob, castagnoli)
	vm.filesCRC = crc32.Checksum(blob[:vm.recStart], castagnoli)
	for k, off := range offs {
		end := vm.n
		if k+1 < len(offs) {
			end = offs[k+1]
		}
		vm.chunks = append(vm.chunks, chunkRef{off, crc32.Checksum(blob[off:end], castagnoli)})
	}
	nb := 1
	for nb < len(syms) {
		nb <<= 1
		vm.logB++
	}
	bk := make([]uint32, nb+1)
	for i := range syms {
		bk[nameHash(syms[i].Name)&uint32(nb-1)+1]++
	}
	for b := 1; b <= nb; b++ {
		bk[b] += bk[b-1]
	}
	ents := make([]uint32, len(syms))
	pos := slicesClone(bk[:nb])
	for i := range syms {
		b := nameHash(syms[i].Name) & uint32(nb-1)
		ents[pos[b]] = uint32(i)
		pos[b]++
	}
	vm.idxOff = uint64(len(blobs.buf))
	for _, v := range bk {
		blobs.buf = binary.LittleEndian.AppendUint32(blobs.buf, v)
	}
	for _, v := range ents {
		blobs.buf = binary.LittleEndian.AppendUint32(blobs.buf, v)
	}
	g := min(idxGroup, nb)
	bkBytes := blobs.buf[vm.idxOff:]
	entBytes := bkBytes[4*(nb+1):]
	for k := 0; k < nb/g; k++ {
		lo, hi := bk[k*g], bk[(k+1)*g]
		c := crc32.Checksum(bkBytes[4*k*g:4*((k+1)*g+1)], castagnoli)
		vm.groups = append(vm.groups, crc32.Update(c, castagnoli, entBytes[4*lo:4*hi]))
	}
	return vm
}

func slicesClone(s []uint32) []uint32 { return append([]uint32(nil), s...) }

// encode writes where the blobs are into the head.
func (vm *vmlinuxBlobs) encode(e *encoder) {
	e.uvarint(vm.off)
	e.uvarint(vm.n)
	e.uvarint(uint64(vm.crc))
	e.uvarint(vm.nsyms)
	e.uvarint(vm.recStart)
	e.uvarint(uint64(vm.filesCRC))
	e.uvarint(uint64(len(vm.chunks)))
	for _, c := range vm.chunks {
		e.uvarint(c.off)
		e.uvarint(uint64(c.crc))
	}
	e.uvarint(vm.idxOff)
	e.uvarint(vm.logB)
	e.uvarint(uint64(len(vm.groups)))
	for _, c := range vm.groups {
		e.uvarint(uint64(c))
	}
}

// vmlinuxBlobs decodes what encode wrote, checks that it fits in the
// blobs, points l at the symbols for a whole decode, and returns the
// index for lookups.
func (d *decoder) vmlinuxBlobs(l *lazySymbols, blobSize uint64) *sparseIndex {
	var vm vmlinuxBlobs
	vm.off, vm.n, vm.crc = d.uvarint(), d.uvarint(), uint32(d.uvarint())
	vm.nsyms, vm.recStart, vm.filesCRC = d.uvarint(), d.uvarint(), uint32(d.uvarint())
	n := d.count()
	if d.err == nil && uint64(n) != (vm.nsyms+symChunk-1)/symChunk {
		d.err = errCorrupt
	}
	vm.chunks = make([]chunkRef, 0, n)
	prev := vm.recStart
	for i := 0; i < n && d.err == nil; i++ {
		c := chunkRef{d.uvarint(), uint32(d.uvarint())}
		if c.off < prev || (i == 0 && c.off != vm.recStart) {
			d.err = errCorrupt
		}
		prev = c.off
		vm.chunks = append(vm.chunks, c)
	}
	vm.idxOff, vm.logB = d.uvarint(), d.uvarint()
	n = d.count()
	vm.groups = make([]uint32, 0, n)
	for i := 0; i < n && d.err == nil; i++ {
		vm.groups = append(vm.groups, uint32(d.uvarint()))
	}
	if d.err != nil {
		return nil
	}
	nb := uint64(1) << min(vm.logB, 40)
	if vm.off > blobSize || vm.n > blobSize-vm.off || vm.recStart > vm.n || prev > vm.n ||
		vm.logB > 31 || nb < vm.nsyms || nb > 2*vm.nsyms+1 || uint64(len(vm.groups)) != nb/min(idxGroup, nb) ||
		vm.idxOff > blobSize || 4*(nb+1+vm.nsyms) > blobSize-vm.idxOff {
		d.err = errCorrupt
		return nil
	}
	l.off, l.n, l.crc = vm.off, vm.n, vm.crc
	l.vmlinux = true
	return &sparseIndex{src: l.src, vm: vm, chunks: map[uint64][]Symbol{}}
}

// sparseIndex answers lookups in a vmlinux read from the cache without
// decoding all of its symbols. It is safe for concurrent use.
type sparseIndex struct {
	src *indexSource
	vm  vmlinuxBlobs

	mu      sync.Mutex
	failed  bool
	lookups int
	files   []string
	haveFs  bool
	chunks  map[uint64][]Symbol
}

// open returns the entry to read from (nil for one held in memory).
func (src *indexSource) open() (*safeio.File, bool) {
	if src.data != nil {
		return nil, true
	}
	fh, err := safeio.OpenFile(src.path, limitOf(kindIndex))
	if err != nil {
		return nil, false
	}
	if fh.Size() != src.size {
		fh.Close()
		return nil, false
	}
	return fh, true
}

// readBlob returns a private copy of n bytes at off in the blobs.
func (src *indexSource) readBlob(fh *safeio.File, off, n uint64) ([]byte, bool) {
	if src.data != nil {
		if off > uint64(len(src.data)) || n > uint64(len(src.data))-off {
			return nil, false
		}
		return append([]byte(nil), src.data[off:off+n]...), true
	}
	if src.base < 0 || off > uint64(src.size) || n > uint64(src.size)-off {
		return nil, false
	}
	buf := make([]byte, n)
	if m, err := fh.ReadAt(buf, src.base+int64(off)); m != len(buf) || (err != nil && m < len(buf)) {
		return nil, false
	}
	return buf, true
}

// lookup returns the indexes of the symbols named name, in order; false
// when the object must decode its symbols instead.
func (sp *sparseIndex) lookup(name string) ([]int32, bool) {
	sp.mu.Lock()
	defer sp.mu.Unlock()
	if sp.failed || sp.lookups >= sparseLookups {
		return nil, false
	}
	sp.lookups++
	out, ok := sp.find(name)
	if !ok {
		sp.failed = true
	}
	return out, ok
}

func (sp *sparseIndex) find(name string) ([]int32, bool) {
	vm := &sp.vm
	fh, ok := sp.src.open()
	if !ok {
		return nil, false
	}
	if fh != nil {
		defer fh.Close()
	}
	nb := uint64(1) << vm.logB
	g := min(idxGroup, nb)
	b := uint64(nameHash(name)) & (nb - 1)
	k := b / g
	bk, ok := sp.src.readBlob(fh, vm.idxOff+4*k*g, 4*(g+1))
	if !ok {
		return nil, false
	}
	le := binary.LittleEndian
	lo, hi := uint64(le.Uint32(bk)), uint64(le.Uint32(bk[4*g:]))
	if lo > hi || hi > vm.nsyms {
		return nil, false
	}
	ents, ok := sp.src.readBlob(fh, vm.idxOff+4*(nb+1)+4*lo, 4*(hi-lo))
	if !ok || crc32.Update(crc32.Checksum(bk, castagnoli), castagnoli, ents) != vm.groups[k] {
		return nil, false
	}
	j := b - k*g
	s, e := uint64(le.Uint32(bk[4*j:])), uint64(le.Uint32(bk[4*(j+1):]))
	if s < lo || s > e || e > hi {
		return nil, false
	}
	var out []int32
	last := int64(-1)
	for x := s; x < e; x++ {
		i := uint64(le.Uint32(ents[4*(x-lo):]))
		if i >= vm.nsyms || int64(i) <= last {
			return nil, false
		}
		last = int64(i)
		sym, ok := sp.symbol(fh, i)
		if !ok {
			return nil, false
		}
		if sym.Name == name {
			out = append(out, int32(i))
		}
	}
	return out, true
}

// symbol returns symbol i, decoding its chunk when it is not yet.
func (sp *sparseIndex) symbol(fh *safeio.File, i uint64) (*Symbol, bool) {
	vm := &sp.vm
	k := i / symChunk
	if c, ok := sp.chunks[k]; ok {
		return &c[i%symChunk], true
	}
	if !sp.haveFs {
		buf, ok := sp.src.readBlob(fh, vm.off, vm.recStart)
		if !ok || crc32.Checksum(buf, castagnoli) != vm.filesCRC {
			return nil, false
		}
		d := decoder{s: unsafe.String(unsafe.SliceData(buf), len(buf))}
		sp.files = d.strs()
		if n := d.uvarint(); !d.done() || n != vm.nsyms {
			return nil, false
		}
		sp.haveFs = true
	}
	end := vm.n
	if k+1 < uint64(len(vm.chunks)) {
		end = vm.chunks[k+1].off
	}
	ref := vm.chunks[k]
	buf, ok := sp.src.readBlob(fh, vm.off+ref.off, end-ref.off)
	if !ok || crc32.Checksum(buf, castagnoli) != ref.crc {
		return nil, false
	}
	syms := make([]Symbol, min(symChunk, vm.nsyms-k*symChunk))
	// buf is private and never written again: names are substrings of it.
	d := decoder{s: unsafe.String(unsafe.SliceData(buf), len(buf))}
	d.records(syms, sp.files)
	if !d.done() {
		return nil, false
	}
	sp.chunks[k] = syms
	return &syms[i%symChunk], true
}

// cached returns symbol i when a lookup has decoded it, else nil.
func (sp *sparseIndex) cached(i int32) *Symbol {
	sp.mu.Lock()
	defer sp.mu.Unlock()
	if c, ok := sp.chunks[uint64(i)/symChunk]; ok && i >= 0 {
		return &c[uint64(i)%symChunk]
	}
	return nil
}
