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

// hasControl reports control characters (C0, DEL) in a name read from an
// input. Kernel symbol and module names never hold them, and a name that
// did would carry terminal escapes into every later diagnostic.
func hasControl(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] == 0x7f {
			return true
		}
	}
	return false
}

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
	KindVmlinuz:   256 << 20, // a bzImage: Debian 6.1 is 8 MB
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

// maxXZDict bounds the LZMA2 dictionary an xz block may ask for: the xz
// reader allocates it up front, so a 60-byte file could otherwise claim
// 4 GiB per block. xz -9 uses 64 MiB; Debian's .ko.xz files use 1 MiB.
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
		dict, err := xzMaxDict(raw)
		if err != nil {
			return nil, parseErr(path, 0, "bad xz data: %v", err)
		}
		if dict > maxXZDict {
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

// xzMaxDict walks the xz container (the .xz file format, version 1.2.0)
// without decompressing anything and returns the largest LZMA2 dictionary
// any block asks for. The xz reader allocates each block's dictionary as
// soon as it reads the block header, so one small file with many blocks
// that each claim 3 GiB would otherwise cost gigabytes. LZMA2 chunk
// headers carry their compressed sizes, which lets the walk skip a block
// without a header size field. An error means the container is malformed.
func xzMaxDict(raw []byte) (int64, error) {
	var maxDict int64
	p := raw
	bad := func(what string) (int64, error) { return 0, fmt.Errorf("malformed xz container: %s", what) }
	varint := func() (uint64, bool) {
		var v uint64
		for i := 0; i < len(p) && i < 9; i++ {
			v |= uint64(p[i]&0x7f) << (7 * i)
			if p[i]&0x80 == 0 {
				p = p[i+1:]
				return v, true
			}
		}
		return 0, false
	}
	for streams := 0; len(p) > 0; streams++ {
		if streams > 0 {
			// Stream padding: zero bytes in groups of four.
			for len(p) >= 4 && p[0] == 0 && p[1] == 0 && p[2] == 0 && p[3] == 0 {
				p = p[4:]
			}
			if len(p) == 0 {
				break
			}
		}
		if len(p) < 12 || !bytes.HasPrefix(p, xzMagic) {
			return bad("no stream header")
		}
		checkID := int(p[7] & 0x0f)
		checkSize := 0
		if checkID > 0 {
			checkSize = 4 << ((checkID - 1) / 3)
		}
		p = p[12:]
		for {
			if len(p) == 0 {
				return bad("truncated block")
			}
			if p[0] == 0 { // index indicator
				break
			}
			blockStart := len(p)
			hlen := (int(p[0]) + 1) * 4
			if len(p) < hlen {
				return bad("truncated block header")
			}
			h := p[2 : hlen-4]
			flags := p[1]
			p = p[hlen:]
			rest := p
			p = h
			if flags&0x40 != 0 {
				if _, ok := varint(); !ok {
					return bad("block header")
				}
			}
			if flags&0x80 != 0 {
				if _, ok := varint(); !ok {
					return bad("block header")
				}
			}
			for f := 0; f <= int(flags&3); f++ {
				id, ok1 := varint()
				n, ok2 := varint()
				if !ok1 || !ok2 || n > uint64(len(p)) {
					return bad("filter flags")
				}
				if id == 0x21 {
					if n != 1 || p[0] > 40 {
						return bad("LZMA2 properties")
					}
					maxDict = max(maxDict, xzDictBytes(p[0]))
				}
				p = p[n:]
			}
			// LZMA2 chunks up to the end marker.
			p = rest
			for {
				if len(p) == 0 {
					return bad("truncated LZMA2 data")
				}
				c := p[0]
				var n int
				switch {
				case c == 0:
					n = 1
				case c == 1 || c == 2:
					if len(p) < 3 {
						return bad("truncated LZMA2 chunk")
					}
					n = 3 + (int(p[1])<<8 | int(p[2])) + 1
				case c >= 0x80:
					if len(p) < 5 {
						return bad("truncated LZMA2 chunk")
					}
					n = 5 + (int(p[3])<<8 | int(p[4])) + 1
					if c >= 0xc0 {
						n++ // new properties byte
					}
				default:
					return bad("LZMA2 control byte")
				}
				if n > len(p) {
					return bad("truncated LZMA2 chunk")
				}
				p = p[n:]
				if c == 0 {
					break
				}
			}
			// Block padding to a multiple of four, then the check.
			pad := (4 - (blockStart-len(p))%4) % 4
			if len(p) < pad+checkSize {
				return bad("truncated block check")
			}
			p = p[pad+checkSize:]
		}
		// Index: indicator, record count, records, padding, CRC32.
		indexStart := len(p)
		p = p[1:]
		records, ok := varint()
		if !ok || records > uint64(len(p)) {
			return bad("index")
		}
		for range records {
			_, ok1 := varint()
			_, ok2 := varint()
			if !ok1 || !ok2 {
				return bad("index")
			}
		}
		pad := (4 - (indexStart-len(p))%4) % 4
		if len(p) < pad+4+12 {
			return bad("truncated index or stream footer")
		}
		p = p[pad+4+12:]
	}
	return maxDict, nil
}

// xzDictBytes decodes an LZMA2 dictionary size byte (0-40): 2 or 3
// shifted by bits/2 + 11, and 40 for 4 GiB - 1.
func xzDictBytes(bits byte) int64 {
	if bits == 40 {
		return 0xffffffff
	}
	return (2 | int64(bits)&1) << (bits/2 + 11)
}

// maxLines bounds the lines of a text input, and maxSymbols the symbols
// of an ELF file. Every line or symbol costs a few dozen bytes once
// parsed, so a file of tiny lines under its size cap could otherwise take
// gigabytes. A Debian 6.1 kallsyms has about 100,000 vmlinux symbols and
// 200,000 lines with every module loaded; its vmlinux, 150,000 symbols.
const (
	maxLines   = 1 << 22
	maxSymbols = 1 << 22
)

// lines iterates over the lines of data, the content of file path,
// calling fn with the 1-based line number and the line without its
// end-of-line bytes. It stops at the first error fn returns, and after
// maxLines lines.
func lines(path string, data []byte, fn func(n int, line []byte) error) error {
	for n := 1; len(data) > 0; n++ {
		if n > maxLines {
			return parseErr(path, n, "more than %d lines: far larger than any kernel build file", maxLines)
		}
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
