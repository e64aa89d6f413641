//go:build linux

package target

import (
	"io/fs"
	"os"
	"syscall"
)

// statIdentity returns what identifies a file version: size, times, inode.
func statIdentity(st fs.FileInfo) fileStat {
	id := fileStat{size: st.Size(), mtime: st.ModTime().UnixNano()}
	if sys, ok := st.Sys().(*syscall.Stat_t); ok {
		id.ctime = sys.Ctim.Sec*1e9 + sys.Ctim.Nsec
		id.ino, id.dev = sys.Ino, uint64(sys.Dev)
	}
	return id
}

// mapFile maps size bytes of an open regular file read-only. Indexing
// hashes every byte of every module, and mapping with MAP_POPULATE avoids
// copying ~400 MB through read(2) for a full module tree. The caller must
// not keep slices of the mapping after calling release.
func mapFile(fh *os.File, size int64) (data []byte, release func(), err error) {
	if size == 0 || size != int64(int(size)) {
		return readWhole(fh, size)
	}
	data, err = syscall.Mmap(int(fh.Fd()), 0, int(size), syscall.PROT_READ, syscall.MAP_PRIVATE|syscall.MAP_POPULATE)
	if err != nil {
		return readWhole(fh, size)
	}
	return data, func() { syscall.Munmap(data) }, nil
}
