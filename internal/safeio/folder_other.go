//go:build !linux

package safeio

import (
	"io"
	"os"
	"path/filepath"
)

type sysFolder struct{ f *os.File }

func openFolder(path string, follow bool) (*Folder, error) {
	if !follow {
		st, err := os.Lstat(path)
		if err != nil {
			return nil, err
		}
		if !st.IsDir() {
			return nil, &Error{Path: path, Msg: "is " + describeMode(st.Mode()) + ", want a folder"}
		}
	}
	// The open never blocks; what it opened must be a folder.
	fh, err := openNonblock(path)
	if err != nil {
		return nil, err
	}
	if st, err := fh.Stat(); err != nil || !st.IsDir() {
		fh.Close()
		if err == nil {
			err = &Error{Path: path, Msg: "is " + describeMode(st.Mode()) + ", want a folder"}
		}
		return nil, err
	}
	return &Folder{path: path, sys: sysFolder{f: fh}}, nil
}

func (d *Folder) info() (Info, error) { return Stat(d.path) }

func (d *Folder) stat(rel string) (Info, error) { return Stat(filepath.Join(d.path, rel)) }

func (d *Folder) list(max int) ([]FolderEntry, error) {
	var out []FolderEntry
	for {
		ents, err := d.sys.f.ReadDir(1024)
		for _, e := range ents {
			if len(out) == max {
				return nil, tooMany(d.path, max)
			}
			out = append(out, FolderEntry{Name: e.Name(), Type: e.Type()})
		}
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
	}
}

func (d *Folder) openAt(name string) (*File, error) {
	path := filepath.Join(d.path, name)
	st, err := os.Lstat(path)
	if err != nil {
		return nil, err
	}
	if err := checkMode(path, st.Mode(), st.Size(), 1<<62); err != nil {
		return nil, err
	}
	return openRaw(path)
}

func (d *Folder) close() error { return d.sys.f.Close() }
