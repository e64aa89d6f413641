package target

import (
	"bytes"
	"compress/gzip"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func writeFile(t *testing.T, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func gzipped(data []byte) []byte {
	var b bytes.Buffer
	w := gzip.NewWriter(&b)
	w.Write(data)
	w.Close()
	return b.Bytes()
}

// realModule returns the bytes of a real uncompressed fixture module.
func realModule(t *testing.T) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(fixtureMods, "tcp_scalable.ko"))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func TestMalformedInputs(t *testing.T) {
	ko := realModule(t)
	truncatedGz := gzipped([]byte(strings.Repeat("ffffffff81000000 T _text\n", 1000)))
	truncatedGz = truncatedGz[:len(truncatedGz)/2]
	// Corrupt the symbol table's string table link in a copy of the module.
	badLink := corruptSymtabLink(t, ko)

	tests := []struct {
		name    string
		file    string
		data    []byte
		read    func(string) error
		wantErr string // substring, after "<path>"
	}{
		{"kallsyms: missing name", "kallsyms", []byte("ffffffff81000000 T _text\nffffffff81000010 T\n"),
			readKallsyms, ":2: want \"address type name\""},
		{"kallsyms: bad address", "kallsyms", []byte("zzzz T _text\n"), readKallsyms, ":1: bad address \"zzzz\""},
		{"kallsyms: address too long", "kallsyms", []byte("1ffffffff81000000 T _text\n"), readKallsyms, ":1: bad address"},
		{"kallsyms: bad type", "kallsyms", []byte("ffffffff81000000 TT _text\n"), readKallsyms, ":1: bad symbol type \"TT\""},
		{"kallsyms: bad module column", "kallsyms", []byte("ffffffffc0000000 t foo\tmod\n"), readKallsyms, ":1: bad module column \"mod\""},
		{"kallsyms: too many fields", "kallsyms", []byte("ffffffffc0000000 t foo [mod] x\n"), readKallsyms, ":1: too many fields"},
		{"kallsyms: name too long", "kallsyms", []byte("ffffffff81000000 t " + strings.Repeat("a", 600) + "\n"), readKallsyms, ":1: symbol name longer than KSYM_NAME_LEN"},
		{"kallsyms: control characters", "kallsyms", []byte("ffffffff81000000 T \x1b[2Jx\n"), readKallsyms, ":1: symbol name \"\\x1b[2Jx\" holds control characters"},
		{"kallsyms: control characters in module", "kallsyms", []byte("ffffffffc0000000 t foo\t[m\x07]\n"), readKallsyms, ":1: module name \"m\\a\" holds control characters"},
		{"symvers: control characters", "Module.symvers", []byte("0x1\tfoo\x1b\tvmlinux\tEXPORT_SYMBOL\t\n"), readSymvers, ":1: control characters in symbol \"foo\\x1b\""},
		{"ftrace: control characters", "available_filter_functions", []byte("foo\x7f\n"), readFtrace, ":1: control characters in \"foo\\x7f\""},
		{"kallsyms: empty", "kallsyms", []byte("\n\n"), readKallsyms, ": no symbols"},
		{"kallsyms: truncated gzip", "kallsyms.gz", truncatedGz, readKallsyms, ": compressed data is truncated"},
		{"kallsyms: bad gzip header", "kallsyms.gz", []byte{0x1f, 0x8b, 0, 0}, readKallsyms, ": bad gzip data"},
		{"System.map: Debian placeholder", "System.map-6.1.0-56-amd64",
			[]byte("ffffffffffffffff B The real System.map is in the linux-image-<version>-dbg package\n"),
			readSystemMap, ":1: this is Debian's placeholder System.map; the real one is in the linux-image-<version>-dbg package"},
		{"System.map: module column", "System.map", []byte("ffffffff81000000 T _text [x]\n"), readSystemMap, ":1: too many fields"},
		{"module: not ELF", "x.ko", []byte("hello, world, this is not an ELF file at all, it is just some text.."), readModuleErr, ": not an ELF file (bad magic)"},
		{"module: too short", "x.ko", []byte("\x7fELF"), readModuleErr, ": not an ELF file (only 4 bytes)"},
		{"module: truncated", "x.ko", ko[:len(ko)/2], readModuleErr, ": truncated ELF file"},
		{"module: 32-bit", "x.ko", append([]byte("\x7fELF\x01\x01"), make([]byte, 100)...), readModuleErr, ": unsupported ELF class/encoding"},
		{"module: bad strtab link", "x.ko", badLink, readModuleErr, ": symbol table has no valid string table"},
		{"module: truncated xz", "x.ko.xz", []byte{0xfd, '7', 'z', 'X', 'Z', 0x00, 0, 4}, readModuleErr, ": "},
		{"symvers: too few fields", "Module.symvers", []byte("0x1234\tfoo\n"), readSymvers, ":1: want 5 tab-separated fields"},
		{"symvers: bad crc", "Module.symvers", []byte("1234\tfoo\tvmlinux\tEXPORT_SYMBOL\t\n"), readSymvers, ":1: bad CRC \"1234\""},
		{"symvers: bad type", "Module.symvers", []byte("0x1\tfoo\tvmlinux\tEXPORT\t\n"), readSymvers, ":1: bad export type \"EXPORT\""},
		{"config: garbage", "config", []byte("CONFIG_A=y\nnot a config line\n"), readConfig, ":2: want CONFIG_NAME=value"},
		{"config: bad string", "config", []byte("CONFIG_A=\"unterminated\n"), readConfig, ":1: bad string value for CONFIG_A"},
		{"ftrace: bad module", "available_filter_functions", []byte("foo\nbar mod\n"), readFtrace, ":2: want \"name\" or \"name [module]\""},
		{"ftrace: too many fields", "available_filter_functions", []byte("foo [a] b\n"), readFtrace, ":1: want \"name\" or \"name [module]\""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := writeFile(t, tt.file, tt.data)
			err := tt.read(p)
			if err == nil {
				t.Fatalf("no error, want %q", tt.wantErr)
			}
			if !strings.HasPrefix(err.Error(), p+tt.wantErr) {
				t.Errorf("error\n  %v\nwant prefix\n  %s%s", err, p, tt.wantErr)
			}
		})
	}
}

func readKallsyms(p string) error  { _, err := ReadKallsyms(p); return err }
func readSystemMap(p string) error { _, err := ReadSystemMap(p); return err }
func readModuleErr(p string) error { _, err := ReadModule(p); return err }
func readSymvers(p string) error   { _, err := ReadSymvers(p); return err }
func readConfig(p string) error    { _, err := ReadConfig(p); return err }
func readFtrace(p string) error    { _, err := ReadFilterFunctions(p); return err }

// corruptSymtabLink points the .symtab section's sh_link at section 0.
func corruptSymtabLink(t *testing.T, ko []byte) []byte {
	t.Helper()
	out := bytes.Clone(ko)
	f, err := openELF("x", &bytesReaderAt{out}, int64(len(out)))
	if err != nil {
		t.Fatal(err)
	}
	shoff := le.Uint64(out[40:])
	for i, s := range f.sections {
		if s.typ == shtSymtab {
			le.PutUint32(out[shoff+uint64(i)*shdrSize+40:], 0)
			return out
		}
	}
	t.Fatal("no symtab")
	return nil
}

func TestKallsymsRestrictedAndModules(t *testing.T) {
	// kptr_restrict shows zero addresses; module symbols carry [mod] and
	// pseudo-modules are not modules.
	data := "0000000000000000 T _text\n" +
		"0000000000000000 t dup\n" +
		"0000000000000000 t dup\n" +
		"0000000000000000 t helper\t[foo_bar]\n" +
		"0000000000000000 t helper\t[foo_bar]\n" +
		"0000000000000000 T helper\t[other]\n" +
		"0000000000000000 t bpf_prog_6deef7357e7b4530\t[bpf]\n" +
		"0000000000000000 t ftrace_trampoline\t[__builtin__ftrace]\n" +
		"0000000000000000 t kprobe_insn_page\t[__builtin__kprobes]\n"
	ks, err := parseKallsyms("kallsyms", []byte(data))
	if err != nil {
		t.Fatal(err)
	}
	if ks.Vmlinux.RealAddrs || len(ks.Vmlinux.Symbols) != 3 {
		t.Errorf("vmlinux: RealAddrs=%v symbols=%d", ks.Vmlinux.RealAddrs, len(ks.Vmlinux.Symbols))
	}
	if got := strings.Join(sortedKeys(ks.Modules), ","); got != "foo_bar,other" {
		t.Errorf("modules %s", got)
	}
	// Zero addresses do not make a symbol "not found" when they are hidden.
	if r := ks.Vmlinux.Resolve("dup", 2, ""); r.Problem != OK || r.Sympos != 2 {
		t.Errorf("restricted kallsyms: %v", r.Describe())
	}
	if r := ks.Modules["foo_bar"].Resolve("helper", 0, ""); r.Problem != Ambiguous {
		t.Errorf("module helper: %v", r.Describe())
	}
	if r := ks.Modules["other"].Resolve("helper", 0, ""); r.Problem != OK {
		t.Errorf("other helper: %v", r.Describe())
	}
	if _, ok := ks.Modules["bpf"]; ok {
		t.Error("bpf is not a module")
	}
}

func TestKallsymsZeroAddressIsNotFound(t *testing.T) {
	// With real addresses, klp_find_object_symbol treats address 0 (a
	// per-cpu offset) as "not found".
	data := "0000000000000000 A fixed_percpu_data\nffffffff81000000 T _text\n"
	ks, err := parseKallsyms("kallsyms", []byte(data))
	if err != nil {
		t.Fatal(err)
	}
	if r := ks.Vmlinux.Resolve("fixed_percpu_data", 0, ""); r.Problem != NotFound || len(r.Candidates) != 1 {
		t.Errorf("per-cpu symbol at 0: %v", r.Describe())
	}
}

func TestSystemMapKallsymsOrder(t *testing.T) {
	// scripts/kallsyms keeps nm order except at equal addresses, where it
	// puts non-weak before weak, linker-provided symbols last, and fewer
	// leading underscores first; absolute symbols and __crc_ are dropped.
	data := "ffffffff81000000 W weak_first\n" +
		"ffffffff81000000 T __start_section\n" +
		"ffffffff81000000 T __underscored\n" +
		"ffffffff81000000 T plain\n" +
		"0000000000001234 A absolute\n" +
		"ffffffff81000010 r __crc_foo\n" +
		"ffffffff81000020 t dup\n" +
		"ffffffff81000030 t dup\n"
	o, err := parseSystemMap("System.map", []byte(data))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, s := range o.Symbols {
		names = append(names, s.Name)
	}
	if got, want := strings.Join(names, " "), "plain __underscored __start_section weak_first dup dup"; got != want {
		t.Errorf("order\n got %s\nwant %s", got, want)
	}
}
