package safeio

import (
	"os"
	"path/filepath"
	"syscall"
	"unsafe"
)

func openStatDir(path string) (int, error) {
	fd, err := syscall.Open(path, syscall.O_RDONLY|syscall.O_DIRECTORY|syscall.O_NONBLOCK|syscall.O_CLOEXEC, 0)
	if err != nil {
		return -1, &os.PathError{Op: "open", Path: path, Err: err}
	}
	return fd, nil
}

func closeStatDir(fd int) error {
	if fd < 0 {
		return nil
	}
	return syscall.Close(fd)
}

// statAt is fstatat(2) following symlinks, which the syscall package does
// not export.
func statAt(fd int, dir, rel string) (Info, error) {
	p, err := syscall.BytePtrFromString(rel)
	if err != nil {
		return Info{}, &os.PathError{Op: "stat", Path: filepath.Join(dir, rel), Err: err}
	}
	var st syscall.Stat_t
	for {
		_, _, e := syscall.Syscall6(syscall.SYS_NEWFSTATAT, uintptr(fd), uintptr(unsafe.Pointer(p)), uintptr(unsafe.Pointer(&st)), 0, 0, 0)
		if e == syscall.EINTR {
			continue
		}
		if e != 0 {
			return Info{}, &os.PathError{Op: "stat", Path: filepath.Join(dir, rel), Err: e}
		}
		return infoOf(&st), nil
	}
}
