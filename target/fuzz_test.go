package target

import (
	"os"
	"path/filepath"
	"testing"
)

// Fuzz targets: every parser must return an error, never panic, on any
// input. Seeds are real fixture data where it is small enough.

func FuzzKallsyms(f *testing.F) {
	f.Add([]byte("ffffffff81000000 T _text\nffffffffc0000000 t foo\t[mod]\n0000000000000000 t bpf_x\t[bpf]\n"))
	f.Add([]byte("0 A x\n\n\r\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		ks, err := parseKallsyms("kallsyms", data)
		if err == nil {
			ks.Vmlinux.Resolve("foo", 0, "")
			ks.Vmlinux.Resolve("foo", 2, "x.c")
		}
	})
}

func FuzzSystemMap(f *testing.F) {
	f.Add([]byte("ffffffff81000000 T _text\nffffffff81000000 W w\nffffffff81000000 T __start_x\n"))
	f.Add([]byte("ffffffffffffffff B The real System.map is in the linux-image-<version>-dbg package\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		if o, err := parseSystemMap("System.map", data); err == nil {
			o.Resolve("_text", 0, "")
		}
	})
}

// FuzzModule feeds bytes to the ELF module reader (plain, or any of the
// compressed formats by magic number).
func FuzzModule(f *testing.F) {
	// A few mutated bytes can describe a gigabyte of zstd or xz output;
	// keep each run small.
	old := decompressedLimits[KindModule]
	decompressedLimits[KindModule] = 1 << 20
	f.Cleanup(func() { decompressedLimits[KindModule] = old })
	for _, name := range []string{"tcp_scalable.ko", "ttpci-eeprom.ko.zst"} {
		if data, err := os.ReadFile(filepath.Join(fixtureMods, name)); err == nil {
			f.Add(data)
		}
	}
	f.Add([]byte("\x7fELF\x02\x01\x01"))
	f.Fuzz(func(t *testing.T, data []byte) {
		o, err := newReader(nil).parseModuleBytes("x.ko", data, defaultModuleRules)
		if err == nil {
			o.Resolve("foo", 0, "")
			o.Counts()
		}
	})
}

// FuzzVmlinux runs the linked-ELF path (kallsyms ordering, STT_FILE).
func FuzzVmlinux(f *testing.F) {
	if data, err := os.ReadFile(filepath.Join(fixtureMods, "tcp_scalable.ko")); err == nil {
		// Turn the module into an ET_EXEC so the vmlinux path runs.
		exec := append([]byte(nil), data...)
		exec[16] = 2
		f.Add(exec)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if o, err := parseVmlinux("vmlinux", &bytesReaderAt{data}, int64(len(data))); err == nil {
			o.Resolve("foo", 1, "a.c")
		}
	})
}

func FuzzSymvers(f *testing.F) {
	f.Add([]byte("0x4c9d28b0\tphys_base\tvmlinux\tEXPORT_SYMBOL\t\n0x1\tx\tdrivers/x\tEXPORT_SYMBOL_GPL\tNS\n"))
	f.Fuzz(func(t *testing.T, data []byte) { parseSymvers("Module.symvers", data) })
}

func FuzzConfig(f *testing.F) {
	f.Add([]byte("CONFIG_A=y\n# CONFIG_B is not set\nCONFIG_C=\"s\\\"x\"\n"))
	f.Fuzz(func(t *testing.T, data []byte) { parseConfig("config", data) })
}

func FuzzFilterFunctions(f *testing.F) {
	f.Add([]byte("cmdline_proc_show\nfoo [mod]\n__ftrace_invalid_address___64\n"))
	f.Fuzz(func(t *testing.T, data []byte) { parseFilterFunctions("available_filter_functions", data) })
}

// FuzzCacheEntry checks that a damaged cache payload is rejected, never
// trusted into a panic.
func FuzzCacheEntry(f *testing.F) {
	b, err := Load(Spec{Modules: fixtureMods})
	if err == nil {
		f.Add(encodeBuild(b))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if b, err := decodeBuild(string(data)); err == nil {
			for _, n := range b.ModuleNames() {
				b.Modules[n].Resolve("x", 0, "")
			}
		}
	})
}
