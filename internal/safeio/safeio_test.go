package safeio_test

import (
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/klauspost/compress/zstd"
	"github.com/ulikunitz/xz"

	"github.com/klpc/klpc/internal/safeio"
)

// within fails the test instead of hanging when fn blocks, which is what
// opening a FIFO for reading does without O_NONBLOCK.
func within(t *testing.T, d time.Duration, fn func()) {
	t.Helper()
	done := make(chan struct{})
	go func() { defer close(done); fn() }()
	select {
	case <-done:
	case <-time.After(d):
		t.Fatalf("still blocked after %v", d)
	}
}

func TestOpenRefusesWhatIsNotARegularFile(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(dir, "sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	link := func(name, to string) string {
		p := filepath.Join(dir, name)
		if err := os.Symlink(to, p); err != nil {
			t.Fatal(err)
		}
		return p
	}
	for _, tc := range []struct{ path, want string }{
		{fifo, "is a named pipe (FIFO), want a regular file"},
		{link("to-fifo", fifo), "is a named pipe (FIFO), want a regular file"},
		{"/dev/zero", "is a character device, want a regular file"},
		{link("to-zero", "/dev/zero"), "is a character device, want a regular file"},
		{"/dev/null", "is a character device, want a regular file"},
		{sock, "is a socket, want a regular file"},
		{dir, "is a folder, want a regular file"},
	} {
		within(t, 5*time.Second, func() {
			fh, _, err := safeio.Open(tc.path, 1<<20)
			if err == nil {
				fh.Close()
				t.Errorf("%s: opened", tc.path)
				return
			}
			if !errors.Is(err, safeio.ErrNotRegular) || err.Error() != tc.path+": "+tc.want {
				t.Errorf("%s: %v", tc.path, err)
			}
			if _, err := safeio.ReadFile(tc.path, 1<<20); !errors.Is(err, safeio.ErrNotRegular) {
				t.Errorf("ReadFile %s: %v", tc.path, err)
			}
		})
	}
}

func TestOpenFollowsSymlinksToRegularFiles(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "data")
	os.WriteFile(p, []byte("hello"), 0o644)
	l := filepath.Join(dir, "link")
	os.Symlink(p, l)
	data, err := safeio.ReadFile(l, 5)
	if err != nil || string(data) != "hello" {
		t.Fatalf("%q %v", data, err)
	}
	if _, err := safeio.ReadFile(l, 4); !errors.Is(err, safeio.ErrTooLarge) || !strings.HasPrefix(err.Error(), l+": is 5 bytes, more than the 4 bytes allowed") {
		t.Errorf("cap: %v", err)
	}
	if _, err := safeio.ReadFile(filepath.Join(dir, "missing"), 5); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing: %v", err)
	}
}

// endless is an infinite stream, like /dev/zero read through a pipe.
type endless struct{}

func (endless) Read(p []byte) (int, error) { clear(p); return len(p), nil }

func TestReadAllStopsAtTheCap(t *testing.T) {
	for _, n := range []int64{0, 1, 511, 512, 513, 100000} {
		data, err := safeio.ReadAll(io.LimitReader(endless{}, n), n)
		if err != nil || int64(len(data)) != n {
			t.Errorf("exactly %d: len %d, %v", n, len(data), err)
		}
		if _, err := safeio.ReadAll(io.LimitReader(endless{}, n+1), n); !errors.Is(err, safeio.ErrTooLarge) {
			t.Errorf("%d+1: %v", n, err)
		}
	}
	var before, after runtimeMem
	before.read()
	if _, err := safeio.ReadAll(endless{}, 8<<20); !errors.Is(err, safeio.ErrTooLarge) {
		t.Fatal(err)
	}
	after.read()
	if grew := after.total - before.total; grew > 40<<20 {
		t.Errorf("reading with an 8 MiB cap allocated %d bytes", grew)
	}
}

// bombs returns n zero bytes compressed with each format klpc reads.
func bombs(t *testing.T, n int) map[string][]byte {
	t.Helper()
	zeros := make([]byte, n)
	out := map[string][]byte{}
	var g bytes.Buffer
	gw, _ := gzip.NewWriterLevel(&g, gzip.BestCompression)
	gw.Write(zeros)
	gw.Close()
	out["gzip"] = g.Bytes()
	var x bytes.Buffer
	xw, err := xz.NewWriter(&x)
	if err != nil {
		t.Fatal(err)
	}
	xw.Write(zeros)
	xw.Close()
	out["xz"] = x.Bytes()
	zw, err := zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedBestCompression))
	if err != nil {
		t.Fatal(err)
	}
	out["zstd"] = zw.EncodeAll(zeros, nil)
	return out
}

func decoder(t *testing.T, format string, data []byte) io.Reader {
	t.Helper()
	var r io.Reader
	var err error
	switch format {
	case "gzip":
		r, err = gzip.NewReader(bytes.NewReader(data))
	case "xz":
		r, err = xz.NewReader(bytes.NewReader(data))
	case "zstd":
		var d *zstd.Decoder
		d, err = zstd.NewReader(bytes.NewReader(data), zstd.WithDecoderConcurrency(1))
		t.Cleanup(d.Close)
		r = d
	}
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestBudgetPerFileCap(t *testing.T) {
	for format, bomb := range bombs(t, 16<<20) {
		if len(bomb) > 64<<10 {
			t.Fatalf("%s bomb is %d bytes", format, len(bomb))
		}
		b := safeio.NewBudget(1 << 30)
		_, err := safeio.ReadAll(b.Reader("x.ko."+format, decoder(t, format, bomb), 1<<20), 2<<20)
		if !errors.Is(err, safeio.ErrTooLarge) || err.Error() != "x.ko."+format+": decompresses to more than the 1 MiB allowed for one file" {
			t.Errorf("%s: %v", format, err)
		}
		if b.Used() > 1<<20 {
			t.Errorf("%s: used %d", format, b.Used())
		}
	}
}

func TestBudgetIsSharedByEveryFile(t *testing.T) {
	// Four files of 3 MiB each, every one under the 4 MiB per-file cap;
	// together they exceed the 8 MiB budget, so the third fails, and so
	// does the fourth.
	for format, bomb := range bombs(t, 3<<20) {
		b := safeio.NewBudget(8 << 20)
		var errs []error
		for i := range 4 {
			name := "m" + string(rune('0'+i)) + ".ko"
			data, err := safeio.ReadAll(b.Reader(name, decoder(t, format, bomb), 4<<20), 4<<20)
			if err == nil && len(data) != 3<<20 {
				t.Fatalf("%s: %d bytes", format, len(data))
			}
			errs = append(errs, err)
		}
		if errs[0] != nil || errs[1] != nil {
			t.Errorf("%s: first files failed: %v", format, errs)
		}
		for _, err := range errs[2:] {
			if !errors.Is(err, safeio.ErrBudget) || !strings.Contains(err.Error(), ": decompressing it would exceed the 8 MiB decompression budget") {
				t.Errorf("%s: %v", format, err)
			}
		}
		// Each reader overruns by at most one read before it stops.
		if b.Used() > 8<<20+2*(1<<20) {
			t.Errorf("%s: used %d of 8 MiB", format, b.Used())
		}
	}
}

func TestExcerpt(t *testing.T) {
	for in, want := range map[string]string{
		"":                           `""`,
		"abc":                        `"abc"`,
		"a\x00b\x1b[2J\r\n":          `"a\x00b\x1b[2J\r\n"`,
		"\xff\xfe":                   `"\xff\xfe"`,
		"say \"hi\" it's":            `"say \"hi\" it's"`,
		"\u202eevil":                 `"\u202eevil"`,
		"ünïcode":                    `"ünïcode"`,
		strings.Repeat("a", 600):     `"` + strings.Repeat("a", 47) + `"... (600 bytes)`,
		strings.Repeat("\x01", 1000): `"` + strings.Repeat(`\x01`, 12) + `"... (1000 bytes)`,
	} {
		if got := safeio.Excerpt(in); got != want {
			t.Errorf("Excerpt(%q) = %s, want %s", in, got, want)
		}
	}
	// Whatever the input, the excerpt is short and has no control bytes.
	for _, in := range []string{strings.Repeat("\U0010ffff", 100), strings.Repeat("\x7f", 100), strings.Repeat("\u2028", 50)} {
		got := safeio.Excerpt(in)
		if len(got) > 80 || strings.ContainsFunc(got, func(r rune) bool { return r < 0x20 || r == 0x7f || r == 0x2028 }) {
			t.Errorf("Excerpt(%q) = %s", in, got)
		}
	}
}

func TestSize(t *testing.T) {
	for n, want := range map[int64]string{0: "0 bytes", 1000: "1000 bytes", 4 << 30: "4 GiB", 512 << 20: "512 MiB", 3 << 10: "3 KiB", 1<<20 + 1: "1048577 bytes"} {
		if got := safeio.Size(n); got != want {
			t.Errorf("Size(%d) = %s, want %s", n, got, want)
		}
	}
}

type runtimeMem struct{ total uint64 }

func (m *runtimeMem) read() {
	var s runtime.MemStats
	runtime.ReadMemStats(&s)
	m.total = s.TotalAlloc
}

// FuzzExcerpt checks that any input gives a short, printable excerpt.
func FuzzExcerpt(f *testing.F) {
	f.Add("root:$6$salt$hash:19000:0:99999:7:::")
	f.Add("\x1b]0;title\x07\u202e\xff")
	f.Fuzz(func(t *testing.T, s string) {
		got := safeio.Excerpt(s)
		if len(got) > 100 || !utf8.ValidString(got) {
			t.Fatalf("Excerpt(%q) = %q", s, got)
		}
		for _, r := range got {
			if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) || r == 0x2028 || r == 0x2029 || r == 0x202e {
				t.Fatalf("Excerpt(%q) = %q holds %U", s, got, r)
			}
		}
	})
}

func TestOpenFileAndOpenListed(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "data")
	os.WriteFile(p, []byte("hello world"), 0o644)
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "link")
	os.Symlink(p, link)
	for _, open := range []func(string, int64) (*safeio.File, error){safeio.OpenFile, safeio.OpenListed} {
		f, err := open(link, 11)
		if err != nil {
			t.Fatal(err)
		}
		buf := make([]byte, 5)
		if n, err := f.ReadAt(buf, 6); n != 5 || err != nil || string(buf) != "world" {
			t.Errorf("ReadAt: %d %v %q", n, err, buf)
		}
		if n, err := f.ReadAt(buf, 8); n != 3 || err != io.EOF {
			t.Errorf("ReadAt past the end: %d %v", n, err)
		}
		// A file that grows after the open is read up to its size then.
		os.WriteFile(p, []byte("hello world and more"), 0o644)
		if n, err := f.ReadAt(make([]byte, 20), 0); n != 11 || err != io.EOF || f.Size() != 11 {
			t.Errorf("grown file: %d %v", n, err)
		}
		os.WriteFile(p, []byte("hello world"), 0o644)
		if f.Info().Ino == 0 || !f.Info().Mode.IsRegular() {
			t.Errorf("info %+v", f.Info())
		}
		f.Close()
		if _, err := open(p, 10); !errors.Is(err, safeio.ErrTooLarge) {
			t.Errorf("cap: %v", err)
		}
		for _, bad := range []string{fifo, "/dev/zero", "/dev/null", dir} {
			within(t, 5*time.Second, func() {
				if f, err := open(bad, 1<<20); !errors.Is(err, safeio.ErrNotRegular) {
					if f != nil {
						f.Close()
					}
					t.Errorf("%s: %v", bad, err)
				}
			})
		}
	}
}

func TestFolderStatMatchesStat(t *testing.T) {
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "a", "b"), 0o755)
	os.WriteFile(filepath.Join(dir, "a", "b", "f"), []byte("x"), 0o644)
	os.Symlink("b/f", filepath.Join(dir, "a", "l"))
	link := filepath.Join(t.TempDir(), "root")
	os.Symlink(dir, link)
	d, err := safeio.OpenFolder(link)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	for _, rel := range []string{"a/b/f", "a/l", "a", "a/b"} {
		got, err := d.Stat(rel)
		want, werr := safeio.Stat(filepath.Join(link, rel))
		if err != nil || werr != nil || got != want {
			t.Errorf("%s: %+v %v, want %+v %v", rel, got, err, want, werr)
		}
	}
	if _, err := d.Stat("missing"); !errors.Is(err, os.ErrNotExist) || !strings.Contains(err.Error(), filepath.Join(link, "missing")) {
		t.Errorf("missing: %v", err)
	}
}
