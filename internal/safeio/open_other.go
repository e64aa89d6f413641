//go:build !unix

package safeio

import "os"

// openNonblock opens path read-only; systems without FIFOs in the Unix
// sense rely on the type check done before the open.
func openNonblock(path string) (*os.File, error) { return os.Open(path) }
