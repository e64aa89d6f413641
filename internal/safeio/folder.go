package safeio

import (
	"errors"
	"io/fs"
	"path/filepath"
	"slices"
	"strings"
)

// Folder is a folder opened for a walk: it lists its entries, opens them
// and stats paths below it relative to itself. Where the system allows
// it (Linux) this holds a bare descriptor: a listing is a few getdents
// calls, and opening or statting an entry walks the path below the
// folder only, not the folder's own path (and its symlinks) again, which
// matters when an index walks or checks a tree of thousands of module
// files. An entry opened by name is never followed through a symlink.
type Folder struct {
	path string
	sys  sysFolder
}

// FolderEntry is one entry of a folder listing.
type FolderEntry struct {
	Name string
	// Type is the entry's type bits: 0 for a regular file, fs.ModeDir,
	// fs.ModeSymlink and so on, as the listing shows it (without
	// following symlinks).
	Type fs.FileMode
}

// ErrTooManyEntries reports a folder listing over its cap.
var ErrTooManyEntries = errors.New("too many entries")

// OpenFolder opens a folder for listing. Symlinks in path are followed;
// like Open it never blocks on a FIFO or device put where the folder was
// expected.
func OpenFolder(path string) (*Folder, error) { return openFolder(path, true) }

// OpenSubfolder is OpenFolder for a folder a listing has shown: its last
// component must not be a symlink.
func OpenSubfolder(path string) (*Folder, error) { return openFolder(path, false) }

// Path returns the path the folder was opened by.
func (d *Folder) Path() string { return d.path }

// Info returns the identity of the open folder.
func (d *Folder) Info() (Info, error) { return d.info() }

// List returns the folder's entries, sorted by name, without "." and
// "..". A folder holding more than max entries is an *Error wrapping
// ErrTooManyEntries, found without listing the rest. A Folder is listed
// once: a second List continues where the first stopped.
func (d *Folder) List(max int) ([]FolderEntry, error) {
	ents, err := d.list(max)
	if err != nil {
		return nil, err
	}
	slices.SortFunc(ents, func(a, b FolderEntry) int { return strings.Compare(a.Name, b.Name) })
	return ents, nil
}

// OpenListed opens the entry name, which a listing showed as a regular
// file, like OpenListed opens a path: without following a symlink, and
// checked on the descriptor to be a regular file of at most max bytes.
func (d *Folder) OpenListed(name string, max int64) (*File, error) {
	if name == "" || name == "." || name == ".." || strings.ContainsRune(name, '/') {
		return nil, &Error{Path: filepath.Join(d.path, name), Msg: "is not a folder entry", Err: fs.ErrInvalid}
	}
	f, err := d.openAt(name)
	if err != nil {
		return nil, err
	}
	if err := checkMode(f.path, f.info.Mode, f.info.Size, max); err != nil {
		f.Close()
		return nil, err
	}
	f.size = f.info.Size
	return f, nil
}

// Stat returns the identity of rel, a path below the folder, after
// symlinks: the same as Stat(filepath.Join(folder, rel)).
func (d *Folder) Stat(rel string) (Info, error) { return d.stat(rel) }

// Close releases the folder.
func (d *Folder) Close() error { return d.close() }

func tooMany(path string, max int) error {
	return &Error{Path: path, Msg: "holds more than " + itoa(max) + " entries", Err: ErrTooManyEntries}
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var b [20]byte
	i := len(b)
	for ; n > 0; n /= 10 {
		i--
		b[i] = byte('0' + n%10)
	}
	return string(b[i:])
}
