package target

import (
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// Committed real fixtures from Debian's 6.1.0-56-amd64 (6.1.192-2); see
// kernels/6.1.0-56-amd64/README.md.
var (
	fixtureDir     = filepath.Join("..", "kernels", "6.1.0-56-amd64")
	fixtureMods    = filepath.Join(fixtureDir, "modules")
	fixtureKallsym = filepath.Join(fixtureDir, "kallsyms.gz")
	fixtureFtrace  = filepath.Join(fixtureDir, "available_filter_functions.gz")
)

var (
	fixtureOnce  sync.Once
	fixtureBuild *Build
	fixtureErr   error
)

// loadFixture loads the whole fixture build once per test binary.
func loadFixture(t testing.TB) *Build {
	t.Helper()
	fixtureOnce.Do(func() {
		spec, err := Discover(fixtureDir)
		if err != nil {
			fixtureErr = err
			return
		}
		fixtureBuild, fixtureErr = Load(spec)
	})
	if fixtureErr != nil {
		t.Fatal(fixtureErr)
	}
	return fixtureBuild
}

func TestDiscoverFixtures(t *testing.T) {
	spec, err := Discover(fixtureDir)
	if err != nil {
		t.Fatal(err)
	}
	for field, got := range map[string]string{
		"Kallsyms": spec.Kallsyms, "Modules": spec.Modules, "Symvers": spec.Symvers,
		"Config": spec.Config, "Ftrace": spec.Ftrace,
	} {
		if got == "" {
			t.Errorf("Discover did not find %s in %s", field, fixtureDir)
		}
	}
	if spec.SystemMap != "" || spec.Vmlinux != "" {
		t.Errorf("unexpected System.map/vmlinux: %+v", spec)
	}
}

// candidatesString renders candidates compactly for comparisons:
// "sympos type addr [file] traceable;" per candidate.
func candidatesString(cs []Candidate) string {
	var b strings.Builder
	for _, c := range cs {
		fmt.Fprintf(&b, "%d %c %#x", c.Sympos, c.Type, c.Addr)
		if c.File != "" {
			fmt.Fprintf(&b, " %s", c.File)
		}
		fmt.Fprintf(&b, " %s;", c.Traceable)
	}
	return b.String()
}

func TestResolveVmlinuxKallsyms(t *testing.T) {
	b := loadFixture(t)
	vm, ok := b.Object("vmlinux")
	if !ok || vm.Source != "kallsyms" {
		t.Fatalf("vmlinux object: %+v", vm)
	}
	if n := len(vm.Symbols); n != 94266 {
		t.Errorf("vmlinux symbols = %d, want 94266 (every line of the saved /proc/kallsyms)", n)
	}
	tests := []struct {
		name, file string
		sympos     int
		problem    Problem
		resolved   int
		candidates string // "" means do not check
	}{
		// A unique, traceable function: sympos 0 and 1 both work.
		{name: "cmdline_proc_show", problem: OK, resolved: 1, candidates: "1 t 0xffffffff814105a0 yes;"},
		{name: "cmdline_proc_show", sympos: 1, problem: OK, resolved: 1},
		{name: "cmdline_proc_show", sympos: 2, problem: SymposOutOfRange},
		// Two static functions share the name: sympos 0 is ambiguous and
		// every candidate is listed in kallsyms (address) order.
		{name: "xfrm_hash_resize", problem: Ambiguous,
			candidates: "1 t 0xffffffff818fb8c0 yes;2 t 0xffffffff81906f50 yes;"},
		{name: "xfrm_hash_resize", sympos: 2, problem: OK, resolved: 2},
		{name: "xfrm_hash_resize", sympos: 3, problem: SymposOutOfRange},
		// Duplicated and absent from available_filter_functions: both
		// copies are notrace.
		{name: "xen_mc_batch", sympos: 1, problem: NotTraceable},
		{name: "native_sched_clock", problem: NotTraceable},
		// Data, not code.
		{name: "jiffies", problem: NotFunction},
		{name: "no_such_function_anywhere", problem: NotFound},
		// kallsyms carries no source files, so file selection cannot work.
		{name: "xfrm_hash_resize", file: "net/xfrm/xfrm_policy.c", problem: FileNotFound},
	}
	for _, tt := range tests {
		r := vm.Resolve(tt.name, tt.sympos, tt.file)
		if r.Problem != tt.problem || r.Sympos != tt.resolved {
			t.Errorf("Resolve(%s, %d, %q) = %v sympos %d, want %v sympos %d\n%s", tt.name, tt.sympos, tt.file,
				r.Problem, r.Sympos, tt.problem, tt.resolved, r.Describe())
		}
		if tt.candidates != "" {
			if got := candidatesString(r.Candidates); got != tt.candidates {
				t.Errorf("Resolve(%s): candidates %s, want %s", tt.name, got, tt.candidates)
			}
		}
		if (r.Problem == OK) != (r.Err() == nil) {
			t.Errorf("Resolve(%s): Err() = %v with problem %v", tt.name, r.Err(), r.Problem)
		}
	}
	r := vm.Resolve("xfrm_hash_resize", 0, "")
	if msg := r.Describe(); !strings.Contains(msg, "unresolvable ambiguity for symbol 'xfrm_hash_resize' in object 'vmlinux'") ||
		!strings.Contains(msg, "sympos 2: t 0xffffffff81906f50") {
		t.Errorf("ambiguity message lacks the kernel wording or candidates:\n%s", msg)
	}
	if r.Candidates[0].Unique || !vm.Resolve("cmdline_proc_show", 0, "").Candidates[0].Unique {
		t.Error("Unique must be set only for a name with one candidate")
	}
}

func TestResolveSuggestions(t *testing.T) {
	b := loadFixture(t)
	vm, _ := b.Object("vmlinux")
	r := vm.Resolve("cmdline_proc_sho", 0, "")
	if r.Problem != NotFound || len(r.Suggestions) == 0 || r.Suggestions[0] != "cmdline_proc_show" {
		t.Errorf("suggestions for a typo: %v %v", r.Problem, r.Suggestions)
	}
	// A name that only exists as GCC clones: suggest the clones.
	r = vm.Resolve("ac6_get_next", 0, "")
	if r.Problem != NotFound || len(r.Suggestions) == 0 || r.Suggestions[0] != "ac6_get_next.isra.0" {
		t.Errorf("suggestions for a cloned function: %v %v", r.Problem, r.Suggestions)
	}
}

func TestResolveModules(t *testing.T) {
	b := loadFixture(t)
	tests := []struct {
		object, name string
		sympos       int
		problem      Problem
		resolved     int
		candidates   string
	}{
		// virtio_pci links virtio_pci_legacy.c and virtio_pci_modern.c,
		// which both define static vp_get, setup_vq, vp_reset...: module
		// sympos counts in the module's own symtab order.
		{object: "virtio_pci", name: "vp_get", problem: Ambiguous, candidates: "1 t 0x7a0 yes;2 t 0x1a50 yes;"},
		{object: "virtio_pci", name: "vp_get", sympos: 1, problem: OK, resolved: 1},
		{object: "virtio_pci", name: "vp_get", sympos: 2, problem: OK, resolved: 2},
		{object: "virtio_pci", name: "vp_get", sympos: 3, problem: SymposOutOfRange},
		{object: "virtio_pci", name: "setup_vq", sympos: 2, problem: OK, resolved: 2, candidates: "1 t 0x120 yes;2 t 0x1b10 yes;"},
		// .cold parts are split off by GCC and carry no fentry call.
		{object: "virtio_pci", name: "setup_vq.cold", sympos: 1, problem: NotTraceable},
		// Same-named data in both files: counted the same way, not code.
		{object: "virtio_pci", name: "virtio_pci_config_ops", sympos: 2, problem: NotFunction},
		// Inline functions are notrace in the kernel (compiler_types.h);
		// the out-of-line copy has no __mcount_loc entry.
		{object: "ttpci_eeprom", name: "eth_zero_addr", problem: NotTraceable, candidates: "1 t 0x0 no;"},
		{object: "ttpci_eeprom", name: "ttpci_eeprom_parse_mac", problem: OK, resolved: 1},
		// Hand-written assembly has no fentry call either.
		{object: "sha256_ssse3", name: "sha256_transform_ssse3", problem: NotTraceable},
		// Assembly labels are NOTYPE symbols, counted but not functions.
		{object: "sha256_ssse3", name: "done_hash", problem: Ambiguous},
		{object: "sha256_ssse3", name: "done_hash", sympos: 3, problem: NotFunction},
		// __exit functions are notrace.
		{object: "tcp_scalable", name: "tcp_scalable_unregister", problem: NotTraceable},
		{object: "tcp_scalable", name: "tcp_scalable_ssthresh", problem: OK, resolved: 1},
		// __init functions live in .init.text, which the module loader
		// frees: once the module is live they are gone.
		{object: "tcp_scalable", name: "tcp_scalable_register", problem: NotFound},
	}
	for _, tt := range tests {
		o, ok := b.Object(tt.object)
		if !ok {
			t.Fatalf("no module %s; have %v", tt.object, b.ModuleNames())
		}
		r := o.Resolve(tt.name, tt.sympos, "")
		if r.Problem != tt.problem || r.Sympos != tt.resolved {
			t.Errorf("%s: Resolve(%s, %d) = %v sympos %d, want %v sympos %d\n%s", tt.object, tt.name, tt.sympos,
				r.Problem, r.Sympos, tt.problem, tt.resolved, r.Describe())
		}
		if tt.candidates != "" {
			if got := candidatesString(r.Candidates); got != tt.candidates {
				t.Errorf("%s: Resolve(%s): candidates %s, want %s", tt.object, tt.name, got, tt.candidates)
			}
		}
	}
	// An init function is counted while the module is still loading
	// (klp_module_coming runs before do_init_module frees .init.text).
	o, _ := b.Object("tcp_scalable")
	if r := o.Resolve("tcp_scalable_register", 0, ""); !r.LoadOrderDependent {
		t.Errorf("init function should be reported as load-order dependent: %+v", r)
	}
}

func TestModuleInfo(t *testing.T) {
	b := loadFixture(t)
	tests := []struct {
		name, file, srcversion string
		depends                []string
	}{
		{"virtio_pci", "virtio_pci.ko.xz", "2526A0E335FCA2331138131", []string{"virtio_ring", "virtio_pci_modern_dev", "virtio_pci_legacy_dev", "virtio"}},
		// The file name has '-', the module name '_' (from .modinfo name=).
		{"ttpci_eeprom", "ttpci-eeprom.ko.zst", "", nil},
		{"sha256_ssse3", "sha256-ssse3.ko.gz", "", nil},
		{"tcp_scalable", "tcp_scalable.ko", "", nil},
	}
	if got := b.ModuleNames(); strings.Join(got, ",") != "sha256_ssse3,tcp_scalable,ttpci_eeprom,virtio_pci" {
		t.Errorf("ModuleNames = %v", got)
	}
	for _, tt := range tests {
		o, ok := b.Object(strings.ReplaceAll(tt.name, "_", "-")) // lookups normalise '-'
		if !ok {
			t.Fatalf("no module %s", tt.name)
		}
		if filepath.Base(o.Path) != tt.file || o.Source != "module" {
			t.Errorf("%s: path %s source %s", tt.name, o.Path, o.Source)
		}
		if o.SrcVersion != tt.srcversion {
			t.Errorf("%s: srcversion %q, want %q", tt.name, o.SrcVersion, tt.srcversion)
		}
		if o.Vermagic != "6.1.0-56-amd64 SMP preempt mod_unload modversions " {
			t.Errorf("%s: vermagic %q", tt.name, o.Vermagic)
		}
		if strings.Join(o.Depends, ",") != strings.Join(tt.depends, ",") {
			t.Errorf("%s: depends %v, want %v", tt.name, o.Depends, tt.depends)
		}
	}
}

func TestSymversAndConfig(t *testing.T) {
	b := loadFixture(t)
	if len(b.Exports) != 24683 {
		t.Errorf("exports = %d, want 24683", len(b.Exports))
	}
	for _, want := range []Export{
		{Symbol: "phys_base", CRC: 0x4c9d28b0, Module: "vmlinux", Type: "EXPORT_SYMBOL"},
		{Symbol: "alloc_free_mem_region", CRC: 0x7fa19cc4, Module: "vmlinux", Type: "EXPORT_SYMBOL_GPL", Namespace: "CXL"},
	} {
		if got, ok := b.Export(want.Symbol); !ok || got != want {
			t.Errorf("Export(%s) = %+v, %v; want %+v", want.Symbol, got, ok, want)
		}
	}
	for k, want := range map[string]string{
		"CONFIG_LIVEPATCH":        "y",
		"CONFIG_KALLSYMS_ALL":     "y",
		"CONFIG_TEST_LIVEPATCH":   "n", // "# CONFIG_TEST_LIVEPATCH is not set"
		"CONFIG_DEFAULT_HOSTNAME": "(none)",
		"CONFIG_LOCALVERSION":     "",
	} {
		if got, ok := b.Config[k]; !ok || got != want {
			t.Errorf("config %s = %q (%v), want %q", k, got, ok, want)
		}
	}
	if !b.Config.Enabled("CONFIG_DYNAMIC_FTRACE") || b.Config.Enabled("CONFIG_TEST_LIVEPATCH") {
		t.Error("Config.Enabled")
	}
}

func TestBuildCountsAndInputs(t *testing.T) {
	b := loadFixture(t)
	c := b.Counts()
	if c.Traceable <= 0 || c.Functions <= c.Traceable || c.Symbols <= c.Functions {
		t.Errorf("implausible counts %+v", c)
	}
	if len(b.Inputs) != 8 {
		t.Fatalf("inputs = %d, want 8: %+v", len(b.Inputs), b.Inputs)
	}
	// Without the cache nothing needs the input hashes: none are computed.
	for _, in := range b.Inputs {
		if in.SHA256 != "" || in.Size <= 0 || !filepath.IsAbs(in.Path) {
			t.Errorf("bad input record %+v", in)
		}
	}
	spec, err := Discover(fixtureDir)
	if err != nil {
		t.Fatal(err)
	}
	cached, err := LoadCached(spec, Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	for _, in := range cached.Inputs {
		if len(in.SHA256) != 64 || in.Size <= 0 || !filepath.IsAbs(in.Path) {
			t.Errorf("bad input record %+v", in)
		}
	}
}

func TestReadersDirectly(t *testing.T) {
	ks, err := ReadKallsyms(fixtureKallsym)
	if err != nil {
		t.Fatal(err)
	}
	if !ks.Vmlinux.RealAddrs || len(ks.Modules) != 0 {
		t.Errorf("kallsyms: RealAddrs=%v modules=%d", ks.Vmlinux.RealAddrs, len(ks.Modules))
	}
	ff, err := ReadFilterFunctions(fixtureFtrace)
	if err != nil {
		t.Fatal(err)
	}
	if ff.Vmlinux["cmdline_proc_show"] != 1 || ff.Vmlinux["xfrm_hash_resize"] != 2 {
		t.Errorf("filter functions counts: %d %d", ff.Vmlinux["cmdline_proc_show"], ff.Vmlinux["xfrm_hash_resize"])
	}
	mods, err := ReadModules(fixtureMods)
	if err != nil {
		t.Fatal(err)
	}
	if len(mods) != 4 {
		t.Errorf("ReadModules: %d modules", len(mods))
	}
	if _, err := ReadModule(filepath.Join(fixtureMods, "virtio_pci.ko.xz")); err != nil {
		t.Error(err)
	}
}
