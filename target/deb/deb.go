// Package deb reads Debian binary packages (.deb) without dpkg: it streams
// the package's data archive and extracts the files a kernel build is
// indexed from (the kernel image, modules, config and System.map), with
// limits on what it writes, so that klpc can read a linux-image package as
// it is downloaded.
//
// It never follows or creates links, never writes outside the folder it
// is given and never trusts a size it has not bounded.
package deb

import (
	"archive/tar"
	"bufio"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/klauspost/compress/zstd"
	"github.com/therootcompany/xz"
)

// Error reports a damaged package or one that breaks a limit. It names
// the package and, where it applies, the member or entry.
type Error struct {
	File  string // the .deb
	Entry string // ar member or tar entry, or ""
	Msg   string
}

func (e *Error) Error() string {
	if e.Entry != "" {
		return fmt.Sprintf("%s: %s: %s", e.File, e.Entry, e.Msg)
	}
	return e.File + ": " + e.Msg
}

// Limits bound what reading a package may cost.
type Limits struct {
	// MaxEntry bounds one extracted file.
	MaxEntry int64
	// MaxExtract bounds all extracted files together.
	MaxExtract int64
	// MaxStream bounds the decompressed data archive, extracted or not.
	MaxStream int64
}

// DefaultLimits fit every Debian kernel package (the largest, 6.12's
// linux-image, unpacks to about 600 MB) with a wide margin.
var DefaultLimits = Limits{MaxEntry: 512 << 20, MaxExtract: 4 << 30, MaxStream: 16 << 30}

const (
	arMagic     = "!<arch>\n"
	arHeaderLen = 60
)

// Walk streams the data archive of the package read from r and calls fn
// with every entry's header and, for regular files, its contents (nil for
// other entries). name is used in errors. fn may stop the walk by
// returning an error, which Walk returns; io.EOF stops it quietly.
func Walk(name string, r io.Reader, lim Limits, fn func(h *tar.Header, body io.Reader) error) error {
	br := bufio.NewReaderSize(r, 64<<10)
	magic := make([]byte, len(arMagic))
	if _, err := io.ReadFull(br, magic); err != nil || string(magic) != arMagic {
		return &Error{File: name, Msg: "not a Debian package: no ar archive magic \"!<arch>\""}
	}
	for i := 0; ; i++ {
		hdr := make([]byte, arHeaderLen)
		if _, err := io.ReadFull(br, hdr); err != nil {
			if err == io.EOF {
				return &Error{File: name, Msg: "no data.tar member"}
			}
			return &Error{File: name, Msg: "truncated ar member header"}
		}
		member := strings.TrimSuffix(strings.TrimRight(string(hdr[0:16]), " "), "/")
		if string(hdr[58:60]) != "`\n" {
			return &Error{File: name, Entry: member, Msg: "bad ar member header"}
		}
		size, err := strconv.ParseInt(strings.TrimRight(string(hdr[48:58]), " "), 10, 64)
		if err != nil || size < 0 {
			return &Error{File: name, Entry: member, Msg: fmt.Sprintf("bad ar member size %q", strings.TrimSpace(string(hdr[48:58])))}
		}
		body := io.LimitReader(br, size)
		if i == 0 && member != "debian-binary" {
			return &Error{File: name, Entry: member, Msg: "not a Debian package: the first member is not debian-binary"}
		}
		if strings.HasPrefix(member, "data.tar") {
			return walkData(name, member, body, lim, fn)
		}
		// ar pads members to an even size.
		if _, err := io.CopyN(io.Discard, br, size+size%2); err != nil {
			return &Error{File: name, Entry: member, Msg: "truncated member"}
		}
	}
}

// walkData decompresses data.tar[.gz|.xz|.zst] and walks its entries.
func walkData(name, member string, r io.Reader, lim Limits, fn func(h *tar.Header, body io.Reader) error) error {
	br := bufio.NewReaderSize(r, 64<<10)
	head, _ := br.Peek(6)
	var dr io.Reader
	switch {
	case bytes.HasPrefix(head, []byte{0x1f, 0x8b}):
		zr, err := gzip.NewReader(br)
		if err != nil {
			return &Error{File: name, Entry: member, Msg: "bad gzip data: " + err.Error()}
		}
		dr = zr
	case bytes.HasPrefix(head, []byte{0xfd, '7', 'z', 'X', 'Z', 0}):
		// therootcompany/xz (a port of XZ Embedded) decodes a kernel
		// package's data.tar.xz several times faster than ulikunitz/xz.
		zr, err := xz.NewReader(br, 0)
		if err != nil {
			return &Error{File: name, Entry: member, Msg: "bad xz data: " + err.Error()}
		}
		dr = zr
	case bytes.HasPrefix(head, []byte{0x28, 0xb5, 0x2f, 0xfd}):
		zr, err := zstd.NewReader(br, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxMemory(1<<30))
		if err != nil {
			return &Error{File: name, Entry: member, Msg: "bad zstd data: " + err.Error()}
		}
		defer zr.Close()
		dr = zr
	case member == "data.tar":
		dr = br
	default:
		return &Error{File: name, Entry: member, Msg: "unknown compression"}
	}
	capped := &capReader{r: dr, left: lim.MaxStream}
	tr := tar.NewReader(capped)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			if capped.left < 0 {
				return &Error{File: name, Entry: member, Msg: fmt.Sprintf("data archive is larger than %d bytes", lim.MaxStream)}
			}
			return &Error{File: name, Entry: member, Msg: "bad tar data: " + err.Error()}
		}
		var body io.Reader
		if h.Typeflag == tar.TypeReg {
			body = tr
		}
		if err := fn(h, body); err != nil {
			if err == io.EOF {
				return nil
			}
			return err
		}
	}
}

// capReader fails once more than left bytes are read.
type capReader struct {
	r    io.Reader
	left int64
}

var errTooLarge = errors.New("size limit exceeded")

func (c *capReader) Read(p []byte) (int, error) {
	if c.left < 0 {
		return 0, errTooLarge
	}
	if int64(len(p)) > c.left+1 {
		p = p[:c.left+1]
	}
	n, err := c.r.Read(p)
	c.left -= int64(n)
	if c.left < 0 {
		return n, errTooLarge
	}
	return n, err
}

// Kinds of kernel files.
const (
	KindVmlinuz   = "vmlinuz"
	KindModule    = "module"
	KindConfig    = "config"
	KindSystemMap = "System.map"
)

// File is a kernel file of a package.
type File struct {
	Kind    string
	Name    string // path in the package, without "./"
	Release string // uname -r
	Size    int64
}

// Classify says which kernel file a package path is: boot/vmlinuz-REL or
// usr/lib/modules/REL/vmlinuz (7.x's linux-binary), boot/config-REL,
// boot/System.map-REL, and modules (*.ko, .ko.xz, .ko.zst, .ko.gz) under
// lib/modules/REL/ or usr/lib/modules/REL/. It returns "" for other paths.
func Classify(p string) (kind, release string) {
	p = strings.TrimPrefix(path.Clean("/"+p), "/")
	if rest, ok := strings.CutPrefix(p, "boot/"); ok && !strings.Contains(rest, "/") {
		for _, k := range []struct{ prefix, kind string }{
			{"vmlinuz-", KindVmlinuz}, {"config-", KindConfig}, {"System.map-", KindSystemMap},
		} {
			if rel, ok := strings.CutPrefix(rest, k.prefix); ok && rel != "" {
				return k.kind, rel
			}
		}
		return "", ""
	}
	rest, ok := strings.CutPrefix(p, "lib/modules/")
	if !ok {
		rest, ok = strings.CutPrefix(p, "usr/lib/modules/")
	}
	if !ok {
		return "", ""
	}
	rel, file, ok := strings.Cut(rest, "/")
	if !ok || rel == "" {
		return "", ""
	}
	if file == "vmlinuz" {
		return KindVmlinuz, rel
	}
	for _, ext := range []string{".ko", ".ko.xz", ".ko.zst", ".ko.gz"} {
		if strings.HasSuffix(file, ext) {
			return KindModule, rel
		}
	}
	return "", ""
}

// ExtractKernel writes the kernel files of the package at debPath below
// dir, at their package paths (so Discover-style readers find boot/ and
// lib/modules/REL/), and returns them in archive order. Files already in
// dir are replaced; nothing else is touched.
func ExtractKernel(debPath, dir string, lim Limits) ([]File, error) {
	fh, err := os.Open(debPath)
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	var out []File
	var total int64
	err = Walk(debPath, fh, lim, func(h *tar.Header, body io.Reader) error {
		if body == nil {
			return nil
		}
		kind, rel := Classify(h.Name)
		if kind == "" {
			return nil
		}
		clean := strings.TrimPrefix(path.Clean("/"+h.Name), "/")
		if h.Size > lim.MaxEntry {
			return &Error{File: debPath, Entry: clean, Msg: fmt.Sprintf("%d bytes is over the %d-byte limit for one file", h.Size, lim.MaxEntry)}
		}
		if total += h.Size; total > lim.MaxExtract {
			return &Error{File: debPath, Entry: clean, Msg: fmt.Sprintf("the kernel files exceed the %d-byte extraction limit", lim.MaxExtract)}
		}
		if err := writeFile(filepath.Join(dir, filepath.FromSlash(clean)), body, h.Size); err != nil {
			return &Error{File: debPath, Entry: clean, Msg: err.Error()}
		}
		out = append(out, File{Kind: kind, Name: clean, Release: rel, Size: h.Size})
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// writeFile writes exactly size bytes from r to dst through a temporary
// name, so a reader never sees half a file.
func writeFile(dst string, r io.Reader, size int64) error {
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(dst), ".deb-*")
	if err != nil {
		return err
	}
	n, err := io.Copy(tmp, io.LimitReader(r, size))
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil && n != size {
		err = fmt.Errorf("truncated: %d of %d bytes", n, size)
	}
	if err == nil {
		err = os.Rename(tmp.Name(), dst)
	}
	if err != nil {
		os.Remove(tmp.Name())
	}
	return err
}
