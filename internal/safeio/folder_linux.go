//go:build linux

package safeio

import (
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"unsafe"

	"golang.org/x/sys/unix"
)

type sysFolder struct{ fd int }

// openFolder opens path with O_DIRECTORY (ENOTDIR for anything else,
// before a FIFO or device open could wait) and, unless follow is set,
// O_NOFOLLOW.
func openFolder(path string, follow bool) (*Folder, error) {
	flags := unix.O_RDONLY | unix.O_DIRECTORY | unix.O_NONBLOCK | unix.O_CLOEXEC
	if !follow {
		flags |= unix.O_NOFOLLOW
	}
	var fd int
	err := retry(func() (err error) {
		fd, err = unix.Open(path, flags, 0)
		return err
	})
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: path, Err: err}
	}
	return &Folder{path: path, sys: sysFolder{fd: fd}}, nil
}

func (d *Folder) info() (Info, error) {
	var st unix.Stat_t
	if err := unix.Fstat(d.sys.fd, &st); err != nil {
		return Info{}, &os.PathError{Op: "stat", Path: d.path, Err: err}
	}
	return infoOf(&st), nil
}

// stat is fstatat(2) relative to the folder, following symlinks.
func (d *Folder) stat(rel string) (Info, error) {
	var st unix.Stat_t
	if err := retry(func() error { return unix.Fstatat(d.sys.fd, rel, &st, 0) }); err != nil {
		return Info{}, &os.PathError{Op: "stat", Path: filepath.Join(d.path, rel), Err: err}
	}
	return infoOf(&st), nil
}

// direntBufs recycles the getdents buffers.
var direntBufs = sync.Pool{New: func() any { b := make([]byte, 32<<10); return &b }}

func (d *Folder) list(max int) ([]FolderEntry, error) {
	bp := direntBufs.Get().(*[]byte)
	defer direntBufs.Put(bp)
	buf := *bp
	var out []FolderEntry
	for {
		var n int
		err := retry(func() (err error) {
			n, err = unix.Getdents(d.sys.fd, buf)
			return err
		})
		if err != nil {
			return nil, &os.PathError{Op: "readdirent", Path: d.path, Err: err}
		}
		if n <= 0 {
			return out, nil
		}
		// struct linux_dirent64: d_ino u64, d_off s64, d_reclen u16,
		// d_type u8, d_name (NUL-terminated).
		for b := buf[:n]; len(b) > 0; {
			if len(b) < 19 {
				return nil, &os.PathError{Op: "readdirent", Path: d.path, Err: unix.EIO}
			}
			reclen := int(*(*uint16)(unsafe.Pointer(&b[16])))
			if reclen < 19 || reclen > len(b) {
				return nil, &os.PathError{Op: "readdirent", Path: d.path, Err: unix.EIO}
			}
			typ, name := b[18], b[19:reclen]
			b = b[reclen:]
			for i, c := range name {
				if c == 0 {
					name = name[:i]
					break
				}
			}
			if len(name) == 0 || string(name) == "." || string(name) == ".." {
				continue
			}
			if len(out) == max {
				return nil, tooMany(d.path, max)
			}
			e := FolderEntry{Name: string(name)}
			if e.Type, err = d.entryType(e.Name, typ); err != nil {
				return nil, err
			}
			out = append(out, e)
		}
	}
}

// entryType maps a dirent type to type bits; a file system that leaves
// it unknown gets an lstat of the entry.
func (d *Folder) entryType(name string, typ byte) (fs.FileMode, error) {
	switch typ {
	case unix.DT_REG:
		return 0, nil
	case unix.DT_DIR:
		return fs.ModeDir, nil
	case unix.DT_LNK:
		return fs.ModeSymlink, nil
	case unix.DT_FIFO:
		return fs.ModeNamedPipe, nil
	case unix.DT_SOCK:
		return fs.ModeSocket, nil
	case unix.DT_CHR:
		return fs.ModeDevice | fs.ModeCharDevice, nil
	case unix.DT_BLK:
		return fs.ModeDevice, nil
	}
	var st unix.Stat_t
	if err := unix.Fstatat(d.sys.fd, name, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return 0, &os.PathError{Op: "lstat", Path: filepath.Join(d.path, name), Err: err}
	}
	return modeOf(st.Mode).Type(), nil
}

// openAt opens a folder entry with openFlags, without following a
// symlink, and reads its identity from the descriptor.
func (d *Folder) openAt(name string) (*File, error) {
	path := filepath.Join(d.path, name)
	var fd int
	err := retry(func() (err error) {
		fd, err = unix.Openat(d.sys.fd, name, openFlags|unix.O_NOFOLLOW, 0)
		return err
	})
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: path, Err: err}
	}
	return fileOf(fd, path)
}

func (d *Folder) close() error {
	if d.sys.fd < 0 {
		return nil
	}
	err := unix.Close(d.sys.fd)
	d.sys.fd = -1
	return err
}
