package resolve

import (
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/klpc/klpc/diag"
	"github.com/klpc/klpc/lang"
)

// TestUnexportedSymbolFixture: the fixture's replacement calls
// get_avenrun (T in kallsyms, not in Module.symvers) without a symbol
// block; nr_running has one, avenrun and seq_printf are exported, label
// is the source's own. One error, on the source attribute.
func TestUnexportedSymbolFixture(t *testing.T) {
	cfg, diags := lang.LoadDir("testdata/unexported")
	if diags.HasErrors() {
		t.Fatalf("lang: %s", diags.String())
	}
	_, ds := Resolve(cfg, Options{})
	var got []*diag.Diagnostic
	for _, d := range ds {
		if d.Code == diag.UnexportedSymbolUsed {
			got = append(got, d)
		}
	}
	if len(got) != 1 {
		t.Fatalf("want one %s, got:\n%s", diag.UnexportedSymbolUsed, ds.String())
	}
	d := got[0]
	if d.Subject == nil || !strings.HasSuffix(d.Subject.Filename, "main.klp.hcl") || d.Subject.Start.Line != 13 {
		t.Errorf("subject %v, want main.klp.hcl:13 (the ERROR marker)", d.Subject)
	}
	for _, want := range []string{"calls get_avenrun (line 19)", `"get_avenrun" undefined!`, `symbol "get_avenrun" {}`, `object "vmlinux"`} {
		if !strings.Contains(d.Detail, want) {
			t.Errorf("detail lacks %q: %s", want, d.Detail)
		}
	}
}

// TestExampleWithSymbolBlock: examples/klp-symbols declares its symbol;
// without the block the same source is an error.
func TestExampleWithSymbolBlock(t *testing.T) {
	cfg, diags := lang.LoadDir("../../examples/klp-symbols")
	if diags.HasErrors() {
		t.Fatal(diags.String())
	}
	if _, ds := Resolve(cfg, Options{}); hasCode(ds, diag.UnexportedSymbolUsed) {
		t.Fatalf("examples/klp-symbols: %s", ds.String())
	}
	for _, o := range cfg.Fixes[0].Objects {
		o.Symbols = nil
	}
	_, ds := Resolve(cfg, Options{})
	if !hasCode(ds, diag.UnexportedSymbolUsed) || !strings.Contains(ds.String(), "saved_command_line") {
		t.Errorf("without the symbol block: %s", ds.String())
	}
}

func hasCode(ds diag.Diagnostics, c diag.Code) bool {
	for _, d := range ds {
		if d.Code == c {
			return true
		}
	}
	return false
}

func TestScanC(t *testing.T) {
	src := `#include <x.h>
#define CALL(x) hidden_call(x)
extern int ext_var;
int proto(int a);
static int defined_var = init_value, other;
struct s { int member; void (*fn)(void); };
// comment_ident()
static int helper(struct s *p, int n) { return p->member + n; }
int entry(struct s *sp)
{
	int local = 0, *lp = &local;
	char *str = "string_ident()";
	struct s q;
	q.member = ext_var + sp->member;
	out:
	helper(&q, *lp);
	called(defined_var, 'c');
	goto out;
	return proto(other);
}
`
	s := ScanC([]byte(src))
	var refs []string
	for name := range s.Refs {
		refs = append(refs, name)
	}
	sort.Strings(refs)
	if want := []string{"called", "ext_var", "proto"}; !reflect.DeepEqual(refs, want) {
		t.Errorf("refs %v, want %v", refs, want)
	}
	for _, name := range []string{"defined_var", "other", "helper", "entry"} {
		if !s.Defined[name] {
			t.Errorf("%s not defined", name)
		}
	}
	for _, name := range []string{"ext_var", "proto"} {
		if !s.Declared[name] || s.Defined[name] {
			t.Errorf("%s: declared %v, defined %v", name, s.Declared[name], s.Defined[name])
		}
	}
	if s.Refs["called"] != 17 {
		t.Errorf("called first on line %d, want 17", s.Refs["called"])
	}
}

// FuzzScanC: any input scans without a panic or a hang.
func FuzzScanC(f *testing.F) {
	f.Add([]byte("int f(void) { return g(1); }"))
	f.Add([]byte("/* unterminated"))
	f.Add([]byte("\"unterminated\n#define X \\\n y\n}}}{{{;;"))
	f.Fuzz(func(t *testing.T, data []byte) {
		s := ScanC(data)
		for name := range s.Refs {
			if name == "" {
				t.Fatal("empty name")
			}
		}
	})
}
