package target

import (
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/klauspost/compress/zstd"
	"github.com/ulikunitz/xz"
)

// ParseError reports malformed input. It always names the file, and the
// line for text formats.
type ParseError struct {
	File string
	Line int // 1-based; 0 when not a line-oriented format
	Msg  string
}

func (e *ParseError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
	}
	return fmt.Sprintf("%s: %s", e.File, e.Msg)
}

func parseErr(file string, line int, format string, args ...any) error {
	return &ParseError{File: file, Line: line, Msg: fmt.Sprintf(format, args...)}
}

// Compression magic numbers, checked on content rather than on file names so
// that a renamed file is still read correctly.
var (
	gzipMagic = []byte{0x1f, 0x8b}
	xzMagic   = []byte{0xfd, '7', 'z', 'X', 'Z', 0x00}
	zstdMagic = []byte{0x28, 0xb5, 0x2f, 0xfd}
)

// maxDecompressed bounds what one compressed input may expand to, so that a
// hostile or corrupt file cannot exhaust memory. The largest real module or
// kallsyms file is far below it. A variable so fuzz tests can lower it.
var maxDecompressed = 1 << 30

// readAll reads a whole file, transparently decompressing gzip, xz and zstd.
func readAll(path string) ([]byte, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return decompress(path, raw)
}

// decompress returns raw unchanged unless it starts with a known
// compression magic number.
func decompress(path string, raw []byte) ([]byte, error) {
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
		zr, err := xz.NewReader(bytes.NewReader(raw))
		if err != nil {
			return nil, parseErr(path, 0, "bad xz data: %v", err)
		}
		r = zr
	case bytes.HasPrefix(raw, zstdMagic):
		zr, err := zstd.NewReader(bytes.NewReader(raw), zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxMemory(uint64(maxDecompressed)))
		if err != nil {
			return nil, parseErr(path, 0, "bad zstd data: %v", err)
		}
		defer zr.Close()
		r = zr
	default:
		return raw, nil
	}
	out, err := io.ReadAll(io.LimitReader(r, int64(maxDecompressed)+1))
	if err != nil {
		if errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, parseErr(path, 0, "compressed data is truncated")
		}
		return nil, parseErr(path, 0, "cannot decompress: %v", err)
	}
	if len(out) > maxDecompressed {
		return nil, parseErr(path, 0, "decompressed data exceeds %d bytes", maxDecompressed)
	}
	return out, nil
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
