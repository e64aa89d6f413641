package image

import (
	"bytes"
	"compress/bzip2"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/klauspost/compress/zstd"
	"github.com/therootcompany/xz"
	"github.com/ulikunitz/xz/lzma"
)

// Error reports a damaged or unsupported image. It always names the file.
type Error struct {
	File string
	Msg  string
}

func (e *Error) Error() string { return e.File + ": " + e.Msg }

func errorf(file, format string, args ...any) error {
	return &Error{File: file, Msg: fmt.Sprintf(format, args...)}
}

// MaxVmlinux bounds the decompressed payload (Debian's 6.1, 6.12 and 7.2
// images hold 58-66 MB), so that a damaged size field or a decompression
// bomb cannot exhaust memory. A variable so tests can lower it.
var MaxVmlinux = 256 << 20

// Offsets in the x86 boot setup header (Documentation/x86/boot.rst,
// arch/x86/boot/header.S; unchanged from 6.1 to 7.2).
const (
	hdrSetupSects    = 0x1f1
	hdrMagic         = 0x202 // "HdrS"
	hdrVersion       = 0x206
	hdrKernelVersion = 0x20e
	hdrPayloadOffset = 0x248
	hdrPayloadLength = 0x24c
	hdrEnd           = 0x250
)

// Header is what the boot setup header tells about the image.
type Header struct {
	// Protocol is the boot protocol version (0x20f for 6.1 to 7.2).
	Protocol uint16
	// Version is the kernel_version string ("6.1.0-56-amd64
	// (debian-kernel@lists.debian.org) #1 SMP ..."), or "" if absent.
	Version string
	// PayloadOffset and PayloadLength locate the compressed vmlinux in the
	// file (the offset is from the start of the file, not of the
	// protected-mode code as in the header).
	PayloadOffset int64
	PayloadLength int64
	// Compression names the payload format: gzip, xz, zstd, lzma, bzip2,
	// lzo, lz4 (all but lzo and lz4 are decompressed).
	Compression string
}

// payload compression magic numbers, as arch/x86/boot/compressed/misc.c's
// decompressors expect them.
var payloadMagics = []struct {
	name  string
	magic []byte
}{
	{"gzip", []byte{0x1f, 0x8b}},
	{"xz", []byte{0xfd, '7', 'z', 'X', 'Z', 0x00}},
	{"zstd", []byte{0x28, 0xb5, 0x2f, 0xfd}},
	{"bzip2", []byte("BZh")},
	{"lzma", []byte{0x5d, 0x00, 0x00}},
	{"lzo", []byte{0x89, 'L', 'Z', 'O'}},
	{"lz4", []byte{0x02, 0x21, 0x4c, 0x18}},
}

// ParseHeader reads the boot setup header of a bzImage. name is used in
// error messages.
func ParseHeader(name string, data []byte) (Header, error) {
	var h Header
	if len(data) < hdrEnd {
		return h, errorf(name, "too short for an x86 bzImage (%d bytes)", len(data))
	}
	if string(data[hdrMagic:hdrMagic+4]) != "HdrS" {
		return h, errorf(name, "not an x86 bzImage: no \"HdrS\" boot header magic at 0x202")
	}
	h.Protocol = binary.LittleEndian.Uint16(data[hdrVersion:])
	if h.Protocol < 0x208 {
		return h, errorf(name, "boot protocol %#x is older than 2.08 and does not locate its payload", h.Protocol)
	}
	setupSects := int64(data[hdrSetupSects])
	if setupSects == 0 {
		setupSects = 4 // "If this field is 0, the real value is 4."
	}
	if kv := int64(binary.LittleEndian.Uint16(data[hdrKernelVersion:])); kv != 0 {
		h.Version = cString(data, kv+0x200, 256)
	}
	start := (setupSects + 1) * 512
	h.PayloadOffset = start + int64(binary.LittleEndian.Uint32(data[hdrPayloadOffset:]))
	h.PayloadLength = int64(binary.LittleEndian.Uint32(data[hdrPayloadLength:]))
	if h.PayloadLength < 8 || h.PayloadOffset+h.PayloadLength > int64(len(data)) {
		return h, errorf(name, "payload at %#x, %d bytes, lies outside the %d-byte file", h.PayloadOffset, h.PayloadLength, len(data))
	}
	p := data[h.PayloadOffset:]
	for _, m := range payloadMagics {
		if bytes.HasPrefix(p, m.magic) {
			h.Compression = m.name
			break
		}
	}
	if h.Compression == "" {
		return h, errorf(name, "payload at %#x has an unknown compression format (starts % x)", h.PayloadOffset, p[:min(len(p), 6)])
	}
	return h, nil
}

// cString returns the NUL-terminated string at off, at most max bytes, or
// "" when it is not printable text.
func cString(data []byte, off int64, max int) string {
	if off < 0 || off >= int64(len(data)) {
		return ""
	}
	s := data[off:min(int64(len(data)), off+int64(max))]
	i := bytes.IndexByte(s, 0)
	if i < 0 {
		return ""
	}
	for _, c := range s[:i] {
		if c < 0x20 || c > 0x7e {
			return ""
		}
	}
	return string(s[:i])
}

// Decompress returns the payload's decompressed bytes: the stripped
// vmlinux ELF (arch/x86/boot/compressed/Makefile's vmlinux.bin, followed by
// vmlinux.relocs on 6.1). The kernel's build appends the decompressed size
// as a 32-bit little-endian word after the compressed stream
// (size_append in scripts/Makefile.lib; mkpiggy reads it as
// z_output_len); it bounds the output here and is checked against it.
func Decompress(name string, data []byte, h Header) ([]byte, error) {
	p := data[h.PayloadOffset : h.PayloadOffset+h.PayloadLength]
	want := int64(binary.LittleEndian.Uint32(p[len(p)-4:]))
	if want == 0 || want > int64(MaxVmlinux) {
		return nil, errorf(name, "payload claims %d decompressed bytes (limit %d)", want, MaxVmlinux)
	}
	var r io.Reader
	switch h.Compression {
	case "gzip":
		// gzip's own trailer ends with ISIZE, the same word.
		zr, err := gzip.NewReader(bytes.NewReader(p))
		if err != nil {
			return nil, errorf(name, "bad gzip payload: %v", err)
		}
		zr.Multistream(false)
		r = zr
	case "xz":
		// The kernel's xz streams use the x86 BCJ filter
		// (scripts/xz_wrap.sh), which ulikunitz/xz does not implement.
		zr, err := xz.NewReader(bytes.NewReader(p[:len(p)-4]), 0)
		if err != nil {
			return nil, errorf(name, "bad xz payload: %v", err)
		}
		zr.Multistream(false)
		r = zr
	case "zstd":
		zr, err := zstd.NewReader(bytes.NewReader(p[:len(p)-4]), zstd.WithDecoderConcurrency(1),
			zstd.WithDecoderMaxMemory(uint64(MaxVmlinux)), zstd.WithDecoderMaxWindow(uint64(MaxVmlinux)))
		if err != nil {
			return nil, errorf(name, "bad zstd payload: %v", err)
		}
		defer zr.Close()
		r = zr
	case "lzma":
		// The standard library and the existing dependencies cover lzma
		// (ulikunitz/xz/lzma, the .lzma "alone" format `lzma -9` writes)
		// and bzip2, so they cost nothing; lzo and lz4 would need new
		// dependencies for kernels no distribution ships.
		zr, err := lzma.ReaderConfig{DictCap: MaxVmlinux}.NewReader(bytes.NewReader(p[:len(p)-4]))
		if err != nil {
			return nil, errorf(name, "bad lzma payload: %v", err)
		}
		r = zr
	case "bzip2":
		r = bzip2.NewReader(bytes.NewReader(p[:len(p)-4]))
	default:
		return nil, errorf(name, "%s-compressed payloads are not supported (only gzip, xz, zstd, lzma and bzip2)", h.Compression)
	}
	out := make([]byte, want)
	if _, err := io.ReadFull(r, out); err != nil {
		if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
			return nil, errorf(name, "%s payload ends before the %d bytes its size field promises", h.Compression, want)
		}
		return nil, errorf(name, "cannot decompress the %s payload: %v", h.Compression, err)
	}
	return out, nil
}
