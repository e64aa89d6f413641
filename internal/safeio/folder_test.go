package safeio_test

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/klpc/klpc/internal/safeio"
)

func TestFolderListsAndOpensRelative(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "b.ko"), []byte("module b"), 0o644)
	os.WriteFile(filepath.Join(dir, "a.ko"), []byte("module a"), 0o644)
	os.Mkdir(filepath.Join(dir, "sub"), 0o755)
	os.Symlink("a.ko", filepath.Join(dir, "link.ko"))
	os.Symlink("sub", filepath.Join(dir, "sublink"))
	if err := syscall.Mkfifo(filepath.Join(dir, "fifo.ko"), 0o644); err != nil {
		t.Fatal(err)
	}
	d, err := safeio.OpenFolder(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	info, err := d.Info()
	if err != nil || !info.Mode.IsDir() {
		t.Fatalf("Info: %+v, %v", info, err)
	}
	if st, _ := safeio.Stat(dir); st.Ino != info.Ino || !st.ModTime.Equal(info.ModTime) || st.Ctime != info.Ctime {
		t.Errorf("Info %+v, Stat %+v", info, st)
	}
	ents, err := d.List(100)
	if err != nil {
		t.Fatal(err)
	}
	want := []safeio.FolderEntry{{"a.ko", 0}, {"b.ko", 0}, {"fifo.ko", fs.ModeNamedPipe}, {"link.ko", fs.ModeSymlink}, {"sub", fs.ModeDir}, {"sublink", fs.ModeSymlink}}
	if !slices.Equal(ents, want) {
		t.Errorf("List = %v, want %v", ents, want)
	}
	if d2, err := safeio.OpenFolder(dir); err != nil {
		t.Error(err)
	} else {
		if _, err := d2.List(5); !errors.Is(err, safeio.ErrTooManyEntries) {
			t.Errorf("List(5) of 6 entries: %v", err)
		}
		d2.Close()
	}

	f, err := d.OpenListed("b.ko", 100)
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 8)
	if n, _ := f.ReadAt(buf, 0); string(buf[:n]) != "module b" || f.Name() != filepath.Join(dir, "b.ko") {
		t.Errorf("read %q from %s", buf[:n], f.Name())
	}
	f.Close()
	if _, err := d.OpenListed("b.ko", 4); !errors.Is(err, safeio.ErrTooLarge) {
		t.Errorf("over the cap: %v", err)
	}
	// A symlink is never followed, whatever it points to, and a FIFO is
	// refused without waiting for a writer.
	if _, err := d.OpenListed("link.ko", 100); err == nil {
		t.Error("a symlink was opened")
	}
	done := make(chan error, 1)
	go func() { _, err := d.OpenListed("fifo.ko", 100); done <- err }()
	select {
	case err := <-done:
		if !errors.Is(err, safeio.ErrNotRegular) {
			t.Errorf("FIFO: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("opening a FIFO blocked")
	}
	for _, name := range []string{"", ".", "..", "sub/x", "../b.ko"} {
		if _, err := d.OpenListed(name, 100); err == nil {
			t.Errorf("OpenListed(%q) succeeded", name)
		}
	}
	if s, err := safeio.OpenSubfolder(filepath.Join(dir, "sub")); err != nil {
		t.Error(err)
	} else {
		s.Close()
	}
	if _, err := safeio.OpenSubfolder(filepath.Join(dir, "sublink")); err == nil {
		t.Error("OpenSubfolder followed a symlink")
	}
	if s, err := safeio.OpenFolder(filepath.Join(dir, "sublink")); err != nil {
		t.Errorf("OpenFolder of a symlink to a folder: %v", err)
	} else {
		s.Close()
	}
	if _, err := safeio.OpenFolder(filepath.Join(dir, "a.ko")); err == nil {
		t.Error("OpenFolder opened a file")
	}
}
