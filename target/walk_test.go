package target

import (
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// TestWalkReadMatchesListThenLoad checks that reading a modules folder
// while walking it finds what listing it first and then loading the files
// finds: the same files in the same order, each with the identity a stat
// gives, the same folders, inputs (hashes included), modules and damaged
// modules. It runs on a tree built from the fixtures, with subfolders, a
// symlinked module and a damaged one, and on Debian's whole module tree
// when the cache holds it.
func TestWalkReadMatchesListThenLoad(t *testing.T) {
	fixture := copyFixtureModules(t)
	for _, sub := range []string{"kernel/net", "kernel/drivers/virtio", "extra"} {
		os.MkdirAll(filepath.Join(fixture, sub), 0o755)
	}
	os.Rename(filepath.Join(fixture, "tcp_scalable.ko"), filepath.Join(fixture, "kernel/net/tcp_scalable.ko"))
	os.Rename(filepath.Join(fixture, "virtio_pci.ko.xz"), filepath.Join(fixture, "kernel/drivers/virtio/virtio_pci.ko.xz"))
	os.Mkdir(filepath.Join(fixture, "store"), 0o755)
	os.Rename(filepath.Join(fixture, "ttpci_eeprom.ko"), filepath.Join(fixture, "store", "ttpci_eeprom.bin"))
	os.Symlink("../store/ttpci_eeprom.bin", filepath.Join(fixture, "extra", "ttpci_eeprom.ko"))
	os.WriteFile(filepath.Join(fixture, "extra", "broken.ko"), []byte("\x7fELF but not really"), 0o644)
	trees := []string{fixture}
	if !testing.Short() {
		if dirs, _ := filepath.Glob(filepath.Join("..", ".cache", "kernels", "6.1.0-56-amd64", "lib", "modules", "*")); len(dirs) > 0 {
			trees = append(trees, dirs[0])
		}
	}
	for _, root := range trees {
		spec, err := Spec{Modules: root}.absolute()
		if err != nil {
			t.Fatal(err)
		}
		b, files, ids, dirs, err := spec.loadWalking(nil, true)
		if err != nil {
			t.Fatal(err)
		}
		wantFiles, wantDirs, err := spec.listFiles()
		if err != nil {
			t.Fatal(err)
		}
		want, err := load(wantFiles, spec.Modules, nil, true)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(files, wantFiles) {
			t.Fatalf("%s: walked %d files, listed %d", root, len(files), len(wantFiles))
		}
		// Both share the walk; filepath.WalkDir is the independent view.
		var paths, folders []string
		filepath.WalkDir(spec.Modules, func(p string, d fs.DirEntry, err error) error {
			if d.IsDir() {
				folders = append(folders, p)
			} else if isModuleFile(d.Name()) {
				paths = append(paths, p)
			}
			return err
		})
		slices.Sort(paths)
		slices.Sort(folders)
		var got []string
		for _, f := range files {
			got = append(got, f.path)
		}
		var gotFolders []string
		for _, f := range dirs.paths {
			gotFolders = append(gotFolders, f.path)
		}
		if !slices.Equal(got, paths) || !slices.Equal(gotFolders, folders) {
			t.Errorf("%s: walked %d files in %d folders, filepath.WalkDir %d in %d", root, len(got), len(gotFolders), len(paths), len(folders))
		}
		if st := statAll(files, spec.Modules); !slices.Equal(ids, st) {
			t.Errorf("%s: identities as opened differ from a stat of each file", root)
		}
		if !slices.Equal(dirs.paths, wantDirs.paths) || !slices.Equal(dirs.stats, wantDirs.stats) {
			t.Errorf("%s: folders %v, want %v", root, dirs.paths, wantDirs.paths)
		}
		if !reflect.DeepEqual(b.Inputs, want.Inputs) {
			t.Errorf("%s: inputs differ", root)
		}
		if !slices.Equal(b.ModuleNames(), want.ModuleNames()) {
			t.Fatalf("%s: modules %v, want %v", root, b.ModuleNames(), want.ModuleNames())
		}
		for _, n := range b.ModuleNames() {
			if !sameObject(b.Modules[n], want.Modules[n]) {
				t.Errorf("%s: module %s differs", root, n)
			}
		}
		if len(b.Damaged) != len(want.Damaged) {
			t.Errorf("%s: damaged %v, want %v", root, sortedKeys(b.Damaged), sortedKeys(want.Damaged))
		}
		for n, err := range want.Damaged {
			if got := b.Damaged[n]; got == nil || got.Error() != err.Error() {
				t.Errorf("%s: damaged %s: %v, want %v", root, n, got, err)
			}
		}
		if root == fixture && (b.Damaged["broken"] == nil || b.Modules["ttpci_eeprom"] == nil) {
			t.Errorf("fixture tree: damaged %v, modules %v", sortedKeys(b.Damaged), b.ModuleNames())
		}
	}
}

// TestWalkErrorIsTheFirstPath checks that when several folders of a tree
// fail, the walk reports the first by path, however its workers met them.
func TestWalkErrorIsTheFirstPath(t *testing.T) {
	dir := t.TempDir()
	for _, top := range []string{"b", "a", "c"} {
		p := filepath.Join(dir, top)
		for range maxModuleTreeDepth + 1 {
			p = filepath.Join(p, "d")
		}
		os.MkdirAll(p, 0o755)
	}
	os.WriteFile(filepath.Join(dir, "x.ko"), realModule(t), 0o644)
	for range 20 {
		_, err := Load(Spec{Modules: dir})
		if err == nil || !strings.HasPrefix(err.Error(), filepath.Join(dir, "a")+"/") {
			t.Fatalf("error %v, want one about the folder under a", err)
		}
	}
}

// TestModuleTreeTooManyEntries lowers the walk's bound on entries: a tree
// over it fails with the same error whether one folder or the sum of
// several passes the bound, and whether the walk reads or only lists.
func TestModuleTreeTooManyEntries(t *testing.T) {
	old := maxModuleTreeEntries
	maxModuleTreeEntries = 5
	t.Cleanup(func() { maxModuleTreeEntries = old })
	mod := realModule(t)
	wide := t.TempDir() // six entries in one folder
	for _, n := range []string{"a.ko", "b.ko", "c.ko", "d.ko", "e.ko", "f.ko"} {
		os.WriteFile(filepath.Join(wide, n), mod, 0o644)
	}
	deep := t.TempDir() // three folders of two entries each, plus the folders
	for _, d := range []string{"x", "y", "z"} {
		os.Mkdir(filepath.Join(deep, d), 0o755)
		os.WriteFile(filepath.Join(deep, d, d+"1.ko"), mod, 0o644)
		os.WriteFile(filepath.Join(deep, d, d+"2.ko"), mod, 0o644)
	}
	for _, dir := range []string{wide, deep} {
		want := dir + ": the modules folder holds more than 5 files and folders"
		if _, err := Load(Spec{Modules: dir}); err == nil || err.Error() != want {
			t.Errorf("read: %v, want %s", err, want)
		}
		if _, err := findModuleFiles(dir); err == nil || err.Error() != want {
			t.Errorf("list: %v, want %s", err, want)
		}
	}
	// At the bound, the tree is read.
	maxModuleTreeEntries = 6
	if _, err := findModuleFiles(wide); err != nil {
		t.Errorf("six entries with a bound of six: %v", err)
	}
}

// TestDiscoverTooManyEntries lowers Discover's bound on a folder's entries.
func TestDiscoverTooManyEntries(t *testing.T) {
	old := maxDiscoverEntries
	maxDiscoverEntries = 3
	t.Cleanup(func() { maxDiscoverEntries = old })
	dir := t.TempDir()
	for _, n := range []string{"a", "b", "c", "kallsyms"} {
		os.WriteFile(filepath.Join(dir, n), nil, 0o644)
	}
	want := dir + ": holds more than 3 entries"
	if _, err := Discover(dir); err == nil || err.Error() != want {
		t.Errorf("Discover: %v, want %s", err, want)
	}
	os.Remove(filepath.Join(dir, "a"))
	if s, err := Discover(dir); err != nil || s.Kallsyms == "" {
		t.Errorf("three entries: %+v, %v", s, err)
	}
}
