package target

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"unsafe"

	"github.com/klpc/klpc/internal/safeio"
)

// The index cache.
//
// An index entry lives in <dir>/<key>.idx, where key is the SHA-256 of the
// format version and of every input's kind, absolute path and content
// SHA-256. Entries are written to a temporary file and renamed into place,
// so readers never see a partial entry; every entry starts with a magic
// number, the format version, the payload length and a CRC-32C of the
// payload, and one that fails any check is ignored and rebuilt.
//
// Hashing a large module tree costs more than reading a small cached
// index, so each spec also has a memo, <dir>/spec-<hash of its paths>.memo,
// that records for every input file its size, modification and change
// times, inode and device alongside its content hash. When all of them
// still match, the content hashes are taken from the memo instead of being
// recomputed. The change time (ctime) cannot be set from user space, so a
// file rewritten in place with the same size and a forged mtime still
// invalidates the memo; the memo is written only when no input changed
// while it was being hashed.

// Options control LoadCached.
type Options struct {
	// NoCache reads every input and neither reads nor writes the cache.
	NoCache bool
	// Dir overrides the cache folder. Empty means $KLPC_CACHE_DIR, or
	// os.UserCacheDir()/klpc/index.
	Dir string
	// Budget bounds what the compressed inputs may decompress to, all of
	// them together. Nil means a budget of safeio.DefaultBudget for this
	// load alone; pass one budget to several loads to bound a whole run.
	Budget *safeio.Budget
	// Shared, when not nil, is a per-run cache: a spec whose files are the
	// same as an earlier load's (same paths, sizes, times, inodes) gets
	// the Build that load returned, read and held once however many
	// kernel blocks name it. Callers must treat a shared Build as read-only.
	Shared *Shared
}

// Shared holds the builds one run has loaded, keyed by their inputs'
// identity. It is safe for concurrent use.
type Shared struct {
	mu     sync.Mutex
	builds map[sharedKey]*sharedBuild
}

type sharedBuild struct {
	once sync.Once
	b    *Build
	err  error
}

// NewShared returns an empty per-run build cache.
func NewShared() *Shared { return &Shared{builds: map[sharedKey]*sharedBuild{}} }

// Len is the number of distinct builds the cache holds.
func (s *Shared) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.builds)
}

// sharedKey identifies a load within a run: the option that changes what
// is read and the absolute paths the spec names. Files are taken not to
// change during one run, so the modules folder is walked once too.
type sharedKey struct {
	spec    Spec
	noCache bool
}

// cacheVersion changes whenever the encoding or the meaning of a field
// changes, which invalidates every older entry.
const cacheVersion = 4

var (
	indexMagic = [8]byte{'K', 'L', 'P', 'C', 'I', 'D', 'X', 0}
	memoMagic  = [8]byte{'K', 'L', 'P', 'C', 'M', 'E', 'M', 0}
	castagnoli = crc32.MakeTable(crc32.Castagnoli)
)

// CacheDir returns the folder index entries are kept in.
func CacheDir() (string, error) {
	if d := os.Getenv("KLPC_CACHE_DIR"); d != "" {
		return d, nil
	}
	d, err := os.UserCacheDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(d, "klpc", "index"), nil
}

// LoadCached loads a build, from the cache when an entry for exactly these
// input contents exists, and stores what it had to build. Failing to write
// the cache is not an error: the build is returned anyway.
func LoadCached(spec Spec, opts Options) (*Build, error) {
	spec, err := spec.absolute()
	if err != nil {
		return nil, err
	}
	if opts.Shared != nil {
		key := sharedKey{spec, opts.NoCache}
		opts.Shared.mu.Lock()
		sb := opts.Shared.builds[key]
		if sb == nil {
			sb = &sharedBuild{}
			opts.Shared.builds[key] = sb
		}
		opts.Shared.mu.Unlock()
		sb.once.Do(func() {
			o := opts
			o.Shared = nil
			sb.b, sb.err = loadSpec(spec, o)
		})
		return sb.b, sb.err
	}
	return loadSpec(spec, opts)
}

// loadSpec is LoadCached for an absolute spec, without the per-run cache.
func loadSpec(spec Spec, opts Options) (*Build, error) {
	dir := opts.Dir
	if dir == "" && !opts.NoCache {
		var err error
		if dir, err = CacheDir(); err != nil {
			opts.NoCache = true
		}
	}
	if opts.NoCache {
		b, _, _, _, err := spec.loadWalking(opts.Budget, false)
		return b, err
	}
	memoPath := filepath.Join(dir, "spec-"+specKey(spec)+".memo")
	m, haveMemo := readMemo(memoPath)
	// The memo's folders unchanged means the same module files: adding,
	// removing or renaming an entry changes its folder's times.
	if haveMemo && len(m.dirs) > 0 && slices.Equal(statAll(m.dirs, spec.Modules), m.dirStats) {
		if st := statAll(m.files, spec.Modules); m.matches(m.files, st) {
			if b, ok := readIndex(filepath.Join(dir, m.key+".idx"), m.files, spec.Modules, opts.Budget); ok {
				return b, nil
			}
		}
	}
	var (
		b      *Build
		files  []inputFile
		dirs   dirList
		before []fileStat
		err    error
	)
	if haveMemo {
		// The folders changed; the files may not have.
		if files, dirs, err = spec.listFiles(); err != nil {
			return nil, err
		}
		before = statAll(files, spec.Modules)
		if m.matches(files, before) {
			if b, ok := readIndex(filepath.Join(dir, m.key+".idx"), files, spec.Modules, opts.Budget); ok {
				return b, nil
			}
		}
		b, err = load(files, spec.Modules, opts.Budget, true)
	} else {
		b, files, before, dirs, err = spec.loadWalking(opts.Budget, true)
	}
	if err != nil {
		return nil, err
	}
	key := indexKey(b.Inputs)
	if os.MkdirAll(dir, 0o755) == nil {
		_ = writeAtomic(filepath.Join(dir, key+".idx"), encodeIndex(b))
		// Only remember hashes of files that did not change meanwhile,
		// and folders whose times are old enough that a change in the
		// same clock tick cannot hide behind them.
		if after := statAll(files, spec.Modules); slices.Equal(before, after) && !slices.Contains(before, fileStat{}) {
			nm := memo{key: key, files: files, stats: before}
			if dirs.settled() {
				nm.dirs, nm.dirStats = dirs.paths, dirs.stats
			}
			_ = writeAtomic(memoPath, envelope(memoMagic, encodeMemo(nm)))
		}
	}
	return b, nil
}

// absolute makes every path absolute, so that cache keys and recorded
// paths do not depend on the working directory.
func (s Spec) absolute() (Spec, error) {
	for _, p := range []*string{&s.Kallsyms, &s.SystemMap, &s.Vmlinux, &s.Vmlinuz, &s.Modules, &s.Symvers, &s.Config, &s.Ftrace} {
		if *p == "" {
			continue
		}
		a, err := filepath.Abs(*p)
		if err != nil {
			return s, err
		}
		*p = a
	}
	return s, nil
}

// specKey names a spec's memo: the paths it names, not the files found
// in its modules folder, so that a warm load need not walk the folder.
func specKey(s Spec) string {
	h := sha256.New()
	fmt.Fprintf(h, "klpc spec v%d\n", cacheVersion)
	for _, f := range s.named() {
		fmt.Fprintf(h, "%s\x00%s\n", f.kind, f.path)
	}
	return hex.EncodeToString(h.Sum(nil))[:32]
}

func indexKey(inputs []Input) string {
	h := sha256.New()
	fmt.Fprintf(h, "klpc index v%d\n", cacheVersion)
	for _, in := range inputs {
		fmt.Fprintf(h, "%s\x00%s\x00%s\n", in.Kind, in.Path, in.SHA256)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// fileStat identifies a file version without reading it.
type fileStat struct {
	size, mtime, ctime int64
	ino, dev           uint64
}

// statAll stats every file (after symlinks), on all cores: a module tree
// has thousands. Files below root are stated relative to it, which spares
// the kernel walking root's path for each. A file that cannot be stated
// gets the zero fileStat.
func statAll(files []inputFile, root string) []fileStat {
	out := make([]fileStat, len(files))
	var sd *safeio.Folder
	if root != "" {
		if d, err := safeio.OpenFolder(root); err == nil {
			sd = d
			defer d.Close()
		}
	}
	prefix := root + string(filepath.Separator)
	const batch = 256
	parallel((len(files)+batch-1)/batch, func(k int) {
		for i := k * batch; i < min((k+1)*batch, len(files)); i++ {
			var st safeio.Info
			var err error
			if rel, ok := strings.CutPrefix(files[i].path, prefix); ok && sd != nil {
				st, err = sd.Stat(rel)
			} else {
				st, err = safeio.Stat(files[i].path)
			}
			if err == nil {
				out[i] = identityOf(st)
			}
		}
	})
	return out
}

// identityOf is the fileStat of what safeio reports.
func identityOf(st safeio.Info) fileStat {
	return fileStat{size: st.Size, mtime: st.ModTime.UnixNano(), ctime: st.Ctime, ino: st.Ino, dev: st.Dev}
}

// memo remembers, for one spec, the files its load read with their
// identities, the index entry they gave, and the folders of its modules
// tree with theirs (none when they were too fresh to trust).
type memo struct {
	key      string
	files    []inputFile
	stats    []fileStat
	dirs     []inputFile
	dirStats []fileStat
}

func (m memo) matches(files []inputFile, stats []fileStat) bool {
	same := slices.EqualFunc(m.files, files, func(a, b inputFile) bool { return a.kind == b.kind && a.path == b.path })
	return same && slices.Equal(m.stats, stats) && !slices.Contains(stats, fileStat{})
}

func (e *encoder) stat(s fileStat) {
	e.uvarint(uint64(s.size))
	e.uvarint(uint64(s.mtime))
	e.uvarint(uint64(s.ctime))
	e.uvarint(s.ino)
	e.uvarint(s.dev)
}

func (d *decoder) stat() fileStat {
	return fileStat{size: int64(d.uvarint()), mtime: int64(d.uvarint()), ctime: int64(d.uvarint()), ino: d.uvarint(), dev: d.uvarint()}
}

func encodeMemo(m memo) []byte {
	var e encoder
	e.str(m.key)
	e.uvarint(uint64(len(m.files)))
	for i, f := range m.files {
		e.str(f.kind)
		e.str(f.path)
		if f.listed {
			e.byte(1)
		} else {
			e.byte(0)
		}
		e.stat(m.stats[i])
	}
	e.uvarint(uint64(len(m.dirs)))
	for i, d := range m.dirs {
		e.str(d.path)
		e.stat(m.dirStats[i])
	}
	return e.buf
}

func readMemo(path string) (memo, bool) {
	var m memo
	payload, ok := openEnvelope(path, memoMagic)
	if !ok {
		return m, false
	}
	d := decoder{s: payload}
	m.key = d.str()
	n := d.count()
	m.files = make([]inputFile, 0, n)
	m.stats = make([]fileStat, 0, n)
	for i := 0; i < n && d.err == nil; i++ {
		f := inputFile{kind: d.str(), path: d.str(), listed: d.byte() == 1}
		m.files = append(m.files, f)
		m.stats = append(m.stats, d.stat())
	}
	n = d.count()
	for i := 0; i < n && d.err == nil; i++ {
		m.dirs = append(m.dirs, inputFile{kind: "folder", path: d.str()})
		m.dirStats = append(m.dirStats, d.stat())
	}
	return m, d.done()
}

// envelope frames a payload: magic, version, length, CRC-32C, payload.
func envelope(magic [8]byte, payload []byte) []byte {
	out := make([]byte, 0, 24+len(payload))
	out = append(out, magic[:]...)
	out = binary.LittleEndian.AppendUint32(out, cacheVersion)
	out = binary.LittleEndian.AppendUint64(out, uint64(len(payload)))
	out = binary.LittleEndian.AppendUint32(out, crc32.Checksum(payload, castagnoli))
	return append(out, payload...)
}

// openEnvelope reads and validates a framed file, returning its payload as
// a string (decoded names become substrings of it, without copies).
func openEnvelope(path string, magic [8]byte) (string, bool) {
	kind := kindIndex
	if magic == memoMagic {
		kind = kindMemo
	}
	raw, err := safeio.ReadFile(path, limitOf(kind))
	if err != nil || len(raw) < 24 || [8]byte(raw[:8]) != magic {
		return "", false
	}
	if binary.LittleEndian.Uint32(raw[8:]) != cacheVersion {
		return "", false
	}
	n := binary.LittleEndian.Uint64(raw[12:])
	payload := raw[24:]
	if uint64(len(payload)) != n || binary.LittleEndian.Uint32(raw[20:]) != crc32.Checksum(payload, castagnoli) {
		return "", false
	}
	// raw is private to this call and never written again, so the payload
	// can be viewed as a string without copying the whole entry.
	return unsafe.String(unsafe.SliceData(payload), len(payload)), true
}

// writeAtomic writes data to a temporary file in the same folder and
// renames it over path.
func writeAtomic(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".tmp-"+filepath.Base(path)+"-*")
	if err != nil {
		return err
	}
	_, werr := tmp.Write(data)
	cerr := tmp.Close()
	if err := errors.Join(werr, cerr); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	return nil
}

// encoder writes the compact binary form: unsigned varints, and strings as
// a varint length followed by the bytes.
type encoder struct{ buf []byte }

func (e *encoder) uvarint(v uint64) { e.buf = binary.AppendUvarint(e.buf, v) }
func (e *encoder) byte(b byte)      { e.buf = append(e.buf, b) }
func (e *encoder) str(s string) {
	e.uvarint(uint64(len(s)))
	e.buf = append(e.buf, s...)
}
func (e *encoder) strs(ss []string) {
	e.uvarint(uint64(len(ss)))
	for _, s := range ss {
		e.str(s)
	}
}

func (e *encoder) inputs(ins []Input) {
	e.uvarint(uint64(len(ins)))
	for _, in := range ins {
		e.str(in.Kind)
		e.str(in.Path)
		e.uvarint(uint64(in.Size))
		e.str(in.SHA256)
	}
}

// Symbol flag bits in the encoding.
const (
	flagFunc        = 1 << 0
	flagLoadingOnly = 1 << 1
	flagTraceShift  = 2 // two bits of Tristate
)

// objectMeta writes what an object holds besides its symbols.
func (e *encoder) objectMeta(o *Object) {
	e.str(o.Name)
	e.str(o.Path)
	e.str(o.Source)
	e.str(o.SrcVersion)
	e.str(o.Vermagic)
	e.strs(o.Depends)
	if o.RealAddrs {
		e.byte(1)
	} else {
		e.byte(0)
	}
}

// symbols writes an object's symbols: first its source files, each once,
// then per symbol its name, address, size, type, flags and file index.
func (e *encoder) symbols(syms []Symbol) { e.symbolsAt(syms, nil) }

// symbolsAt is symbols, and when at is not nil it is called with the
// offset of every symbol's record (before it is written) and, once more,
// with len(syms) and the end of the records.
func (e *encoder) symbolsAt(syms []Symbol, at func(i int, off int)) {
	// Runs of symbols share a file (each STT_FILE entry is followed by
	// that file's locals), so the last file's index is remembered rather
	// than looked up per symbol.
	fileIdx := map[string]uint64{}
	var files []string
	last := ""
	for i := range syms {
		if f := syms[i].File; f != "" && f != last {
			if _, ok := fileIdx[f]; !ok {
				files = append(files, f)
				fileIdx[f] = uint64(len(files))
			}
			last = f
		}
	}
	e.strs(files)
	e.uvarint(uint64(len(syms)))
	last, lastIdx := "", uint64(0)
	for i := range syms {
		if at != nil {
			at(i, len(e.buf))
		}
		s := &syms[i]
		e.str(s.Name)
		e.uvarint(s.Addr)
		e.uvarint(s.Size)
		e.byte(s.Type)
		var fl byte
		if s.Func {
			fl |= flagFunc
		}
		if s.LoadingOnly {
			fl |= flagLoadingOnly
		}
		fl |= byte(s.Traceable) << flagTraceShift
		e.byte(fl)
		if s.File != last {
			last, lastIdx = s.File, fileIdx[s.File]
		}
		e.uvarint(lastIdx)
	}
	if at != nil {
		at(len(syms), len(e.buf))
	}
}

// encodeIndex writes an index entry: the envelope of the head (inputs,
// config, exports, vmlinux's counts and where its symbols and name table
// are, and per module what it holds besides its symbols, its counts and
// where its symbols are), then each module's symbols, then vmlinux's
// symbols and name table (see cachevm.go), which a load reads only when
// they are used.
func encodeIndex(b *Build) []byte {
	names := b.ModuleNames()
	var blobs encoder
	type place struct {
		off, n uint64
		crc    uint32
	}
	places := make([]place, len(names))
	for i, n := range names {
		start := len(blobs.buf)
		if blob := b.Modules[n].compactBlob(); blob != nil {
			blobs.buf = append(blobs.buf, blob...)
		} else {
			blobs.symbols(b.Modules[n].Symbols)
		}
		places[i] = place{uint64(start), uint64(len(blobs.buf) - start), crc32.Checksum(blobs.buf[start:], castagnoli)}
	}
	var vm vmlinuxBlobs
	if b.Vmlinux != nil {
		vm = encodeVmlinux(&blobs, b.Vmlinux.Symbols)
	}
	e := encoder{buf: make([]byte, 0, 1<<20)}
	e.inputs(b.Inputs)
	if b.Config == nil {
		e.byte(0)
	} else {
		e.byte(1)
		keys := sortedKeys(b.Config)
		e.uvarint(uint64(len(keys)))
		for _, k := range keys {
			e.str(k)
			e.str(b.Config[k])
		}
	}
	e.uvarint(uint64(len(b.Exports)))
	for _, x := range b.Exports {
		e.str(x.Symbol)
		e.uvarint(uint64(x.CRC))
		e.str(x.Module)
		e.str(x.Type)
		e.str(x.Namespace)
	}
	if b.Vmlinux == nil {
		e.byte(0)
	} else {
		e.byte(1)
		e.objectMeta(b.Vmlinux)
		c := b.Vmlinux.Counts()
		e.uvarint(uint64(c.Symbols))
		e.uvarint(uint64(c.Functions))
		e.uvarint(uint64(c.Traceable + 1))
		vm.encode(&e)
	}
	e.uvarint(uint64(len(names)))
	for i, n := range names {
		o := b.Modules[n]
		e.objectMeta(o)
		c := o.Counts()
		e.uvarint(uint64(c.Symbols))
		e.uvarint(uint64(c.Functions))
		e.uvarint(uint64(c.Traceable + 1))
		e.uvarint(places[i].off)
		e.uvarint(places[i].n)
		e.uvarint(uint64(places[i].crc))
	}
	// Damaged modules: name, then each file's error as path and message.
	damaged := sortedKeys(b.Damaged)
	e.uvarint(uint64(len(damaged)))
	for _, n := range damaged {
		e.str(n)
		errs := damagedErrs(b.Damaged[n])
		e.uvarint(uint64(len(errs)))
		for _, pe := range errs {
			e.str(pe.File)
			e.str(pe.Msg)
		}
	}
	return append(envelope(indexMagic, e.buf), blobs.buf...)
}

// decoder reads what encoder wrote. The first error sticks; later reads
// return zero values, so callers check err once at the end.
type decoder struct {
	s   string
	err error
}

var errCorrupt = errors.New("corrupt cache entry")

func (d *decoder) uvarint() uint64 {
	if d.err != nil {
		return 0
	}
	var v uint64
	var shift uint
	for i := 0; i < len(d.s) && i < binary.MaxVarintLen64; i++ {
		c := d.s[i]
		v |= uint64(c&0x7f) << shift
		if c < 0x80 {
			d.s = d.s[i+1:]
			return v
		}
		shift += 7
	}
	d.err = errCorrupt
	return 0
}

func (d *decoder) byte() byte {
	if d.err != nil || len(d.s) == 0 {
		d.err = errCorrupt
		return 0
	}
	c := d.s[0]
	d.s = d.s[1:]
	return c
}

func (d *decoder) str() string {
	n := d.uvarint()
	if d.err != nil || n > uint64(len(d.s)) {
		d.err = errCorrupt
		return ""
	}
	s := d.s[:n]
	d.s = d.s[n:]
	return s
}

// count reads a collection length, rejecting lengths that cannot fit in
// what is left (each element takes at least one byte).
func (d *decoder) count() int {
	n := d.uvarint()
	if n > uint64(len(d.s)) {
		d.err = errCorrupt
		return 0
	}
	return int(n)
}

func (d *decoder) strs() []string {
	n := d.count()
	if n == 0 {
		return nil
	}
	out := make([]string, n)
	for i := range out {
		out[i] = d.str()
	}
	return out
}

func (d *decoder) inputs() []Input {
	n := d.count()
	out := make([]Input, 0, n)
	for i := 0; i < n && d.err == nil; i++ {
		out = append(out, Input{Kind: d.str(), Path: d.str(), Size: int64(d.uvarint()), SHA256: d.str()})
	}
	return out
}

func (d *decoder) done() bool { return d.err == nil && len(d.s) == 0 }

func (d *decoder) objectMeta() *Object {
	o := &Object{}
	d.objectMetaInto(o, nil)
	return o
}

// objectMetaInto decodes an object's meta into o; its Depends are
// appended to *deps when deps is not nil, so that thousands of modules
// share a few backing arrays.
func (d *decoder) objectMetaInto(o *Object, deps *[]string) {
	o.Name, o.Path, o.Source, o.SrcVersion, o.Vermagic = d.str(), d.str(), d.str(), d.str(), d.str()
	if deps == nil {
		o.Depends = d.strs()
	} else if n := d.count(); n > 0 {
		if cap(*deps)-len(*deps) < n {
			*deps = make([]string, 0, max(n, 1024))
		}
		start := len(*deps)
		for i := 0; i < n; i++ {
			*deps = append(*deps, d.str())
		}
		o.Depends = (*deps)[start:len(*deps):len(*deps)]
	}
	o.RealAddrs = d.byte() == 1
}

func (d *decoder) symbols() []Symbol {
	files := d.strs()
	n := d.count()
	syms := make([]Symbol, n)
	d.records(syms, files)
	return syms
}

// records decodes len(syms) symbol records into syms; files are the
// object's source files the records name by index.
func (d *decoder) records(syms []Symbol, files []string) {
	for i := 0; i < len(syms) && d.err == nil; i++ {
		s := &syms[i]
		s.Name = d.str()
		s.Addr = d.uvarint()
		s.Size = d.uvarint()
		s.Type = d.byte()
		fl := d.byte()
		s.Func = fl&flagFunc != 0
		s.LoadingOnly = fl&flagLoadingOnly != 0
		s.Traceable = Tristate(fl >> flagTraceShift & 3)
		if s.Traceable > Yes {
			d.err = errCorrupt
		}
		if fi := d.uvarint(); fi > 0 {
			if fi > uint64(len(files)) {
				d.err = errCorrupt
				break
			}
			s.File = files[fi-1]
		}
	}
}

// decodeHead decodes an index entry's head; module symbols stay in the
// blobs, blobSize bytes after the head, until used (see lazySymbols).
func decodeHead(payload string, blobSize uint64, src *indexSource) (*Build, error) {
	d := decoder{s: payload}
	b := &Build{}
	b.Inputs = d.inputs()
	if d.byte() == 1 {
		n := d.count()
		b.Config = make(Config, n)
		for i := 0; i < n && d.err == nil; i++ {
			b.Config[d.str()] = d.str()
		}
	}
	n := d.count()
	b.Exports = make([]Export, 0, n)
	for i := 0; i < n && d.err == nil; i++ {
		b.Exports = append(b.Exports, Export{Symbol: d.str(), CRC: uint32(d.uvarint()), Module: d.str(), Type: d.str(), Namespace: d.str()})
	}
	if d.byte() == 1 {
		o := d.objectMeta()
		l := &lazySymbols{src: src}
		l.counts = Counts{Symbols: int(d.uvarint()), Functions: int(d.uvarint()), Traceable: int(d.uvarint()) - 1}
		o.sparse = d.vmlinuxBlobs(l, blobSize)
		if l.counts.Traceable < -1 {
			d.err = errCorrupt
		}
		o.lazy = l
		b.Vmlinux = o
	}
	n = d.count()
	// One allocation for all the modules' objects and one for their lazy
	// symbols: a tree has thousands.
	b.Modules = make(map[string]*Object, n)
	lazies := make([]lazySymbols, n)
	objs := make([]Object, n)
	var deps []string
	for i := 0; i < n && d.err == nil; i++ {
		o := &objs[i]
		d.objectMetaInto(o, &deps)
		l := &lazies[i]
		l.src = src
		l.counts = Counts{Symbols: int(d.uvarint()), Functions: int(d.uvarint()), Traceable: int(d.uvarint()) - 1}
		l.off, l.n, l.crc = d.uvarint(), d.uvarint(), uint32(d.uvarint())
		if l.off > blobSize || l.n > blobSize-l.off || l.counts.Traceable < -1 {
			d.err = errCorrupt
		}
		o.lazy = l
		b.Modules[o.Name] = o
	}
	if n = d.count(); n > 0 {
		b.Damaged = make(map[string]error, n)
	}
	for i := 0; i < n && d.err == nil; i++ {
		name := d.str()
		var errs []error
		for k := d.count(); k > 0 && d.err == nil; k-- {
			errs = append(errs, &ParseError{File: d.str(), Msg: d.str()})
		}
		if len(errs) == 0 {
			d.err = errCorrupt
		}
		if len(errs) == 1 {
			b.Damaged[name] = errs[0]
		} else {
			b.Damaged[name] = errors.Join(errs...)
		}
	}
	if !d.done() {
		return nil, errCorrupt
	}
	return b, nil
}

// damagedErrs splits the error of a damaged module into its per-file
// *ParseError parts (load joins one per file that has the module's name).
func damagedErrs(err error) []*ParseError {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var out []*ParseError
		for _, e := range j.Unwrap() {
			out = append(out, damagedErrs(e)...)
		}
		return out
	}
	if pe, ok := err.(*ParseError); ok {
		return []*ParseError{pe}
	}
	return []*ParseError{{Msg: err.Error()}}
}

// loadWalking loads a spec, reading the modules folder as it is walked
// (see walkRead). It returns the files read, in listFiles order, with
// their identities before they were read, and the folders walked.
func (s Spec) loadWalking(budget *safeio.Budget, hash bool) (*Build, []inputFile, []fileStat, dirList, error) {
	var dirs dirList
	other, err := s.inputFiles()
	if err != nil {
		return nil, nil, nil, dirs, err
	}
	if len(other) == 0 && s.Modules == "" {
		return nil, nil, nil, dirs, errors.New("kernel build has no input files")
	}
	before := statAll(other, "")
	b, files, ids, err := loadFrom(other, s.Modules, true, budget, hash, &dirs)
	if err != nil {
		return nil, nil, nil, dirs, err
	}
	if ids == nil {
		ids = before
	} else {
		copy(ids, before)
	}
	return b, files, ids, dirs, nil
}
