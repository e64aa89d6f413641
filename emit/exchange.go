package emit

import (
	"os"
	"path/filepath"
)

// exchangeByRenames swaps two folders with three renames, for file
// systems without an atomic exchange: b is missing for a moment.
func exchangeByRenames(a, b string) error {
	side, err := os.MkdirTemp(filepath.Dir(b), "."+filepath.Base(b)+".klpc-old-")
	if err != nil {
		return err
	}
	if err := os.Remove(side); err != nil {
		return err
	}
	if err := os.Rename(b, side); err != nil {
		return err
	}
	if err := os.Rename(a, b); err != nil {
		_ = os.Rename(side, b)
		return err
	}
	return os.Rename(side, a)
}
