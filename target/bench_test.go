package target

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// benchModules is Debian 6.1.0-56's modules folder, unpacked into the
// cache by scripts/fetch-kernels.sh; the benchmarks skip without it.
func benchModules(b *testing.B) string {
	b.Helper()
	dirs, _ := filepath.Glob(filepath.Join("..", ".cache", "kernels", "6.1.0-56-amd64", "lib", "modules", "*"))
	if len(dirs) == 0 {
		b.Skip("needs .cache/kernels/6.1.0-56-amd64 (scripts/fetch-kernels.sh 6.1.0-56)")
	}
	return dirs[0]
}

// BenchmarkColdModules indexes a whole Debian module tree without the
// cache, as `klpc index --no-cache` does.
func BenchmarkColdModules(b *testing.B) {
	dir := benchModules(b)
	for b.Loop() {
		if _, err := LoadCached(Spec{Modules: dir}, Options{NoCache: true}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkWarmModules loads the same tree from a warm index cache and
// counts its symbols, as `klpc index` does.
func BenchmarkWarmModules(b *testing.B) {
	dir := benchModules(b)
	cache := b.TempDir()
	if _, err := LoadCached(Spec{Modules: dir}, Options{Dir: cache}); err != nil {
		b.Fatal(err)
	}
	if _, err := os.Stat(cache); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		bd, err := LoadCached(Spec{Modules: dir}, Options{Dir: cache})
		if err != nil {
			b.Fatal(err)
		}
		bd.Counts()
	}
}

// sameObject compares what two reads of one module found.
func sameObject(a, b *Object) bool {
	a.Load()
	b.Load()
	return a.Name == b.Name && a.Path == b.Path && a.Source == b.Source && a.SrcVersion == b.SrcVersion &&
		a.Vermagic == b.Vermagic && reflect.DeepEqual(a.Depends, b.Depends) && a.RealAddrs == b.RealAddrs &&
		reflect.DeepEqual(a.Symbols, b.Symbols)
}

// TestModuleTreeReadsMatchWholeParse reads every module of a real Debian
// tree with the read-ahead path and compares it with parsing the whole
// file, so that no module needs a byte the reads leave out.
func TestModuleTreeReadsMatchWholeParse(t *testing.T) {
	if os.Getenv("KLPC_INTEGRATION") != "1" {
		t.Skip("KLPC_INTEGRATION=1 runs it on the Debian modules in .cache")
	}
	dirs, _ := filepath.Glob(filepath.Join("..", ".cache", "kernels", "6.1.0-56-amd64", "lib", "modules", "*"))
	if len(dirs) == 0 {
		t.Skip("needs .cache/kernels/6.1.0-56-amd64 (scripts/fetch-kernels.sh 6.1.0-56)")
	}
	files, err := findModuleFiles(dirs[0])
	if err != nil {
		t.Fatal(err)
	}
	rd := newReader(nil)
	for _, f := range files {
		got, _, err := rd.readModuleFile(f, defaultModuleRules, false)
		if err != nil {
			t.Fatal(err)
		}
		data, err := os.ReadFile(f.path)
		if err != nil {
			t.Fatal(err)
		}
		want, err := rd.parseModuleBytes(f.path, data, defaultModuleRules, nil)
		if err != nil {
			t.Fatal(err)
		}
		if !sameObject(got, want) {
			t.Fatalf("%s: the read-ahead path and the whole file differ", f.path)
		}
		checkTraceablePacked(t, f.path, data)
	}
	t.Logf("%d modules compared", len(files))
}

// checkTraceablePacked compares the two ways traceable finds call sites.
func checkTraceablePacked(t *testing.T, path string, data []byte) {
	t.Helper()
	f, err := openELF(path, &bytesReaderAt{data}, int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	syms, err := f.symbols()
	if err != nil {
		t.Fatal(err)
	}
	sites, ok, err := f.ftraceCallSites(syms)
	if err != nil || !ok {
		return
	}
	packed, ok := f.traceablePacked(syms, sites)
	if !ok {
		t.Fatalf("%s: packed call sites refused", path)
	}
	if !reflect.DeepEqual(packed, f.traceableSorted(syms, sites)) {
		t.Fatalf("%s: packed and sorted call sites differ", path)
	}
}

func TestTraceablePackedMatchesSorted(t *testing.T) {
	paths, _ := filepath.Glob(filepath.Join(fixtureMods, "*.ko"))
	if len(paths) == 0 {
		t.Fatal("no fixture modules")
	}
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		checkTraceablePacked(t, p, data)
	}
}
