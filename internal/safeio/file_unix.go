//go:build unix

package safeio

import (
	"io/fs"
	"os"
	"syscall"
	"time"
)

type sysFile struct{ fd int }

func infoOf(st *syscall.Stat_t) Info {
	mt, ct := statTimes(st)
	return Info{Size: st.Size, Mode: modeOf(uint32(st.Mode)), ModTime: time.Unix(0, mt), Ctime: ct, Ino: uint64(st.Ino), Dev: uint64(st.Dev)}
}

// modeOf turns a stat mode into permission and type bits.
func modeOf(m uint32) fs.FileMode {
	mode := fs.FileMode(m & 0o777)
	switch m & syscall.S_IFMT {
	case syscall.S_IFDIR:
		mode |= fs.ModeDir
	case syscall.S_IFIFO:
		mode |= fs.ModeNamedPipe
	case syscall.S_IFSOCK:
		mode |= fs.ModeSocket
	case syscall.S_IFCHR:
		mode |= fs.ModeDevice | fs.ModeCharDevice
	case syscall.S_IFBLK:
		mode |= fs.ModeDevice
	case syscall.S_IFLNK:
		mode |= fs.ModeSymlink
	}
	return mode
}

func statInfo(path string) (Info, error) {
	var st syscall.Stat_t
	for {
		err := syscall.Stat(path, &st)
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return Info{}, &os.PathError{Op: "stat", Path: path, Err: err}
		}
		return infoOf(&st), nil
	}
}

// Stat returns the identity of path after symlinks, with one stat call
// and no allocation beyond the error.
func Stat(path string) (Info, error) { return statInfo(path) }

// openRaw opens path read-only without blocking (O_NONBLOCK, which
// regular-file reads ignore, so the descriptor needs no flag change) and
// reads its identity from the descriptor.
func openRaw(path string) (*File, error) {
	var fd int
	var err error
	for {
		fd, err = syscall.Open(path, syscall.O_RDONLY|syscall.O_NONBLOCK|syscall.O_NOCTTY|syscall.O_CLOEXEC, 0)
		if err != syscall.EINTR {
			break
		}
	}
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: path, Err: err}
	}
	var st syscall.Stat_t
	if err := syscall.Fstat(fd, &st); err != nil {
		syscall.Close(fd)
		return nil, &os.PathError{Op: "stat", Path: path, Err: err}
	}
	return &File{path: path, info: infoOf(&st), sys: sysFile{fd: fd}}, nil
}

func (f *File) pread(p []byte, off int64) (int, error) {
	for {
		n, err := syscall.Pread(f.sys.fd, p, off)
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return n, &os.PathError{Op: "read", Path: f.path, Err: err}
		}
		return n, nil
	}
}

func (f *File) close() error {
	if f.sys.fd < 0 {
		return nil
	}
	err := syscall.Close(f.sys.fd)
	f.sys.fd = -1
	return err
}
