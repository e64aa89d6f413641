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

// mapFile reads a whole file; see the Linux version.
func mapFile(path string) ([]byte, func(), error) {
	data, err := os.ReadFile(path)
	return data, func() {}, err
}
