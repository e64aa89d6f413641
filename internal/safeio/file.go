package safeio

import (
	"io"
	"io/fs"
	"time"
)

// File is a regular file opened for positional reads (ReadAt) only. On
// Unix it holds a bare descriptor: no runtime poller registration and no
// descriptor flag changes, so opening, reading and closing a file costs
// the open, fstat, pread and close system calls and nothing more, which
// matters when an index reads thousands of small modules.
type File struct {
	path string
	size int64
	info Info
	sys  sysFile
}

// Info identifies a version of a file without reading it: what the index
// cache compares to decide that a file has not changed.
type Info struct {
	Size     int64
	Mode     fs.FileMode
	ModTime  time.Time
	Ctime    int64  // change time in ns (0 where the system has none)
	Ino, Dev uint64 // 0 where the system has no inode numbers
}

// OpenFile opens path like Open: after symlinks it must be a regular file
// of at most max bytes, checked before the open and again on the open
// descriptor, and the open never blocks.
func OpenFile(path string, max int64) (*File, error) {
	st, err := statInfo(path)
	if err != nil {
		return nil, err
	}
	if err := checkMode(path, st.Mode, st.Size, max); err != nil {
		return nil, err
	}
	return OpenListed(path, max)
}

// OpenListed is OpenFile for a path that a folder listing has just shown
// to be a regular file (not a symlink): it skips the check before the
// open. The open still never blocks, and the descriptor is checked to be
// a regular file of at most max bytes, so a FIFO, device or folder swapped
// in since the listing is refused without waiting and without reading.
func OpenListed(path string, max int64) (*File, error) {
	f, err := openRaw(path)
	if err != nil {
		return nil, err
	}
	if err := checkMode(path, f.info.Mode, f.info.Size, max); err != nil {
		f.Close()
		return nil, err
	}
	f.size = f.info.Size
	return f, nil
}

// Name returns the path the file was opened by.
func (f *File) Name() string { return f.path }

// Size returns the file's size when it was opened; reads never go past it.
func (f *File) Size() int64 { return f.size }

// Info returns the identity of the open file.
func (f *File) Info() Info { return f.info }

// ReadAt reads len(p) bytes at off. Reads past the size seen at open time
// return io.EOF, so a file that grows meanwhile cannot make a caller read
// more than the cap it was opened with.
func (f *File) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, &Error{Path: f.path, Msg: "negative read offset", Err: io.ErrUnexpectedEOF}
	}
	if off >= f.size {
		return 0, io.EOF
	}
	want := p
	if int64(len(want)) > f.size-off {
		want = want[:f.size-off]
	}
	n := 0
	for n < len(want) {
		m, err := f.pread(want[n:], off+int64(n))
		if m <= 0 && err == nil {
			err = io.EOF // shrank since it was opened
		}
		n += max(m, 0)
		if err != nil {
			return n, err
		}
	}
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

// Close closes the file.
func (f *File) Close() error { return f.close() }

func checkMode(path string, mode fs.FileMode, size, max int64) error {
	if !mode.IsRegular() {
		return &Error{Path: path, Msg: "is " + describeMode(mode) + ", want a regular file", Err: ErrNotRegular}
	}
	if size > max {
		return &Error{Path: path, Msg: "is " + Size(size) + ", more than the " + Size(max) + " allowed for this kind of file", Err: ErrTooLarge}
	}
	return nil
}
