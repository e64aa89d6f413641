//go:build !linux

package target

import (
	"io/fs"
	"os"
)

// statIdentity returns what identifies a file version; without inode and
// change time the memo relies on size and modification time only.
func statIdentity(st fs.FileInfo) fileStat {
	return fileStat{size: st.Size(), mtime: st.ModTime().UnixNano()}
}

// mapFile reads a whole open file; see the Linux version.
func mapFile(fh *os.File, size int64) ([]byte, func(), error) {
	return readWhole(fh, size)
}
