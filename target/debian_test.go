package target

import (
	"os"
	"path/filepath"
	"testing"
)

// These tests use whole Debian kernel packages unpacked by
// scripts/fetch-kernels.sh into the git-ignored .cache folder, and skip
// when they are absent.

func debianModules(t testing.TB, abi string) string {
	t.Helper()
	dir := filepath.Join("..", ".cache", "kernels", abi+"-amd64", "lib", "modules", abi+"-amd64")
	if _, err := os.Stat(dir); err != nil {
		t.Skipf("%s not unpacked (scripts/fetch-kernels.sh %s)", dir, abi)
	}
	return dir
}

func TestDebianWholeImage(t *testing.T) {
	dir := debianModules(t, "6.1.0-56")
	if testing.Short() {
		t.Skip("reads 4023 modules")
	}
	mods, err := ReadModules(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(mods) != 4023 {
		t.Errorf("%d modules, want 4023", len(mods))
	}
	nfs := mods["nfs"]
	if nfs == nil || nfs.Vermagic != "6.1.0-56-amd64 SMP preempt mod_unload modversions " {
		t.Fatalf("nfs module: %+v", nfs)
	}
	for _, tt := range []struct {
		name    string
		problem Problem
	}{
		{"nfs_alloc_client", OK},
		{"nfs_access_max_cachesize", NotFunction},
		{"init_nfs_fs", NotFound}, // __init: freed once the module is live
	} {
		if r := nfs.Resolve(tt.name, 0, ""); r.Problem != tt.problem {
			t.Errorf("nfs %s: %s", tt.name, r.Describe())
		}
	}
	// Placeholder System.map: a clear diagnostic.
	maps, _ := filepath.Glob(filepath.Join(dir, "..", "..", "..", "boot", "System.map-*"))
	for _, m := range maps {
		if _, err := ReadSystemMap(m); err == nil {
			t.Errorf("%s: placeholder accepted", m)
		}
	}
}

// TestDebianBuildsDiffer resolves the same function on two real builds:
// in 6.1.0-47 xt_AUDIT has an out-of-line audit_ip4, in 6.1.0-56 the
// compiler inlined it and the symbol is gone, so a patch written against
// the older build does not load on the newer one.
func TestDebianBuildsDiffer(t *testing.T) {
	old := debianModules(t, "6.1.0-47")
	cur := debianModules(t, "6.1.0-56")
	read := func(dir string) *Object {
		o, err := ReadModule(filepath.Join(dir, "kernel", "net", "netfilter", "xt_AUDIT.ko"))
		if err != nil {
			t.Fatal(err)
		}
		return o
	}
	a, b := read(old), read(cur)
	if a.SrcVersion == b.SrcVersion && a.Vermagic == b.Vermagic {
		t.Errorf("expected different module versions: %s/%s", a.Vermagic, b.Vermagic)
	}
	ra, rb := a.Resolve("audit_ip4", 0, ""), b.Resolve("audit_ip4", 0, "")
	if ra.Problem != OK || ra.Sympos != 1 {
		t.Errorf("6.1.0-47 audit_ip4: %s", ra.Describe())
	}
	if rb.Problem != NotFound {
		t.Errorf("6.1.0-56 audit_ip4: %s", rb.Describe())
	}
}

// BenchmarkIndexDebianModules indexes the whole unpacked 6.1.0-56 image
// (4023 modules) from scratch: read, hash and parse every file.
func BenchmarkIndexDebianModules(b *testing.B) {
	dir := debianModules(b, "6.1.0-56")
	for i := 0; i < b.N; i++ {
		if _, err := Load(Spec{Modules: dir}); err != nil {
			b.Fatal(err)
		}
	}
}
