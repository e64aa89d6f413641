package target

import (
	"archive/tar"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/klpc/klpc/target/deb"
	"github.com/klpc/klpc/target/image"
)

// cachedImage returns the kernel image scripts/fetch-kernels.sh unpacked
// for a release, or "".
func cachedImage(rel string) string {
	root := filepath.Join("..", ".cache", "kernels", rel)
	if _, err := os.Stat(filepath.Join(root, ".complete")); err != nil {
		return ""
	}
	for _, p := range []string{
		filepath.Join(root, "boot", "vmlinuz-"+rel),
		filepath.Join(root, "usr", "lib", "modules", rel, "vmlinuz"),
		filepath.Join(root, "lib", "modules", rel, "vmlinuz"),
	} {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	return ""
}

// TestVmlinuzMatchesCapture decodes each cached Debian kernel image that
// has a capture under kernels/<release>/ (kallsyms and
// available_filter_functions read from the running kernel by
// scripts/capture-kernel-facts.sh) and checks that the image alone gives
// the same vmlinux symbols, in the same order, with the same types and
// addresses, and the same ftrace records.
//
// What the capture has and the image cannot: lines of loaded modules
// ("[name]"), BPF programs ("[bpf]"), ftrace trampolines and kprobe pages
// ("[__builtin__*]"), which ReadKallsyms keeps out of vmlinux; they are
// not compared. Call sites in init text are in the image but freed at the
// end of boot (ftrace_free_init_mem), so the capture cannot list them.
// Nothing else may differ: per-cpu symbols ('A', 0-based values on
// absolute-percpu kernels) are compared as values, the rest relative to
// _text, and the left-over call sites of overridden weak functions are
// compared under the name the kernel lists them by.
func TestVmlinuzMatchesCapture(t *testing.T) {
	if os.Getenv("KLPC_INTEGRATION") != "1" {
		t.Skip("KLPC_INTEGRATION=1 runs it on the Debian kernel images in .cache")
	}
	dirs, _ := filepath.Glob(filepath.Join("..", "kernels", "*"))
	ran := 0
	for _, dir := range dirs {
		rel := filepath.Base(dir)
		if _, err := os.Stat(filepath.Join(dir, "kallsyms.gz")); err != nil {
			continue
		}
		t.Run(rel, func(t *testing.T) {
			img := cachedImage(rel)
			if img == "" {
				t.Skipf("no cached image for %s (scripts/fetch-kernels.sh)", rel)
			}
			ran++
			checkAgainstCapture(t, dir, img)
		})
	}
	if ran == 0 {
		t.Fatal("no kernels/<release>/ capture has a cached image")
	}
}

func checkAgainstCapture(t *testing.T, dir, img string) {
	k, err := image.ReadFile(img)
	if err != nil {
		t.Fatal(err)
	}
	ks, err := ReadKallsyms(filepath.Join(dir, "kallsyms.gz"))
	if err != nil {
		t.Fatal(err)
	}
	got, want := k.Symbols, ks.Vmlinux.Symbols
	var init, disabled int
	for _, s := range k.Sites {
		if s.Init {
			init++
		} else if s.Disabled {
			disabled++
		}
	}
	t.Logf("%s: %s, %d symbols, %d call sites: %d live, %d disabled, %d in init text; IBT %v",
		img, k.Layout, len(got), len(k.Sites), countLive(k), disabled, init, k.IBT)

	// Addresses are compared relative to _text, so a capture made with
	// KASLR on would match too; per-cpu symbols of an absolute-percpu
	// kernel are 0-based values that KASLR does not move.
	base := func(syms []image.Symbol) uint64 {
		for _, s := range syms {
			if s.Name == "_text" {
				return s.Addr
			}
		}
		t.Fatal("no _text")
		return 0
	}
	gotText := base(got)
	var wantText uint64
	for _, s := range want {
		if s.Name == "_text" {
			wantText = s.Addr
		}
	}
	rel := func(a, text uint64, abs bool) uint64 {
		if abs {
			return a
		}
		return a - text
	}
	if len(got) != len(want) {
		t.Errorf("%d symbols decoded, %d captured", len(got), len(want))
	}
	bad := 0
	for i := 0; i < min(len(got), len(want)); i++ {
		g, w := got[i], want[i]
		abs := k.AbsolutePercpu && g.Type == 'A'
		if g.Name != w.Name || g.Type != w.Type || rel(g.Addr, gotText, abs) != rel(w.Addr, wantText, abs) {
			if bad++; bad <= 10 {
				t.Errorf("symbol %d: decoded %016x %c %s, captured %016x %c %s", i, g.Addr, g.Type, g.Name, w.Addr, w.Type, w.Name)
			}
		}
	}
	if bad > 0 {
		t.Errorf("%d of %d symbols differ", bad, len(want))
	}

	// available_filter_functions lists every live record by name (t_show
	// prints %ps of rec->ip), so the decoded live sites must give the same
	// multiset of names.
	ffPath := filepath.Join(dir, "available_filter_functions.gz")
	if _, err := os.Stat(ffPath); err != nil {
		t.Logf("no %s: traceability not compared", ffPath)
		return
	}
	ff, err := ReadFilterFunctions(ffPath)
	if err != nil {
		t.Fatal(err)
	}
	// Disabled records (the left-over call sites of overridden weak
	// functions) are listed too, under the name print_rec makes up.
	names := map[string]int{}
	for _, s := range k.Sites {
		switch {
		case s.Live():
			names[k.Symbols[s.Sym].Name]++
		case !s.Init && s.Disabled && s.Sym >= 0:
			names[fmt.Sprintf("__ftrace_invalid_address___%d", s.IP-k.Symbols[s.Sym].Addr)]++
		}
	}
	var diffs []string
	for _, n := range sortedKeys(names) {
		if names[n] != ff.Vmlinux[n] {
			diffs = append(diffs, fmt.Sprintf("%s: %d decoded, %d captured", n, names[n], ff.Vmlinux[n]))
		}
	}
	for _, n := range sortedKeys(ff.Vmlinux) {
		if _, ok := names[n]; !ok {
			diffs = append(diffs, fmt.Sprintf("%s: 0 decoded, %d captured", n, ff.Vmlinux[n]))
		}
	}
	sort.Strings(diffs)
	if len(diffs) > 0 {
		t.Errorf("%d ftrace names differ:\n%s", len(diffs), strings.Join(diffs[:min(len(diffs), 20)], "\n"))
	}

	// The Object agrees with what the capture decides by name, except
	// for aliases: the capture names only the first symbol at an address
	// (get_symbol_pos), while ftrace_location, which klp_patch_func uses,
	// finds the record from any of them.
	o := vmlinuzObject(img, k)
	fromCapture := &Object{Symbols: append([]Symbol(nil), o.Symbols...)}
	fromCapture.applyFilterFunctions(ff.Vmlinux)
	aliased := func(i int) bool {
		return i > 0 && o.Symbols[i-1].Addr == o.Symbols[i].Addr ||
			i+1 < len(o.Symbols) && o.Symbols[i+1].Addr == o.Symbols[i].Addr
	}
	for i, s := range o.Symbols {
		c := fromCapture.Symbols[i].Traceable
		if s.Func && c != Unknown && c != s.Traceable && !aliased(i) {
			t.Errorf("%s: traceable %v from the image, %v from the capture", s.Name, s.Traceable, c)
		}
	}
}

func countLive(k *image.Kernel) int {
	n := 0
	for _, s := range k.Sites {
		if s.Live() {
			n++
		}
	}
	return n
}

// TestDiscoverKernelImages checks where Discover looks for kernel images:
// boot/vmlinuz-REL beside lib/modules/REL (Debian 6.1, 6.12), the image
// inside usr/lib/modules/REL (Debian 7.x), and a modules folder given
// directly.
func TestDiscoverKernelImages(t *testing.T) {
	touch := func(p string) {
		os.MkdirAll(filepath.Dir(p), 0o755)
		os.WriteFile(p, nil, 0o644)
	}
	root := t.TempDir()
	old := filepath.Join(root, "old")
	touch(filepath.Join(old, "boot", "vmlinuz-6.1.0-9-amd64"))
	touch(filepath.Join(old, "boot", "config-6.1.0-9-amd64"))
	touch(filepath.Join(old, "lib", "modules", "6.1.0-9-amd64", "kernel", "fs", "a.ko"))
	sid := filepath.Join(root, "sid")
	touch(filepath.Join(sid, "usr", "lib", "modules", "7.2.1-amd64", "vmlinuz"))
	touch(filepath.Join(sid, "usr", "lib", "modules", "7.2.1-amd64", "kernel", "fs", "a.ko.xz"))
	for _, tt := range []struct {
		dir  string
		want Spec
	}{
		{old, Spec{Vmlinuz: filepath.Join(old, "boot", "vmlinuz-6.1.0-9-amd64"), Config: filepath.Join(old, "boot", "config-6.1.0-9-amd64"),
			Modules: filepath.Join(old, "lib", "modules", "6.1.0-9-amd64")}},
		{filepath.Join(old, "lib", "modules", "6.1.0-9-amd64"), Spec{Vmlinuz: filepath.Join(old, "boot", "vmlinuz-6.1.0-9-amd64"),
			Config: filepath.Join(old, "boot", "config-6.1.0-9-amd64"), Modules: filepath.Join(old, "lib", "modules", "6.1.0-9-amd64")}},
		{sid, Spec{Vmlinuz: filepath.Join(sid, "usr", "lib", "modules", "7.2.1-amd64", "vmlinuz"), Modules: filepath.Join(sid, "usr", "lib", "modules", "7.2.1-amd64")}},
		{filepath.Join(sid, "usr", "lib", "modules", "7.2.1-amd64"), Spec{Vmlinuz: filepath.Join(sid, "usr", "lib", "modules", "7.2.1-amd64", "vmlinuz"),
			Modules: filepath.Join(sid, "usr", "lib", "modules", "7.2.1-amd64")}},
	} {
		got, err := Discover(tt.dir)
		if err != nil || got != tt.want {
			t.Errorf("Discover(%s) = %+v, %v\nwant %+v", tt.dir, got, err, tt.want)
		}
	}
}

// TestLoadVmlinuzWithKallsyms loads a build from a kernel image and a saved
// kallsyms: the kallsyms order wins and the image adds traceability.
func TestLoadVmlinuzWithKallsyms(t *testing.T) {
	img := cachedImage("6.1.0-56-amd64")
	if img == "" {
		t.Skip("no cached 6.1.0-56-amd64 image (scripts/fetch-kernels.sh 6.1.0-56)")
	}
	b, err := Load(Spec{Vmlinuz: img, Kallsyms: filepath.Join("..", "kernels", "6.1.0-56-amd64", "kallsyms.gz")})
	if err != nil {
		t.Fatal(err)
	}
	if b.Vmlinux.Source != "kallsyms" {
		t.Errorf("vmlinux from %s", b.Vmlinux.Source)
	}
	r := b.Vmlinux.Resolve("cmdline_proc_show", 0, "")
	if r.Problem != OK {
		t.Errorf("cmdline_proc_show: %s", r.Describe())
	}
	if c := b.Counts(); c.Traceable < 30000 {
		t.Errorf("counts %+v", c)
	}
}

// TestVmlinuzExports checks each cached kernel image, whether or not a
// capture of its running kernel exists, against its Module.symvers (from
// the headers installed in /usr/src or the cached sid chroot, or read
// from the cached linux-headers package): every symbol vmlinux exports
// must be decoded, as a global (upper-case) symbol.
func TestVmlinuzExports(t *testing.T) {
	if os.Getenv("KLPC_INTEGRATION") != "1" {
		t.Skip("KLPC_INTEGRATION=1 runs it on the Debian kernel images in .cache")
	}
	rels, _ := filepath.Glob(filepath.Join("..", ".cache", "kernels", "*-amd64"))
	for _, dir := range rels {
		rel := filepath.Base(dir)
		img := cachedImage(rel)
		if img == "" {
			continue
		}
		t.Run(rel, func(t *testing.T) {
			exports := symversFor(t, rel)
			if exports == nil {
				t.Skipf("no Module.symvers for %s", rel)
			}
			k, err := image.ReadFile(img)
			if err != nil {
				t.Fatal(err)
			}
			types := map[string]byte{}
			for _, s := range k.Symbols {
				if _, ok := types[s.Name]; !ok || s.Type >= 'A' && s.Type <= 'Z' {
					types[s.Name] = s.Type
				}
			}
			n, missing := 0, 0
			for _, e := range exports {
				if e.Module != VmlinuxName {
					continue
				}
				n++
				typ, ok := types[e.Symbol]
				if !ok || typ < 'A' || typ > 'Z' {
					if missing++; missing <= 10 {
						t.Errorf("export %s: decoded type %q", e.Symbol, typ)
					}
				}
			}
			t.Logf("%s: %s, %d symbols; %d vmlinux exports, %d missing", rel, k.Layout, len(k.Symbols), n, missing)
			// Functions the e2e suites livepatch on every line.
			o := vmlinuzObject(img, k)
			for _, fn := range []string{"cmdline_proc_show", "version_proc_show", "meminfo_proc_show"} {
				if r := o.Resolve(fn, 0, ""); r.Problem != OK {
					t.Errorf("%s: %s", fn, r.Describe())
				}
			}
			if n < 10000 {
				t.Errorf("only %d vmlinux exports", n)
			}
		})
	}
}

// symversFor finds the Module.symvers of a release, or returns nil.
func symversFor(t *testing.T, rel string) []Export {
	cands := []string{filepath.Join("/usr/src", "linux-headers-"+rel, "Module.symvers")}
	chroots, _ := filepath.Glob(filepath.Join("..", ".cache", "chroot", "*", "usr", "src", "linux-headers-"+rel, "Module.symvers"))
	cands = append(cands, chroots...)
	for _, p := range cands {
		if _, err := os.Stat(p); err == nil {
			e, err := ReadSymvers(p)
			if err != nil {
				t.Fatal(err)
			}
			return e
		}
	}
	debs, _ := filepath.Glob(filepath.Join("..", ".cache", "kernels", "debs", "linux-headers-"+rel+"_*.deb"))
	for _, p := range debs {
		var data []byte
		f, err := os.Open(p)
		if err != nil {
			t.Fatal(err)
		}
		err = deb.Walk(p, f, deb.DefaultLimits, func(h *tar.Header, body io.Reader) error {
			if body != nil && strings.HasSuffix(h.Name, "/Module.symvers") {
				data, err = io.ReadAll(body)
				if err == nil {
					err = io.EOF
				}
				return err
			}
			return nil
		})
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		if data != nil {
			e, err := parseSymvers(p, data)
			if err != nil {
				t.Fatal(err)
			}
			return e
		}
	}
	return nil
}

// TestDiscoverSourceTree checks that a kernel/ folder alone (a source tree
// with no modules built) is not taken for a modules folder.
func TestDiscoverSourceTree(t *testing.T) {
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "kernel", "livepatch"), 0o755)
	os.WriteFile(filepath.Join(dir, ".config"), []byte("CONFIG_LIVEPATCH=y\n"), 0o644)
	s, err := Discover(dir)
	if err != nil || s.Modules != "" || s.Config == "" {
		t.Errorf("Discover = %+v, %v", s, err)
	}
}
