//go:build unix

package safeio

import (
	"io/fs"
	"os"
	"time"

	"golang.org/x/sys/unix"
)

type sysFile struct{ fd int }

// retry runs a system call again while a signal interrupts it.
func retry(call func() error) error {
	for {
		if err := call(); err != unix.EINTR {
			return err
		}
	}
}

func infoOf(st *unix.Stat_t) Info {
	return Info{
		Size:    int64(st.Size),
		Mode:    modeOf(uint32(st.Mode)),
		ModTime: time.Unix(0, int64(st.Mtim.Sec)*1e9+int64(st.Mtim.Nsec)),
		Ctime:   int64(st.Ctim.Sec)*1e9 + int64(st.Ctim.Nsec),
		Ino:     uint64(st.Ino),
		Dev:     uint64(st.Dev),
	}
}

// modeOf turns a stat mode into permission and type bits.
func modeOf(m uint32) fs.FileMode {
	mode := fs.FileMode(m & 0o777)
	switch m & unix.S_IFMT {
	case unix.S_IFDIR:
		mode |= fs.ModeDir
	case unix.S_IFIFO:
		mode |= fs.ModeNamedPipe
	case unix.S_IFSOCK:
		mode |= fs.ModeSocket
	case unix.S_IFCHR:
		mode |= fs.ModeDevice | fs.ModeCharDevice
	case unix.S_IFBLK:
		mode |= fs.ModeDevice
	case unix.S_IFLNK:
		mode |= fs.ModeSymlink
	}
	return mode
}

func statInfo(path string) (Info, error) {
	var st unix.Stat_t
	if err := retry(func() error { return unix.Stat(path, &st) }); err != nil {
		return Info{}, &os.PathError{Op: "stat", Path: path, Err: err}
	}
	return infoOf(&st), nil
}

// Stat returns the identity of path after symlinks, with one stat call
// and no allocation beyond the error.
func Stat(path string) (Info, error) { return statInfo(path) }

// openFlags open a file read-only without blocking (O_NONBLOCK, which
// regular-file reads ignore, so the descriptor needs no flag change) and
// without making a terminal the controlling one.
const openFlags = unix.O_RDONLY | unix.O_NONBLOCK | unix.O_NOCTTY | unix.O_CLOEXEC

// openRaw opens path with openFlags and reads its identity from the
// descriptor.
func openRaw(path string) (*File, error) {
	var fd int
	err := retry(func() (err error) {
		fd, err = unix.Open(path, openFlags, 0)
		return err
	})
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: path, Err: err}
	}
	return fileOf(fd, path)
}

// fileOf makes a File of a descriptor just opened for path, with the
// identity fstat gives; the descriptor is closed on an error.
func fileOf(fd int, path string) (*File, error) {
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		unix.Close(fd)
		return nil, &os.PathError{Op: "stat", Path: path, Err: err}
	}
	return &File{path: path, info: infoOf(&st), sys: sysFile{fd: fd}}, nil
}

func (f *File) pread(p []byte, off int64) (int, error) {
	var n int
	err := retry(func() (err error) {
		n, err = unix.Pread(f.sys.fd, p, off)
		return err
	})
	if err != nil {
		return n, &os.PathError{Op: "read", Path: f.path, Err: err}
	}
	return n, nil
}

func (f *File) close() error {
	if f.sys.fd < 0 {
		return nil
	}
	err := unix.Close(f.sys.fd)
	f.sys.fd = -1
	return err
}
