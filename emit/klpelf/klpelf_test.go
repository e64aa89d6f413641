package klpelf

import (
	"bytes"
	"debug/elf"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/klpc/klpc/kabi"
)

// object compiles C into a relocatable object with the real toolchain.
func object(t testing.TB, src string) []byte {
	t.Helper()
	if _, err := exec.LookPath("gcc"); err != nil {
		t.Skip("no gcc")
	}
	dir := t.TempDir()
	c := filepath.Join(dir, "x.c")
	if err := os.WriteFile(c, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	o := filepath.Join(dir, "x.o")
	if b, err := exec.Command("gcc", "-O2", "-fno-pic", "-mcmodel=kernel", "-c", "-o", o, c).CombinedOutput(); err != nil {
		t.Fatalf("gcc: %v\n%s", err, b)
	}
	data, err := os.ReadFile(o)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

const src = `
extern char *hidden_line;
extern int hidden_count;
extern int exported_thing;
int use(void) { return hidden_line[0] + hidden_count + exported_thing; }
int *where(void) { return &hidden_count; }
`

func TestConvert(t *testing.T) {
	in := object(t, src)
	out, rep, err := Convert(in, []Symbol{
		{Object: "vmlinux", Name: "hidden_line"},
		{Object: "vmlinux", Name: "hidden_count", Sympos: 2},
		{Object: "vmlinux", Name: "not_used"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Converted) != 2 || len(rep.Unreferenced) != 1 || rep.Unreferenced[0] != "not_used" {
		t.Errorf("report %+v", rep)
	}
	f, err := elf.NewFile(bytes.NewReader(out))
	if err != nil {
		t.Fatalf("the result is not ELF: %v", err)
	}
	syms, _ := f.Symbols()
	names := map[string]elf.Symbol{}
	for _, s := range syms {
		names[s.Name] = s
	}
	for _, n := range []string{".klp.sym.vmlinux.hidden_line,0", ".klp.sym.vmlinux.hidden_count,2"} {
		if s, ok := names[n]; !ok || s.Section != kabi.SHNLivepatch {
			t.Errorf("%s: %+v (present %v)", n, s, ok)
		}
	}
	if s, ok := names["exported_thing"]; !ok || s.Section != elf.SHN_UNDEF {
		t.Errorf("exported_thing changed: %+v", s)
	}
	klp := f.Section(".klp.rela.vmlinux.text")
	if klp == nil {
		t.Fatal("no .klp.rela.vmlinux.text")
	}
	if klp.Flags != elf.SHF_ALLOC|kabi.SHFRelaLivepatch || klp.Entsize != 24 || klp.Size != uint64(rep.Sections[".klp.rela.vmlinux.text"]*24) {
		t.Errorf("section %+v, report %v", klp.SectionHeader, rep.Sections)
	}
	// Every relocation of .text still exists, in one section or the other.
	before, _ := elf.NewFile(bytes.NewReader(in))
	if n, m := before.Section(".rela.text").Size, f.Section(".rela.text").Size+klp.Size; n != m {
		t.Errorf("relocations of .text: %d bytes before, %d after", n, m)
	}
	// Everything else is as it was: the text itself, for one.
	a, _ := before.Section(".text").Data()
	b, _ := f.Section(".text").Data()
	if !bytes.Equal(a, b) {
		t.Error(".text changed")
	}
	// Converting again changes nothing more.
	again, rep2, err := Convert(out, []Symbol{{Object: "vmlinux", Name: "hidden_line"}})
	if err != nil || len(rep2.Converted) != 0 || !bytes.Equal(again, out) {
		t.Errorf("second conversion: %v %+v", err, rep2)
	}
}

func TestConvertRefusesDefinedSymbols(t *testing.T) {
	in := object(t, "int mine = 1;\nint get(void) { return mine; }\n")
	if _, _, err := Convert(in, []Symbol{{Object: "vmlinux", Name: "mine"}}); err == nil {
		t.Error("a symbol the module defines was converted")
	}
}

func TestConvertRejectsGarbage(t *testing.T) {
	in := object(t, src)
	for _, bad := range [][]byte{nil, []byte("not elf"), in[:64], in[:len(in)/2]} {
		if _, _, err := Convert(bad, []Symbol{{Object: "vmlinux", Name: "hidden_line"}}); err == nil {
			t.Errorf("%d bytes of garbage converted", len(bad))
		}
	}
}

func FuzzConvert(f *testing.F) {
	f.Add(object(f, src))
	f.Fuzz(func(t *testing.T, data []byte) {
		_, _, _ = Convert(data, []Symbol{{Object: "vmlinux", Name: "hidden_line"}, {Object: "m", Name: "hidden_count", Sympos: 1}})
	})
}
