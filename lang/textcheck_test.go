package lang

import (
	"strings"
	"testing"

	"github.com/klpc/klpc/diag"
)

// TestBinaryFile: a binary file named *.klp.hcl is one error that says so,
// with where the first bad byte is.
func TestBinaryFile(t *testing.T) {
	for name, src := range map[string][]byte{
		"nul.klp.hcl":  []byte("kernel \"k\" {\n  release = \"x\x00\"\n}\n" + strings.Repeat("\x00\x01\x02", 100)),
		"utf8.klp.hcl": []byte("# caf\xe9\nkernel \"k\" {}\n"),
	} {
		_, ds := NewParser().LoadSources(".", map[string][]byte{name: src})
		if len(ds) != 1 || ds[0].Code != diag.NotText || ds[0].Subject == nil || ds[0].Subject.Filename != name {
			t.Errorf("%s: want one %s on the file, got:\n%s", name, diag.NotText, ds.String())
			continue
		}
		if !strings.Contains(ds[0].Detail, name) {
			t.Errorf("%s: detail does not name the file: %s", name, ds[0].Detail)
		}
	}
	_, ds := NewParser().LoadSources(".", map[string][]byte{"nul.klp.hcl": []byte("kernel \"k\" {\n  release = \"x\x00\"\n}\n")})
	if ds[0].Subject.Start.Line != 2 || ds[0].Subject.Start.Column != 15 {
		t.Errorf("NUL at %v, want 2:15", ds[0].Subject.Start)
	}
}

// TestSyntaxErrorCap: a file with many syntax errors reports the first
// few and how many more there are.
func TestSyntaxErrorCap(t *testing.T) {
	src := "kernel \"k\" {\n  release = \"6.1\n" + strings.Repeat("  arch = \"x86_64\"\n", 40) + "}\n"
	_, ds := NewParser().LoadSources(".", map[string][]byte{"many.klp.hcl": []byte(src)})
	syntax, more := 0, 0
	for _, d := range ds {
		switch d.Code {
		case diag.Syntax, diag.InvalidExpression:
			syntax++
		case diag.MoreSyntaxErrors:
			more++
			if !strings.Contains(d.Detail, "many.klp.hcl has ") || !strings.Contains(d.Detail, "more syntax errors") {
				t.Errorf("detail: %s", d.Detail)
			}
		}
	}
	if syntax > maxSyntaxErrors || more != 1 {
		t.Errorf("%d syntax errors and %d notes, want at most %d and 1:\n%s", syntax, more, maxSyntaxErrors, ds.String())
	}
}
