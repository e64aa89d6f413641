//go:build !linux

package target

import (
	"os"
)

// mapFile reads a whole open file; see the Linux version.
func mapFile(fh *os.File, size int64) ([]byte, func(), error) {
	return readWhole(fh, size)
}
