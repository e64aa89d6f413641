package safeio

import "path/filepath"

// StatDir stats many paths below one folder: each relative to a
// descriptor of the folder where the system allows it, so the kernel
// does not walk the folder's own path, and the symlinks in it, again for
// every file. A warm index checks thousands of module files this way.
type StatDir struct {
	path string
	fd   int // -1 where paths are joined instead
}

// OpenStatDir opens a folder for StatDir.Stat. It never blocks.
func OpenStatDir(path string) (*StatDir, error) {
	fd, err := openStatDir(path)
	if err != nil {
		return nil, err
	}
	return &StatDir{path: path, fd: fd}, nil
}

// Stat returns the identity of rel, a path below the folder, after
// symlinks: the same as Stat(filepath.Join(folder, rel)).
func (d *StatDir) Stat(rel string) (Info, error) {
	if d.fd < 0 {
		return statInfo(filepath.Join(d.path, rel))
	}
	return statAt(d.fd, d.path, rel)
}

// Close releases the folder.
func (d *StatDir) Close() error { return closeStatDir(d.fd) }
