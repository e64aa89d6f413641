package e2e

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"path"
	"sort"
	"strings"
)

// cpioEntry is one member of a cpio "newc" archive.
type cpioEntry struct {
	name  string // without the leading slash
	mode  uint32 // file type and permission bits
	data  []byte // contents of a regular file
	major uint32 // device numbers of a device node
	minor uint32
}

// File type bits of cpio modes.
const (
	cpioDir  = 0o040000
	cpioFile = 0o100000
	cpioChar = 0o020000
)

// writeCpio writes entries as a cpio "newc" archive, the format the kernel
// unpacks into its initial root file system. Parent folders are added
// automatically; timestamps and owners are zero so that the same entries
// always give the same bytes.
func writeCpio(w io.Writer, entries []cpioEntry) error {
	all := map[string]cpioEntry{}
	for _, e := range entries {
		e.name = strings.TrimPrefix(path.Clean("/"+e.name), "/")
		all[e.name] = e
		for dir := path.Dir(e.name); dir != "." && dir != "/"; dir = path.Dir(dir) {
			if _, ok := all[dir]; !ok {
				all[dir] = cpioEntry{name: dir, mode: cpioDir | 0o755}
			}
		}
	}
	names := make([]string, 0, len(all))
	for n := range all {
		names = append(names, n)
	}
	sort.Strings(names) // parents sort before their children
	ino := uint32(1)
	for _, n := range names {
		if err := writeCpioEntry(w, all[n], ino); err != nil {
			return err
		}
		ino++
	}
	return writeCpioEntry(w, cpioEntry{name: "TRAILER!!!"}, 0)
}

func writeCpioEntry(w io.Writer, e cpioEntry, ino uint32) error {
	nlink := uint32(1)
	if e.mode&0o170000 == cpioDir {
		nlink = 2
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X",
		ino, e.mode, 0, 0, nlink, 0, len(e.data), 0, 0, e.major, e.minor, len(e.name)+1, 0)
	b.WriteString(e.name)
	b.WriteByte(0)
	pad(&b)
	b.Write(e.data)
	pad(&b)
	_, err := w.Write(b.Bytes())
	return err
}

// pad aligns b to four bytes, as newc wants for names and data. Every entry
// starts aligned, so aligning the buffer aligns the archive.
func pad(b *bytes.Buffer) {
	for b.Len()%4 != 0 {
		b.WriteByte(0)
	}
}

// gzipCpio returns the gzip-compressed cpio archive of entries, without a
// name or timestamp in the gzip header.
func gzipCpio(entries []cpioEntry) ([]byte, error) {
	var out bytes.Buffer
	zw, err := gzip.NewWriterLevel(&out, gzip.BestSpeed)
	if err != nil {
		return nil, err
	}
	if err := writeCpio(zw, entries); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}
