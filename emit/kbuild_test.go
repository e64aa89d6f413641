package emit

import (
	"bytes"
	"context"
	"debug/elf"
	"encoding/binary"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/klpc/klpc/kabi"
)

const debianHeaders = "/usr/src/linux-headers-6.1.0-56-amd64"

// TestKbuildRealHeaders emits examples/quickstart, builds the module with
// kbuild against Debian's 6.1 headers and reads the .ko back: its
// .modinfo, and the klp_func table the generated C file holds.
func TestKbuildRealHeaders(t *testing.T) {
	if _, err := os.Stat(debianHeaders); err != nil {
		if os.Getenv("KLPC_E2E") == "1" {
			t.Fatalf("KLPC_E2E=1 but the headers are missing: %v", err)
		}
		t.Skipf("no kernel headers: %v", err)
	}
	if _, err := exec.LookPath("make"); err != nil {
		if os.Getenv("KLPC_E2E") == "1" {
			t.Fatal("KLPC_E2E=1 but make is missing")
		}
		t.Skip("no make")
	}
	p := planDir(t, "../examples/quickstart")
	out := filepath.Join(t.TempDir(), "out")
	if _, d := Emit(context.Background(), p, out, Options{}); d.HasErrors() {
		t.Fatal(d.String())
	}
	dir := filepath.Join(out, "deb12-56", "lp_quickstart")
	cmd := exec.Command("make", "-C", dir, "KDIR="+debianHeaders)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("make: %v\n%s", err, b)
	} else if bytes.Contains(b, []byte("warning:")) {
		t.Errorf("the build warns:\n%s", b)
	}

	var man struct {
		Module   string `json:"module"`
		Vermagic string `json:"vermagic"`
		Modinfo  []struct{ Key, Value string }
		Objects  []struct {
			Funcs []struct {
				OldName string `json:"old_name"`
				NewFunc string `json:"new_func"`
			} `json:"funcs"`
		} `json:"objects"`
	}
	data, err := os.ReadFile(filepath.Join(dir, "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &man); err != nil {
		t.Fatal(err)
	}

	f, err := elf.Open(filepath.Join(dir, "lp_quickstart.ko"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	modinfo := map[string]bool{}
	sec := f.Section(".modinfo")
	if sec == nil {
		t.Fatal("no .modinfo")
	}
	raw, _ := sec.Data()
	for _, e := range bytes.Split(raw, []byte{0}) {
		modinfo[string(e)] = true
	}
	for _, want := range []string{"livepatch=Y", "name=lp_quickstart", "vermagic=" + man.Vermagic} {
		if !modinfo[want] {
			t.Errorf(".modinfo lacks %q: %q", want, raw)
		}
	}
	for _, e := range man.Modinfo {
		if !modinfo[e.Key+"="+e.Value] {
			t.Errorf("manifest entry %s=%q is not in .modinfo", e.Key, e.Value)
		}
	}
	if man.Vermagic != "6.1.0-56-amd64 SMP preempt mod_unload modversions " {
		t.Errorf("vermagic %q", man.Vermagic)
	}

	// The klp_func array: old_name is its first field, new_func the
	// second; both are relocations of the array's section.
	old, newFunc := funcEntry(t, f, cPrefix+"funcs_0")
	if want := man.Objects[0].Funcs[0]; old != want.OldName || newFunc != want.NewFunc {
		t.Errorf("klp_func holds %q -> %q, want %q -> %q", old, newFunc, want.OldName, want.NewFunc)
	}
	if old != "cmdline_proc_show" || newFunc != "klpc_cmdline_proc_show" {
		t.Errorf("klp_func holds %q -> %q", old, newFunc)
	}
}

// funcEntry reads the first struct klp_func of the array named sym: the
// string its old_name points to and the symbol of its new_func.
func funcEntry(t *testing.T, f *elf.File, sym string) (oldName, newFunc string) {
	t.Helper()
	syms, err := f.Symbols()
	if err != nil {
		t.Fatal(err)
	}
	var arr *elf.Symbol
	for i := range syms {
		if syms[i].Name == sym {
			arr = &syms[i]
		}
	}
	if arr == nil {
		t.Fatalf("no symbol %s", sym)
	}
	target := int(arr.Section)
	for _, rs := range f.Sections {
		if rs.Type != elf.SHT_RELA || int(rs.Info) != target {
			continue
		}
		data, err := rs.Data()
		if err != nil {
			t.Fatal(err)
		}
		rels := make([]elf.Rela64, len(data)/24)
		if err := binary.Read(bytes.NewReader(data), f.ByteOrder, rels); err != nil {
			t.Fatal(err)
		}
		for _, r := range rels {
			s := syms[elf.R_SYM64(r.Info)-1]
			switch r.Off {
			case arr.Value: // old_name
				str := f.Sections[s.Section]
				b, _ := str.Data()
				off := s.Value + uint64(r.Addend)
				if off < uint64(len(b)) {
					oldName, _, _ = strings.Cut(string(b[off:]), "\x00")
				}
			case arr.Value + 8: // new_func
				newFunc = s.Name
			}
		}
	}
	if oldName == "" || newFunc == "" {
		t.Fatalf("no relocations for %s's first entry", sym)
	}
	return oldName, newFunc
}

// TestKlpConvertRealBuild builds examples/klp-symbols with its emitted
// Makefile, which runs klpc klp-convert after kbuild, and checks the
// livepatch ELF layout of the .ko: the reference to saved_command_line
// (not exported by vmlinux) is a .klp.sym symbol in SHN_LIVEPATCH, used
// only from a .klp.rela.vmlinux section flagged SHF_ALLOC|SHF_RELA_LIVEPATCH.
func TestKlpConvertRealBuild(t *testing.T) {
	if _, err := os.Stat(debianHeaders); err != nil {
		if os.Getenv("KLPC_E2E") == "1" {
			t.Fatalf("KLPC_E2E=1 but the headers are missing: %v", err)
		}
		t.Skipf("no kernel headers: %v", err)
	}
	tmp := t.TempDir()
	klpc := filepath.Join(tmp, "klpc")
	if b, err := exec.Command("go", "build", "-o", klpc, "../cmd/klpc").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, b)
	}
	p := planDir(t, "../examples/klp-symbols")
	out := filepath.Join(tmp, "out")
	if _, d := Emit(context.Background(), p, out, Options{}); d.HasErrors() {
		t.Fatal(d.String())
	}
	dir := filepath.Join(out, "deb12-56", "lp_marker")
	if b, err := exec.Command("make", "-C", dir, "KDIR="+debianHeaders, "KLPC="+klpc).CombinedOutput(); err != nil {
		t.Fatalf("make: %v\n%s", err, b)
	}
	checkForeignManifests(t, filepath.Join(dir, "manifest.json"), filepath.Join(dir, "lp_marker.ko"))
	f, err := elf.Open(filepath.Join(dir, "lp_marker.ko"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	syms, err := f.Symbols()
	if err != nil {
		t.Fatal(err)
	}
	klpSym := -1
	for i, s := range syms {
		switch s.Name {
		case "saved_command_line":
			t.Errorf("saved_command_line is still an ordinary symbol (section %v)", s.Section)
		case ".klp.sym.vmlinux.saved_command_line,0":
			klpSym = i + 1 // relocation symbol indexes count the null symbol
			if s.Section != kabi.SHNLivepatch || elf.ST_BIND(s.Info) != elf.STB_GLOBAL {
				t.Errorf("%s: section %#x, bind %v", s.Name, int(s.Section), elf.ST_BIND(s.Info))
			}
		}
	}
	if klpSym < 0 {
		t.Fatal("no .klp.sym symbol")
	}
	found := false
	for _, sec := range f.Sections {
		if sec.Type != elf.SHT_RELA {
			continue
		}
		data, err := sec.Data()
		if err != nil {
			t.Fatal(err)
		}
		uses := 0
		for off := 0; off+24 <= len(data); off += 24 {
			if int(f.ByteOrder.Uint64(data[off+8:])>>32) == klpSym {
				uses++
			}
		}
		if sec.Name == ".klp.rela.vmlinux.text" {
			found = true
			if sec.Flags != elf.SHF_ALLOC|kabi.SHFRelaLivepatch || f.Sections[sec.Info].Name != ".text" || uses == 0 {
				t.Errorf("%s: flags %#x, applies to %s, %d uses", sec.Name, uint64(sec.Flags), f.Sections[sec.Info].Name, uses)
			}
		} else if uses > 0 {
			t.Errorf("%s still relocates against the .klp.sym symbol", sec.Name)
		}
	}
	if !found {
		t.Error("no .klp.rela.vmlinux.text section")
	}
}

// checkForeignManifests: klp-convert refuses a manifest of another module,
// vermagic (kernel) or set of functions, and leaves the module as it was.
func checkForeignManifests(t *testing.T, manifestPath, ko string) {
	t.Helper()
	orig, err := os.ReadFile(manifestPath)
	if err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(ko)
	for what, edit := range map[string]func(m map[string]any){
		"module":   func(m map[string]any) { m["module"] = "lp_other" },
		"vermagic": func(m map[string]any) { m["vermagic"] = "6.12.1-amd64 SMP preempt mod_unload modversions " },
		"function": func(m map[string]any) {
			fn := m["objects"].([]any)[0].(map[string]any)["funcs"].([]any)[0].(map[string]any)
			fn["old_name"] = "some_other_function"
		},
	} {
		var m map[string]any
		if err := json.Unmarshal(orig, &m); err != nil {
			t.Fatal(err)
		}
		edit(m)
		data, _ := json.Marshal(m)
		foreign := filepath.Join(t.TempDir(), "manifest.json")
		os.WriteFile(foreign, data, 0o644)
		if _, err := ConvertModule(foreign, ko); err == nil || !strings.Contains(err.Error(), "does not describe") {
			t.Errorf("foreign %s: %v", what, err)
		}
		if after, _ := os.ReadFile(ko); !bytes.Equal(before, after) {
			t.Fatalf("foreign %s: the module was rewritten", what)
		}
	}
}
