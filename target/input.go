package target

import (
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"

	"github.com/klauspost/compress/zstd"
	"github.com/ulikunitz/xz"

	"github.com/klpc/klpc/internal/safeio"
)

// ParseError reports malformed input. It always names the file, and the
// line for text formats.
type ParseError struct {
	File string
	Line int // 1-based; 0 when not a line-oriented format
	Msg  string
	err  error // wrapped sentinel, if any
}

func (e *ParseError) Unwrap() error { return e.err }

var errTooManyEntries = errors.New("too many folder entries")

func (e *ParseError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
	}
	return fmt.Sprintf("%s: %s", e.File, e.Msg)
}

func parseErr(file string, line int, format string, args ...any) error {
	return &ParseError{File: file, Line: line, Msg: fmt.Sprintf(format, args...)}
}

// excerpt renders input text for an error message (see safeio.Excerpt):
// file contents appear in diagnostics only this way.
func excerpt(s string) string { return safeio.Excerpt(s) }

// Compression magic numbers, checked on content rather than on file names so
// that a renamed file is still read correctly.
var (
	gzipMagic = []byte{0x1f, 0x8b}
	xzMagic   = []byte{0xfd, '7', 'z', 'X', 'Z', 0x00}
	zstdMagic = []byte{0x28, 0xb5, 0x2f, 0xfd}
)

// inputLimits caps, per kind, the size of one input file as stored. Each
// is far above what a real build ships (Debian 6.1: kallsyms 15 MB, the
// largest module, amdgpu.ko, 19 MB; a vmlinux with debug info 0.7 GB) and
// bounds what a hostile file can make klpc read. Uncompressed modules may
// carry debug info, hence their higher cap. Variables so tests can lower
// them.
var inputLimits = map[string]int64{
	KindKallsyms:  256 << 20,
	KindSystemMap: 256 << 20,
	KindVmlinux:   4 << 30,
	KindModule:    512 << 20,
	KindSymvers:   64 << 20,
	KindConfig:    16 << 20,
	KindFtrace:    256 << 20,
	kindIndex:     1 << 30,
	kindMemo:      256 << 20,
}

// Kinds of the index cache's own files, for inputLimits.
const (
	kindIndex = "index cache entry"
	kindMemo  = "index cache memo"
)

// decompressedLimits caps what one compressed file of a kind may expand
// to, where it differs from inputLimits. Modules are decompressed two at
// a time, so their cap decides the peak memory a tree of bombs can cost.
var decompressedLimits = map[string]int64{
	KindModule:  128 << 20,
	KindVmlinux: 2 << 30,
}

func limitOf(kind string) int64 { return inputLimits[kind] }

func decompressedLimitOf(kind string) int64 {
	if n, ok := decompressedLimits[kind]; ok {
		return n
	}
	return inputLimits[kind]
}

// maxXZDict bounds the LZMA2 dictionary an xz file may ask for: the xz
// reader allocates it up front, so a 60-byte file could otherwise claim
// 1.5 GiB. xz -9 uses 64 MiB; kbuild compresses modules with 1 MiB.
const maxXZDict = 256 << 20

// reader reads the inputs of one load. All of its compressed files draw on
// one decompression budget, so many small bombs cannot add up to what no
// single file is allowed.
type reader struct{ budget *safeio.Budget }

func newReader(budget *safeio.Budget) *reader {
	if budget == nil {
		budget = safeio.NewBudget(safeio.DefaultBudget)
	}
	return &reader{budget: budget}
}

// readFile reads a whole input file of the given kind, transparently
// decompressing gzip, xz and zstd.
func (rd *reader) readFile(kind, path string) ([]byte, error) {
	raw, err := safeio.ReadFile(path, limitOf(kind))
	if err != nil {
		return nil, err
	}
	return rd.decompress(kind, path, raw)
}

// isCompressed reports data that starts with a known compression magic.
func isCompressed(data []byte) bool {
	return bytes.HasPrefix(data, gzipMagic) || bytes.HasPrefix(data, xzMagic) || bytes.HasPrefix(data, zstdMagic)
}

// decompress returns raw unchanged unless it starts with a known
// compression magic number. The output is capped by the kind's limit and
// drawn from the load's budget. Only one layer is removed: compressed data
// inside compressed data is not a kernel build file.
func (rd *reader) decompress(kind, path string, raw []byte) ([]byte, error) {
	limit := decompressedLimitOf(kind)
	var r io.Reader
	switch {
	case bytes.HasPrefix(raw, gzipMagic):
		zr, err := gzip.NewReader(bytes.NewReader(raw))
		if err != nil {
			return nil, parseErr(path, 0, "bad gzip data: %v", err)
		}
		defer zr.Close()
		r = zr
	case bytes.HasPrefix(raw, xzMagic):
		if dict, ok := xzDictSize(raw); ok && dict > maxXZDict {
			return nil, parseErr(path, 0, "xz data asks for a %s dictionary, more than the %s allowed",
				safeio.Size(dict), safeio.Size(maxXZDict))
		}
		zr, err := xz.NewReader(bytes.NewReader(raw))
		if err != nil {
			return nil, parseErr(path, 0, "bad xz data: %v", err)
		}
		r = zr
	case bytes.HasPrefix(raw, zstdMagic):
		zr, err := zstd.NewReader(bytes.NewReader(raw), zstd.WithDecoderConcurrency(1),
			zstd.WithDecoderMaxMemory(uint64(limit)), zstd.WithDecoderMaxWindow(uint64(min(limit, zstd.MaxWindowSize, 256<<20))))
		if err != nil {
			return nil, parseErr(path, 0, "bad zstd data: %v", err)
		}
		defer zr.Close()
		r = zr
	default:
		return raw, nil
	}
	out, err := safeio.ReadAll(rd.budget.Reader(path, r, limit), limit)
	if err != nil {
		var se *safeio.Error
		switch {
		case errors.As(err, &se):
			return nil, err
		case errors.Is(err, zstd.ErrDecoderSizeExceeded):
			// A zstd frame that declares its size is refused up front.
			return nil, &safeio.Error{Path: path, Msg: "decompresses to more than the " + safeio.Size(limit) + " allowed for one file", Err: safeio.ErrTooLarge}
		case errors.Is(err, io.ErrUnexpectedEOF):
			return nil, parseErr(path, 0, "compressed data is truncated")
		}
		return nil, parseErr(path, 0, "cannot decompress: %v", err)
	}
	return out, nil
}

// xzDictSize reads the LZMA2 dictionary size of an xz stream's first
// block: stream header (12 bytes), block header size, block flags, the
// optional compressed and uncompressed sizes, then the first filter's id
// (0x21 for LZMA2), its property size (1) and the dictionary byte. Later
// blocks are bounded by the same allocation in practice: xz writes one
// dictionary size per stream.
func xzDictSize(raw []byte) (int64, bool) {
	b := raw[min(len(raw), 12):]
	if len(b) < 2 || b[0] == 0 {
		return 0, false
	}
	flags := b[1]
	p := b[2:min(len(b), int(b[0])*4+4)]
	skip := func() bool { // one multibyte integer
		for i := 0; i < len(p) && i < 9; i++ {
			if p[i]&0x80 == 0 {
				p = p[i+1:]
				return true
			}
		}
		return false
	}
	if flags&0x40 != 0 && !skip() {
		return 0, false
	}
	if flags&0x80 != 0 && !skip() {
		return 0, false
	}
	if len(p) < 3 || p[0] != 0x21 || p[1] != 1 || p[2] > 40 {
		return 0, false
	}
	d := int64(p[2])
	if d == 40 {
		return 0xffffffff, true
	}
	return (2 | d&1) << (d/2 + 11), true
}

// lines iterates over the lines of data, calling fn with the 1-based line
// number and the line without its end-of-line bytes. It stops at the first
// error fn returns.
func lines(data []byte, fn func(n int, line []byte) error) error {
	for n := 1; len(data) > 0; n++ {
		line := data
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			line, data = data[:i], data[i+1:]
		} else {
			data = nil
		}
		if err := fn(n, bytes.TrimSuffix(line, []byte{'\r'})); err != nil {
			return err
		}
	}
	return nil
}
