package target

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

// fixtureSpec is the committed fixture build.
func fixtureSpec(t testing.TB) Spec {
	t.Helper()
	s, err := Discover(fixtureDir)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// sameBuild compares the data of two builds (not their lazily built
// lookup indexes).
func sameBuild(t *testing.T, a, b *Build) {
	t.Helper()
	// A build loaded without the cache has no input hashes (no key needs
	// them); everything else about its inputs is the same.
	sameInputs := len(a.Inputs) == len(b.Inputs)
	for i := 0; sameInputs && i < len(a.Inputs); i++ {
		x, y := a.Inputs[i], b.Inputs[i]
		if x.SHA256 == "" || y.SHA256 == "" {
			x.SHA256, y.SHA256 = "", ""
		}
		sameInputs = x == y
	}
	if !sameInputs || !reflect.DeepEqual(a.Exports, b.Exports) || !reflect.DeepEqual(a.Config, b.Config) {
		t.Fatal("inputs, exports or config differ")
	}
	objs := func(b *Build) []*Object {
		out := []*Object{b.Vmlinux.Load()}
		for _, n := range b.ModuleNames() {
			out = append(out, b.Modules[n].Load())
		}
		return out
	}
	oa, ob := objs(a), objs(b)
	if len(oa) != len(ob) {
		t.Fatalf("%d vs %d objects", len(oa), len(ob))
	}
	for i := range oa {
		x, y := oa[i], ob[i]
		if x.Name != y.Name || x.Path != y.Path || x.Source != y.Source || x.SrcVersion != y.SrcVersion ||
			x.Vermagic != y.Vermagic || !reflect.DeepEqual(x.Depends, y.Depends) || x.RealAddrs != y.RealAddrs ||
			!reflect.DeepEqual(x.Symbols, y.Symbols) {
			t.Fatalf("object %s differs after a cache round trip", x.Name)
		}
	}
}

func TestCacheRoundTrip(t *testing.T) {
	dir := t.TempDir()
	spec := fixtureSpec(t)
	cold, err := LoadCached(spec, Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	entries, _ := filepath.Glob(filepath.Join(dir, "*.idx"))
	memos, _ := filepath.Glob(filepath.Join(dir, "*.memo"))
	if len(entries) != 1 || len(memos) != 1 {
		t.Fatalf("cache holds %v %v", entries, memos)
	}
	warm, err := LoadCached(spec, Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	sameBuild(t, cold, warm)
	nocache, err := LoadCached(spec, Options{NoCache: true})
	if err != nil {
		t.Fatal(err)
	}
	sameBuild(t, cold, nocache)
	if r := warm.Modules["virtio_pci"].Resolve("vp_get", 2, ""); r.Problem != OK {
		t.Error(r.Describe())
	}
}

func TestCacheDamagedEntriesAreRebuilt(t *testing.T) {
	spec := fixtureSpec(t)
	damage := map[string]func([]byte) []byte{
		"truncated":   func(b []byte) []byte { return b[:len(b)/2] },
		"flipped bit": func(b []byte) []byte { b[len(b)/2] ^= 0x40; return b },
		"bad magic":   func(b []byte) []byte { b[0] = 'X'; return b },
		"old version": func(b []byte) []byte { b[8]++; return b },
		"empty":       func(b []byte) []byte { return nil },
	}
	for name, fn := range damage {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			want, err := LoadCached(spec, Options{Dir: dir})
			if err != nil {
				t.Fatal(err)
			}
			for _, pat := range []string{"*.idx", "*.memo"} {
				paths, _ := filepath.Glob(filepath.Join(dir, pat))
				for _, p := range paths {
					data, _ := os.ReadFile(p)
					if err := os.WriteFile(p, fn(data), 0o644); err != nil {
						t.Fatal(err)
					}
				}
				got, err := LoadCached(spec, Options{Dir: dir})
				if err != nil {
					t.Fatalf("damaged %s: %v", pat, err)
				}
				sameBuild(t, want, got)
			}
		})
	}
}

func TestCacheInvalidatedByContent(t *testing.T) {
	dir := t.TempDir()
	src := t.TempDir()
	cfg := filepath.Join(src, "config")
	os.WriteFile(cfg, []byte("CONFIG_A=y\n"), 0o644)
	spec := Spec{Config: cfg}
	b1, err := LoadCached(spec, Options{Dir: dir})
	if err != nil || b1.Config["CONFIG_A"] != "y" {
		t.Fatal(err, b1.Config)
	}
	// Same size, same mtime, new content: the change time and content
	// hash still catch it.
	st, _ := os.Stat(cfg)
	os.WriteFile(cfg, []byte("CONFIG_A=m\n"), 0o644)
	os.Chtimes(cfg, st.ModTime(), st.ModTime())
	time.Sleep(10 * time.Millisecond)
	b2, err := LoadCached(spec, Options{Dir: dir})
	if err != nil || b2.Config["CONFIG_A"] != "m" {
		t.Fatalf("stale cache entry used: %v %v", err, b2.Config)
	}
}

func TestCacheDirFromEnv(t *testing.T) {
	t.Setenv("KLPC_CACHE_DIR", "/some/where")
	if d, _ := CacheDir(); d != "/some/where" {
		t.Errorf("CacheDir = %s", d)
	}
	t.Setenv("KLPC_CACHE_DIR", "")
	if d, err := CacheDir(); err == nil && !strings.HasSuffix(d, filepath.Join("klpc", "index")) {
		t.Errorf("CacheDir = %s", d)
	}
}

// splitIndex returns an index entry's head and its modules' symbols.
func splitIndex(enc []byte) (head, blobs []byte) {
	n := le.Uint64(enc[12:])
	return enc[24 : 24+n], enc[24+n:]
}

// decodeIndexBytes decodes an entry held in memory, every module's
// symbols included.
func decodeIndexBytes(head, blobs []byte) (*Build, error) {
	b, err := decodeHead(string(head), uint64(len(blobs)), &indexSource{data: blobs})
	if err != nil {
		return nil, err
	}
	for _, n := range b.ModuleNames() {
		b.Modules[n].Load()
	}
	if b.Vmlinux != nil {
		b.Vmlinux.Load()
	}
	return b, nil
}

func TestDecodeNeverPanics(t *testing.T) {
	b := loadFixture(t)
	head, blobs := splitIndex(encodeIndex(b))
	if got, err := decodeIndexBytes(head, blobs); err != nil {
		t.Fatal(err)
	} else {
		sameBuild(t, b, got)
	}
	// Every prefix of a valid head must fail cleanly.
	for _, n := range []int{0, 1, 7, 100, len(head) / 3, len(head) - 1} {
		if _, err := decodeIndexBytes(head[:n], blobs); err == nil {
			t.Errorf("prefix %d decoded", n)
		}
	}
	// Damaged symbols are read again from the files (none here).
	bad := bytes.Clone(blobs)
	bad[len(bad)/2] ^= 0xff
	if got, err := decodeIndexBytes(head, bad); err != nil {
		t.Fatal(err)
	} else if n := len(got.ModuleNames()); n == 0 {
		t.Fatal("no modules")
	}
}

// BenchmarkLoadCachedWarm is the planner's path: a small build already in
// the cache (kallsyms.gz of ~94k symbols, four modules, symvers, config).
func BenchmarkLoadCachedWarm(b *testing.B) {
	dir := b.TempDir()
	spec := fixtureSpec(b)
	if _, err := LoadCached(spec, Options{Dir: dir}); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := LoadCached(spec, Options{Dir: dir}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkLoadFixturesCold reads and hashes every fixture input.
func BenchmarkLoadFixturesCold(b *testing.B) {
	spec := fixtureSpec(b)
	for i := 0; i < b.N; i++ {
		if _, err := Load(spec); err != nil {
			b.Fatal(err)
		}
	}
}

// A run that names one build in many kernel blocks reads and holds it once;
// another spec gets its own build, and an error is shared like a result.
func TestSharedLoadsOnce(t *testing.T) {
	dir := t.TempDir()
	spec := fixtureSpec(t)
	sh := NewShared()
	a, err := LoadCached(spec, Options{Dir: dir, Shared: sh})
	if err != nil {
		t.Fatal(err)
	}
	// Relative and absolute spellings of one file are one input.
	rel := spec
	if wd, err := os.Getwd(); err == nil {
		if r, err := filepath.Rel(wd, spec.Kallsyms); err == nil {
			rel.Kallsyms = r
		}
	}
	b, err := LoadCached(rel, Options{Dir: dir, Shared: sh})
	if err != nil {
		t.Fatal(err)
	}
	if a != b || sh.Len() != 1 {
		t.Fatalf("same spec loaded twice (%d builds held)", sh.Len())
	}
	other := Spec{Kallsyms: spec.Kallsyms}
	c, err := LoadCached(other, Options{Dir: dir, Shared: sh})
	if err != nil {
		t.Fatal(err)
	}
	if c == a || sh.Len() != 2 {
		t.Fatal("a different spec got the shared build")
	}
	sameBuild(t, a, mustLoad(t, spec))
	bad := Spec{Kallsyms: filepath.Join(dir, "missing")}
	if _, err := LoadCached(bad, Options{Dir: dir, Shared: sh}); err == nil {
		t.Fatal("missing file loaded")
	}
	if _, err := LoadCached(bad, Options{Dir: dir, Shared: sh}); err == nil || !strings.Contains(err.Error(), "missing") {
		t.Fatalf("second load of a missing file: %v", err)
	}
}

func mustLoad(t *testing.T, s Spec) *Build {
	t.Helper()
	b, err := LoadCached(s, Options{NoCache: true})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// An uncompressed module's input hash covers what its symbols are read
// from: a change to its code leaves the index key alone, a change to its
// symbol names does not.
func TestModuleHashCoversWhatIsRead(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join(fixtureDir, "modules", "tcp_scalable.ko"))
	if err != nil {
		t.Fatal(err)
	}
	f, err := openELF("tcp_scalable.ko", &bytesReaderAt{raw}, int64(len(raw)))
	if err != nil {
		t.Fatal(err)
	}
	text, strtab := f.sections[f.section(".text")], f.sections[f.section(".strtab")]
	hashOf := func(data []byte) (Input, *Object) {
		dir := t.TempDir()
		p := filepath.Join(dir, "tcp_scalable.ko")
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		o, in, err := newReader(nil).readModuleFile(inputFile{kind: KindModule, path: p}, defaultModuleRules, true)
		if err != nil {
			t.Fatal(err)
		}
		return in, o
	}
	base, o := hashOf(raw)
	if len(o.Load().Symbols) == 0 || base.Size != int64(len(raw)) {
		t.Fatalf("%d symbols, size %d", len(o.Symbols), base.Size)
	}
	code := append([]byte(nil), raw...)
	code[text.off] ^= 0xff
	if in, _ := hashOf(code); in.SHA256 != base.SHA256 {
		t.Error("a change to .text changed the hash of what the index reads")
	}
	names := append([]byte(nil), raw...)
	names[strtab.off+1] ^= 0x01
	if in, _ := hashOf(names); in.SHA256 == base.SHA256 {
		t.Error("a change to .strtab kept the hash")
	}
}

// Export answers the same before and after it builds its map; the last
// entry of a duplicated name wins either way.
func TestExportScanMatchesMap(t *testing.T) {
	b := &Build{Exports: []Export{{Symbol: "a", Module: "m1"}, {Symbol: "b"}, {Symbol: "a", Module: "m2"}}}
	for i := 0; i < 2*linearLookups+2; i++ {
		if e, ok := b.Export("a"); !ok || e.Module != "m2" {
			t.Fatalf("lookup %d: %+v %v", i, e, ok)
		}
		if _, ok := b.Export("c"); ok {
			t.Fatalf("lookup %d: c found", i)
		}
	}
}

// TestSparseVmlinuxLookups checks that a vmlinux read from the cache
// answers every lookup through its name table exactly as the whole
// symbol list does, without decoding that list.
func TestSparseVmlinuxLookups(t *testing.T) {
	dir := t.TempDir()
	spec := fixtureSpec(t)
	cold, err := LoadCached(spec, Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	warm, err := LoadCached(spec, Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	sp := warm.Vmlinux.sparse
	if sp == nil {
		t.Fatal("vmlinux read from the cache has no name table")
	}
	if warm.Vmlinux.Len() != len(cold.Vmlinux.Symbols) {
		t.Fatalf("Len = %d, want %d", warm.Vmlinux.Len(), len(cold.Vmlinux.Symbols))
	}
	names := []string{"", "no_such_symbol", "vp_get"}
	for _, s := range cold.Vmlinux.Symbols {
		names = append(names, s.Name)
	}
	for _, name := range names {
		got, ok := sp.find(name)
		if !ok {
			t.Fatalf("sparse lookup of %q failed", name)
		}
		want := cold.Vmlinux.Lookup(name)
		if !slices.Equal(got, want) {
			t.Fatalf("Lookup(%q) = %v, want %v", name, got, want)
		}
		for _, i := range got {
			if s := sp.cached(i); s == nil || *s != cold.Vmlinux.Symbols[i] {
				t.Fatalf("symbol %d (%q) = %v, want %v", i, name, s, cold.Vmlinux.Symbols[i])
			}
		}
	}
	if warm.Vmlinux.loaded.Load() {
		t.Error("sparse lookups decoded the whole vmlinux")
	}
	// Past sparseLookups the object decodes its symbols once and answers
	// as before.
	for i := 0; i <= sparseLookups; i++ {
		name := cold.Vmlinux.Symbols[i*7%len(cold.Vmlinux.Symbols)].Name
		if got, want := warm.Vmlinux.Lookup(name), cold.Vmlinux.Lookup(name); !slices.Equal(got, want) {
			t.Fatalf("Lookup(%q) = %v, want %v", name, got, want)
		}
	}
	if !warm.Vmlinux.loaded.Load() || !reflect.DeepEqual(warm.Vmlinux.Symbols, cold.Vmlinux.Symbols) {
		t.Error("vmlinux not decoded whole after many lookups")
	}
}

// TestSparseVmlinuxDamage damages vmlinux's symbols and name table in a
// cache entry, byte by byte at a stride: every lookup still answers as
// the inputs do.
func TestSparseVmlinuxDamage(t *testing.T) {
	spec := fixtureSpec(t)
	want, err := LoadCached(spec, Options{NoCache: true})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	b, err := LoadCached(spec, Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	entries, _ := filepath.Glob(filepath.Join(dir, "*.idx"))
	if len(entries) != 1 {
		t.Fatalf("cache holds %v", entries)
	}
	clean, err := os.ReadFile(entries[0])
	if err != nil {
		t.Fatal(err)
	}
	warm, err := LoadCached(spec, Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	vm := warm.Vmlinux.sparse.vm
	base := int(warm.Vmlinux.sparse.src.base)
	start, end := base+int(vm.off), len(clean)
	names := []string{"no_such_symbol"}
	for i := 0; i < len(b.Vmlinux.Symbols); i += 97 {
		names = append(names, b.Vmlinux.Symbols[i].Name)
	}
	stride := max(1, (end-start)/40)
	for at := start; at < end; at += stride {
		data := slices.Clone(clean)
		data[at] ^= 0x5a
		if err := os.WriteFile(entries[0], data, 0o644); err != nil {
			t.Fatal(err)
		}
		got, err := LoadCached(spec, Options{Dir: dir})
		if err != nil {
			t.Fatal(err)
		}
		for _, name := range names {
			g, w := got.Vmlinux.Lookup(name), want.Vmlinux.Lookup(name)
			if len(g) != len(w) {
				t.Fatalf("damage at %d: Lookup(%q) = %v, want %v", at, name, g, w)
			}
			for k := range g {
				if got.Vmlinux.Symbol(g[k]) != want.Vmlinux.Symbols[w[k]] {
					t.Fatalf("damage at %d: %q differs", at, name)
				}
			}
		}
	}
}

// TestSparseVmlinuxFiles checks lookups through the name table of a
// vmlinux whose symbols carry source files, across chunk boundaries and
// with names that share buckets.
func TestSparseVmlinuxFiles(t *testing.T) {
	for _, n := range []int{0, 1, 3, symChunk, symChunk + 1, 3*symChunk + 17} {
		vm := &Object{Name: VmlinuxName, Source: "vmlinux", RealAddrs: true}
		for i := 0; i < n; i++ {
			s := Symbol{Name: fmt.Sprintf("f%d", i%(n/3+1)), Addr: uint64(0x1000 + 16*i), Size: 16, Type: 't', Func: true, Traceable: Tristate(i % 3)}
			if i%4 != 0 {
				s.File = fmt.Sprintf("dir/file%d.c", i%5)
			}
			vm.Symbols = append(vm.Symbols, s)
		}
		b := &Build{Vmlinux: vm, Modules: map[string]*Object{}}
		head, blobs := splitIndex(encodeIndex(b))
		got, err := decodeHead(string(head), uint64(len(blobs)), &indexSource{data: blobs})
		if err != nil {
			t.Fatalf("%d symbols: %v", n, err)
		}
		if got.Vmlinux.Len() != n {
			t.Fatalf("%d symbols: Len = %d", n, got.Vmlinux.Len())
		}
		for i := 0; i <= n/3+1; i++ {
			name := fmt.Sprintf("f%d", i)
			g, w := got.Vmlinux.Lookup(name), vm.Lookup(name)
			if !slices.Equal(g, w) {
				t.Fatalf("%d symbols: Lookup(%q) = %v, want %v", n, name, g, w)
			}
			for _, k := range g {
				if got.Vmlinux.Symbol(k) != vm.Symbols[k] {
					t.Fatalf("%d symbols: symbol %d = %+v, want %+v", n, k, got.Vmlinux.Symbol(k), vm.Symbols[k])
				}
			}
			// (A name not found makes Resolve suggest others, from all
			// the symbols.)
			if len(w) == 0 {
				continue
			}
			if r, want := got.Vmlinux.Resolve(name, 0, "file1.c"), vm.Resolve(name, 0, "file1.c"); r.Problem != want.Problem || r.Sympos != want.Sympos {
				t.Fatalf("%d symbols: Resolve(%q) = %v, want %v", n, name, r.Describe(), want.Describe())
			}
		}
		if lookups := 2*min(n, n/3+1) + 1; got.Vmlinux.loaded.Load() != (lookups > sparseLookups) {
			t.Errorf("%d symbols: decoded whole after %d lookups: %v", n, lookups, got.Vmlinux.loaded.Load())
		}
	}
}
