package target

import (
	"bytes"
	"errors"
	"hash/crc32"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/klauspost/compress/zstd"
	"github.com/ulikunitz/xz"

	"github.com/klpc/klpc/internal/safeio"
)

// Hostile inputs: kernel build files come from pull requests, so a FIFO,
// a device, a decompression bomb or a symlink to a secret must end in an
// error naming the file, never in a hang, unbounded memory or a leak.

// within fails the test instead of hanging when fn blocks, so a regression
// to blocking opens fails rather than stalling the test binary.
func within(t *testing.T, d time.Duration, fn func()) {
	t.Helper()
	done := make(chan struct{})
	go func() { defer close(done); fn() }()
	select {
	case <-done:
	case <-time.After(d):
		t.Fatalf("still running after %v", d)
	}
}

func mkfifo(t *testing.T, p string) string {
	t.Helper()
	if err := syscall.Mkfifo(p, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// copyFixtureModules copies the committed fixture modules to a fresh
// folder and returns it.
func copyFixtureModules(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	ents, err := os.ReadDir(fixtureMods)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		data, err := os.ReadFile(filepath.Join(fixtureMods, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, e.Name()), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// readers are the public single-file readers, by kind.
var readers = map[string]func(string) error{
	KindKallsyms:  readKallsyms,
	KindSystemMap: readSystemMap,
	KindVmlinux:   func(p string) error { _, err := ReadVmlinux(p); return err },
	KindModule:    readModuleErr,
	KindSymvers:   readSymvers,
	KindConfig:    readConfig,
	KindFtrace:    readFtrace,
}

func specWith(kind, path string) Spec {
	var s Spec
	switch kind {
	case KindKallsyms:
		s.Kallsyms = path
	case KindSystemMap:
		s.SystemMap = path
	case KindVmlinux:
		s.Vmlinux = path
	case KindSymvers:
		s.Symvers = path
	case KindConfig:
		s.Config = path
	case KindFtrace:
		s.Ftrace = path
	}
	return s
}

func TestFIFOInputsFailAtOnce(t *testing.T) {
	dir := t.TempDir()
	fifo := mkfifo(t, filepath.Join(dir, "fifo"))
	link := filepath.Join(dir, "link")
	os.Symlink(fifo, link)
	for kind, read := range readers {
		for _, p := range []string{fifo, link} {
			within(t, 10*time.Second, func() {
				if err := read(p); !errors.Is(err, safeio.ErrNotRegular) || !strings.HasPrefix(err.Error(), p+": is a named pipe (FIFO)") {
					t.Errorf("%s reader on %s: %v", kind, p, err)
				}
				if kind == KindModule {
					return
				}
				if _, err := Load(specWith(kind, p)); !errors.Is(err, safeio.ErrNotRegular) {
					t.Errorf("Load with %s %s: %v", kind, p, err)
				}
			})
		}
	}
}

func TestDevZeroInputsFailAtOnce(t *testing.T) {
	link := filepath.Join(t.TempDir(), "kallsyms")
	os.Symlink("/dev/zero", link)
	for kind, read := range readers {
		for _, p := range []string{"/dev/zero", link} {
			// Reading /dev/zero to its end grows memory by gigabytes a
			// second; keep the guard short.
			within(t, 3*time.Second, func() {
				if err := read(p); !errors.Is(err, safeio.ErrNotRegular) || !strings.Contains(err.Error(), "is a character device, want a regular file") {
					t.Errorf("%s reader on %s: %v", kind, p, err)
				}
				if kind == KindModule {
					return
				}
				if _, err := Load(specWith(kind, p)); !errors.Is(err, safeio.ErrNotRegular) {
					t.Errorf("Load with %s %s: %v", kind, p, err)
				}
			})
		}
	}
}

// TestHostileModuleTree puts a FIFO, /dev/zero, a symlink out of the
// folder and folder symlinks among real modules: each bad entry is one
// damaged module naming its file, folder symlinks are not followed, a
// symlink that stays inside the folder is read, and the real modules are
// indexed.
func TestHostileModuleTree(t *testing.T) {
	dir := copyFixtureModules(t)
	mkfifo(t, filepath.Join(dir, "fifo.ko"))
	os.Symlink("/dev/zero", filepath.Join(dir, "zero.ko.xz"))
	outside := writeFile(t, "secret.ko", realModule(t))
	os.Symlink(outside, filepath.Join(dir, "escape.ko"))
	// A symlink that stays inside the folder is read as usual.
	os.Mkdir(filepath.Join(dir, "store"), 0o755)
	os.Rename(filepath.Join(dir, "virtio_pci.ko.xz"), filepath.Join(dir, "store", "virtio_pci.bin"))
	os.Symlink(filepath.Join("store", "virtio_pci.bin"), filepath.Join(dir, "virtio_pci.ko.xz"))
	os.Symlink("..", filepath.Join(dir, "loop"))
	os.Symlink("/dev", filepath.Join(dir, "devdir"))
	var b *Build
	var err error
	within(t, 10*time.Second, func() { b, err = Load(Spec{Modules: dir}) })
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"fifo":   filepath.Join(dir, "fifo.ko") + ": is a named pipe (FIFO), want a regular file",
		"zero":   filepath.Join(dir, "zero.ko.xz") + ": is a symbolic link that leads out of the modules folder",
		"escape": filepath.Join(dir, "escape.ko") + ": is a symbolic link that leads out of the modules folder",
	}
	for n, msg := range want {
		if err := b.Damaged[n]; err == nil || !strings.HasPrefix(err.Error(), msg) {
			t.Errorf("Damaged[%s] = %v, want %s", n, err, msg)
		}
	}
	if len(b.Damaged) != len(want) {
		t.Errorf("damaged: %v", sortedKeys(b.Damaged))
	}
	for _, n := range []string{"sha256_ssse3", "tcp_scalable", "ttpci_eeprom", "virtio_pci"} {
		if b.Modules[n] == nil {
			t.Errorf("module %s not indexed", n)
		}
	}
}

func TestModuleTreeTooDeep(t *testing.T) {
	dir := t.TempDir()
	p := dir
	for range maxModuleTreeDepth + 2 {
		p = filepath.Join(p, "d")
	}
	os.MkdirAll(p, 0o755)
	os.WriteFile(filepath.Join(p, "x.ko"), realModule(t), 0o644)
	_, err := Load(Spec{Modules: dir})
	if err == nil || !strings.Contains(err.Error(), "folders deep in the modules folder "+dir) {
		t.Fatalf("deep tree: %v", err)
	}
	within(t, 10*time.Second, func() {
		fifo := mkfifo(t, filepath.Join(t.TempDir(), "modules"))
		if _, err := Load(Spec{Modules: fifo}); err == nil || !strings.Contains(err.Error(), "not a directory") {
			t.Errorf("FIFO as modules folder: %v", err)
		}
	})
}

// bomb returns n zero bytes compressed as format.
func bomb(t testing.TB, format string, n int) []byte {
	t.Helper()
	zeros := make([]byte, n)
	switch format {
	case "gz":
		return gzipped(zeros)
	case "xz":
		var b bytes.Buffer
		w, err := xz.NewWriter(&b)
		if err != nil {
			t.Fatal(err)
		}
		w.Write(zeros)
		w.Close()
		return b.Bytes()
	case "zst":
		w, _ := zstd.NewWriter(nil)
		return w.EncodeAll(zeros, nil)
	}
	t.Fatal(format)
	return nil
}

// withLimit lowers the caps of one kind of input for a test.
func withLimit(t *testing.T, kind string, n int64) {
	old := inputLimits[kind]
	oldD, haveD := decompressedLimits[kind]
	inputLimits[kind], decompressedLimits[kind] = n, n
	t.Cleanup(func() {
		inputLimits[kind] = old
		if haveD {
			decompressedLimits[kind] = oldD
		} else {
			delete(decompressedLimits, kind)
		}
	})
}

// TestDecompressionBudgetIsShared: four bombs, each under the per-file
// cap, together exceed the budget of the load. Every one is a damaged
// module, the uncompressed real module is still indexed, and the load
// allocates about the budget, not four times the cap.
func TestDecompressionBudgetIsShared(t *testing.T) {
	withLimit(t, KindModule, 16<<20)
	dir := copyFixtureModules(t)
	for i, f := range []string{"gz", "xz", "zst", "zst"} {
		name := filepath.Join(dir, "bomb"+string(rune('a'+i))+".ko."+f)
		os.WriteFile(name, bomb(t, f, 12<<20), 0o644)
	}
	budget := safeio.NewBudget(20 << 20)
	var m0, m1 runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&m0)
	b, err := LoadCached(Spec{Modules: dir}, Options{NoCache: true, Budget: budget})
	runtime.ReadMemStats(&m1)
	if err != nil {
		t.Fatal(err)
	}
	over := 0
	for _, n := range []string{"bomba", "bombb", "bombc", "bombd"} {
		err := b.Damaged[n]
		switch {
		case err == nil:
			t.Errorf("%s not damaged", n)
		case strings.Contains(err.Error(), "decompression budget shared by all the files"):
			over++
		case !strings.Contains(err.Error(), "not an ELF file"):
			t.Errorf("%s: %v", n, err)
		}
	}
	// 20 MiB holds one 12 MiB bomb and part of a second.
	if over < 2 {
		t.Errorf("%d bombs hit the budget, want at least 2: %v", over, b.Damaged)
	}
	// Once the budget is used up, compressed files read later fail too,
	// good ones included; the uncompressed module needs no budget.
	if b.Modules["tcp_scalable"] == nil {
		t.Errorf("modules %v", b.ModuleNames())
	}
	for _, n := range []string{"sha256_ssse3", "ttpci_eeprom", "virtio_pci"} {
		if b.Modules[n] == nil && !strings.Contains(b.Damaged[n].Error(), "decompression budget") {
			t.Errorf("%s: %v", n, b.Damaged[n])
		}
	}
	if used := budget.Used(); used > 20<<20 {
		t.Errorf("budget used %d", used)
	}
	if alloc := m1.TotalAlloc - m0.TotalAlloc; alloc > 160<<20 {
		t.Errorf("load allocated %d MiB for a 20 MiB budget", alloc>>20)
	}
}

// TestDecompressionCapPerFile: one bomb over the per-file cap is refused
// with a message naming it, whatever the format.
func TestDecompressionCapPerFile(t *testing.T) {
	withLimit(t, KindModule, 4<<20)
	for _, f := range []string{"gz", "xz", "zst"} {
		p := writeFile(t, "bomb.ko."+f, bomb(t, f, 8<<20))
		err := readModuleErr(p)
		if !errors.Is(err, safeio.ErrTooLarge) || err.Error() != p+": decompresses to more than the 4 MiB allowed for one file" {
			t.Errorf("%s: %v", f, err)
		}
	}
	withLimit(t, KindKallsyms, 1<<20)
	p := writeFile(t, "kallsyms.gz", bomb(t, "gz", 2<<20))
	if err := readKallsyms(p); !errors.Is(err, safeio.ErrTooLarge) {
		t.Errorf("kallsyms bomb: %v", err)
	}
	// Stored size over the cap: refused before reading.
	big := writeFile(t, "big.ko", make([]byte, 5<<20))
	if err := readModuleErr(big); !errors.Is(err, safeio.ErrTooLarge) || !strings.HasPrefix(err.Error(), big+": is 5 MiB, more than the 4 MiB allowed") {
		t.Errorf("big module: %v", err)
	}
}

// hugeDictXZ returns a small valid xz file whose block header asks for
// the dictionary size coded by dictByte (its CRC fixed up to match); the
// xz reader would allocate that dictionary before decoding a byte.
func hugeDictXZ(t testing.TB, dictByte byte) []byte {
	t.Helper()
	data := bomb(t, "xz", 1<<10)
	hdr := data[12:]
	size := (int(hdr[0]) + 1) * 4
	i := bytes.Index(hdr[:size], []byte{0x21, 0x01})
	if i < 0 {
		t.Fatal("no LZMA2 filter flags")
	}
	hdr[i+2] = dictByte
	le.PutUint32(hdr[size-4:], crc32.ChecksumIEEE(hdr[:size-4]))
	return data
}

func TestXZDictionaryBomb(t *testing.T) {
	// 39 is 3 GiB, 40 is 4 GiB - 1.
	for _, d := range []byte{39, 40} {
		p := writeFile(t, "x.ko.xz", hugeDictXZ(t, d))
		var m0, m1 runtime.MemStats
		runtime.ReadMemStats(&m0)
		err := readModuleErr(p)
		runtime.ReadMemStats(&m1)
		if err == nil || !strings.Contains(err.Error(), "dictionary, more than the 256 MiB allowed") {
			t.Errorf("dict %d: %v", d, err)
		}
		if alloc := m1.TotalAlloc - m0.TotalAlloc; alloc > 64<<20 {
			t.Errorf("dict %d: allocated %d MiB", d, alloc>>20)
		}
	}
	// The xz file format's dictionary size: 2 or 3 << (bits/2 + 11).
	for d, want := range map[byte]int64{0: 4 << 10, 16: 1 << 20, 17: 3 << 19, 22: 8 << 20, 39: 3 << 30} {
		if dict, err := xzMaxDict(hugeDictXZ(t, d)); err != nil || dict != want {
			t.Errorf("dict byte %d = %d %v, want %d", d, dict, err, want)
		}
	}
}

// multiBlockXZ returns an xz file of many blocks (and two streams, with
// stream padding between them), in which every block after the first asks
// for the dictionary coded by dictByte.
func multiBlockXZ(t testing.TB, dictByte byte) []byte {
	t.Helper()
	stream := func() []byte {
		var b bytes.Buffer
		w, err := xz.WriterConfig{BlockSize: 4096}.NewWriter(&b)
		if err != nil {
			t.Fatal(err)
		}
		w.Write(bytes.Repeat([]byte("abcdefgh"), 10000))
		w.Close()
		return b.Bytes()
	}
	data := append(append(stream(), 0, 0, 0, 0), stream()...)
	// Block headers are found by their CRC; a false match is harmless
	// since only matches whose CRC checks are patched.
	blocks := 0
	for i := 0; i+2 < len(data); i++ {
		if data[i+2] != 0x21 || data[i] == 0 || data[i+1]&0x3c != 0 {
			continue
		}
		size := (int(data[i]) + 1) * 4
		if i+size > len(data) || crc32.ChecksumIEEE(data[i:i+size-4]) != le.Uint32(data[i+size-4:]) {
			continue
		}
		blocks++
		if blocks > 1 {
			data[i+4] = dictByte
			le.PutUint32(data[i+size-4:], crc32.ChecksumIEEE(data[i:i+size-4]))
		}
	}
	if blocks < 10 {
		t.Fatalf("%d blocks", blocks)
	}
	return data
}

// TestXZDictionaryBombInLaterBlocks: every block header is checked, not
// only the first. Before, a 20 KB file whose later blocks each asked for
// 3 GiB made the reader allocate 58 GB in total (6 GB resident).
func TestXZDictionaryBombInLaterBlocks(t *testing.T) {
	if dict, err := xzMaxDict(multiBlockXZ(t, 22)); err != nil || dict != 8<<20 {
		t.Fatalf("good multi-block file: %d %v", dict, err)
	}
	p := writeFile(t, "x.ko.xz", multiBlockXZ(t, 39))
	var m0, m1 runtime.MemStats
	runtime.ReadMemStats(&m0)
	err := readModuleErr(p)
	runtime.ReadMemStats(&m1)
	if err == nil || err.Error() != p+": xz data asks for a 3 GiB dictionary, more than the 256 MiB allowed" {
		t.Errorf("%v", err)
	}
	if alloc := m1.TotalAlloc - m0.TotalAlloc; alloc > 64<<20 {
		t.Errorf("allocated %d MiB", alloc>>20)
	}
	// Every truncation of a good file is either still well formed up to
	// that point or rejected; none panics.
	good := multiBlockXZ(t, 16)
	for n := range len(good) {
		xzMaxDict(good[:n])
	}
}

// TestXZScanRealModules checks the container walk against every .ko.xz
// of the unpacked Debian kernels: all are accepted, and their dictionary
// is the one the real decoder needs.
func TestXZScanRealModules(t *testing.T) {
	// Debian compresses modules with xz from 6.12 on; 7.x ships them
	// under usr/lib/modules.
	t.Run("6.12", func(t *testing.T) { xzScanTree(t, debianModules(t, "6.12.117+deb12")) })
	t.Run("7.2", func(t *testing.T) {
		abi := "7.2.13+deb14-amd64"
		dir := filepath.Join("..", ".cache", "kernels", abi, "usr", "lib", "modules", abi)
		if _, err := os.Stat(dir); err != nil {
			t.Skipf("%s not unpacked", dir)
		}
		xzScanTree(t, dir)
	})
}

func xzScanTree(t *testing.T, dir string) {
	n := 0
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || !strings.HasSuffix(p, ".ko.xz") {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		dict, err := xzMaxDict(data)
		if err != nil || dict > 8<<20 {
			t.Errorf("%s: dict %d, %v", p, dict, err)
		}
		n++
		return nil
	})
	if err != nil || n < 1000 {
		t.Fatalf("%d files, %v", n, err)
	}
}

// TestSymlinkToSecretIsNotEchoed: a kallsyms (or other text input) that is
// a symlink to a secret must not show the secret in its error, and no
// error may carry control characters from the file.
func TestSymlinkToSecretIsNotEchoed(t *testing.T) {
	secret := writeFile(t, "shadow",
		[]byte("root:$6$S3cr3tSalt$VeryLongSecretHashVeryLongSecretHashVeryLongSecretHash:19000:0:99999:7:::\n"))
	term := writeFile(t, "term", []byte("\x1b]0;pwned\x07\x1b[2J  T  \x1b[31mred\n"))
	for kind, read := range readers {
		if kind == KindModule || kind == KindVmlinux {
			continue
		}
		for _, target := range []string{secret, term} {
			link := filepath.Join(t.TempDir(), kind)
			os.Symlink(target, link)
			err := read(link)
			if err == nil {
				if kind == KindFtrace {
					continue // any name without brackets is a function name
				}
				t.Fatalf("%s: no error", kind)
			}
			msg := err.Error()
			if strings.Contains(msg, "S3cr3t") || strings.Contains(msg, "VeryLong") || strings.ContainsAny(msg, "\x1b\x07\r\n") || len(msg) > len(link)+160 {
				t.Errorf("%s: error shows the content: %q", kind, msg)
			}
			if !strings.HasPrefix(msg, link+":") {
				t.Errorf("%s: error does not name the file: %q", kind, msg)
			}
		}
	}
}

// TestDamagedModuleAmongGood: a truncated .ko, a non-ELF .ko, bad xz, bad
// zstd and one over the size cap each become one damaged module; every
// good module is indexed as without them, and the damage is kept through
// the index cache.
func TestDamagedModuleAmongGood(t *testing.T) {
	clean, err := Load(Spec{Modules: fixtureMods, Kallsyms: fixtureKallsym})
	if err != nil {
		t.Fatal(err)
	}
	withLimit(t, KindModule, 1<<20)
	dir := copyFixtureModules(t)
	ko := realModule(t)
	bad := map[string][]byte{
		"truncated.ko":  ko[:len(ko)/2],
		"notelf.ko":     []byte("this is not an ELF file, only text long enough to pass the length check"),
		"badxz.ko.xz":   append(bytes.Clone(xzMagic), 0, 4, 1, 2, 3),
		"badzst.ko.zst": append(bytes.Clone(zstdMagic), 0xff, 0xff, 0xff),
		"huge.ko":       append(bytes.Clone(ko), make([]byte, 1<<20)...),
	}
	for n, data := range bad {
		os.WriteFile(filepath.Join(dir, n), data, 0o644)
	}
	spec := Spec{Modules: dir, Kallsyms: fixtureKallsym}
	cacheDir := t.TempDir()
	for round, opts := range []Options{{Dir: cacheDir}, {Dir: cacheDir}} {
		b, err := LoadCached(spec, opts)
		if err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		if len(b.Damaged) != len(bad) {
			t.Errorf("round %d: damaged %v", round, sortedKeys(b.Damaged))
		}
		for file := range bad {
			n := moduleNameFromPath(file)
			err := b.Damaged[n]
			var pe *ParseError
			if err == nil || !errors.As(err, &pe) || pe.File != filepath.Join(dir, file) || !strings.HasPrefix(err.Error(), filepath.Join(dir, file)+": ") {
				t.Errorf("round %d: Damaged[%s] = %v", round, n, err)
			}
		}
		for _, n := range clean.ModuleNames() {
			a, c := clean.Modules[n].Load(), b.Modules[n].Load()
			if c == nil || a.Source != c.Source || len(a.Symbols) != len(c.Symbols) {
				t.Errorf("round %d: module %s differs", round, n)
			}
		}
		if b.Vmlinux == nil || b.Vmlinux.Len() != clean.Vmlinux.Len() {
			t.Errorf("round %d: vmlinux differs", round)
		}
	}
	// Damage to vmlinux's own source, or any other non-module input,
	// still fails the whole load.
	badKallsyms := writeFile(t, "kallsyms", []byte("not kallsyms\n"))
	if _, err := Load(Spec{Modules: dir, Kallsyms: badKallsyms}); err == nil || !strings.HasPrefix(err.Error(), badKallsyms+":1:") {
		t.Errorf("bad kallsyms: %v", err)
	}
}

// TestHostileCacheFiles: a FIFO planted where the cache keeps its memo is
// ignored, not waited on; devices are never read as cache files.
func TestHostileCacheFiles(t *testing.T) {
	dir := t.TempDir()
	spec, err := Spec{Modules: fixtureMods}.absolute()
	if err != nil {
		t.Fatal(err)
	}
	mkfifo(t, filepath.Join(dir, "spec-"+specKey(spec)+".memo"))
	within(t, 10*time.Second, func() {
		if _, err := LoadCached(spec, Options{Dir: dir}); err != nil {
			t.Error(err)
		}
	})
	if _, ok := readMemo("/dev/zero"); ok {
		t.Error("/dev/zero read as a memo")
	}
	if _, ok := readIndex("/dev/zero", nil, "", nil); ok {
		t.Error("/dev/zero read as an index entry")
	}
}

// TestTooManyLinesOrSymbols: a file of tiny lines under its size cap is
// refused by line count before its parsed form outgrows it.
func TestTooManyLinesOrSymbols(t *testing.T) {
	data := bytes.Repeat([]byte("0 t a\n"), maxLines+1)
	for name, parse := range map[string]func() error{
		"kallsyms":   func() error { _, err := parseKallsyms("kallsyms", data); return err },
		"System.map": func() error { _, err := parseSystemMap("System.map", data); return err },
		"ftrace": func() error {
			_, err := parseFilterFunctions("ftrace", bytes.Repeat([]byte("a\n"), maxLines+1))
			return err
		},
	} {
		if err := parse(); err == nil || !strings.Contains(err.Error(), ":4194305: more than 4194304 lines") {
			t.Errorf("%s: %v", name, err)
		}
	}
	// An ELF symbol table of maxSymbols+1 entries.
	ko := realModule(t)
	f, err := openELF("x.ko", &bytesReaderAt{ko}, int64(len(ko)))
	if err != nil {
		t.Fatal(err)
	}
	for i := range f.sections {
		if f.sections[i].typ == shtSymtab {
			f.sections[i].size = (maxSymbols + 1) * symSize
			f.sections[i].off = 0
		}
	}
	f.data = make([]byte, (maxSymbols+1)*symSize)
	f.size = int64(len(f.data))
	if _, err := f.symbols(); err == nil || !strings.Contains(err.Error(), "more than the 4194304 allowed") {
		t.Errorf("ELF: %v", err)
	}
}

// TestEmptyInputsSayWhat: an empty kallsyms, plain or gzip, is named as
// such, not reported as a bare EOF.
func TestEmptyInputsSayWhat(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{"kallsyms", "kallsyms.gz"} {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, nil, 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := ReadKallsyms(path)
		if err == nil || strings.Contains(err.Error(), "EOF") || !strings.Contains(err.Error(), path) {
			t.Errorf("%s: %v", name, err)
		}
	}
}
