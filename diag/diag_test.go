package diag

import (
	"bytes"
	"slices"
	"strings"
	"testing"
)

func at(file string, line, col, endLine, endCol int) *Range {
	return &Range{Filename: file, Start: Pos{Line: line, Column: col}, End: Pos{Line: endLine, Column: endCol}}
}

func text(ds Diagnostics, src Sources, opts TextOptions) string {
	var b bytes.Buffer
	WriteText(&b, ds, src, opts)
	return b.String()
}

func TestWriteText(t *testing.T) {
	src := Sources{
		"a.klp.hcl":   []byte("fix \"a\" {\n  fixes = [fix.a, fix.b]\r\n\tnew = \"x\"\n}\n"),
		"bad.klp.hcl": []byte("name = \"\xff\xfeé\"\n"),
	}
	for _, c := range []struct {
		name string
		d    *Diagnostic
		opts TextOptions
		want string
	}{{
		name: "snippet and related",
		d: Errorf(ReplaceDropsFix, at("a.klp.hcl", 2, 11, 2, 25), "Replace release drops a fix", "It drops fix %q.", "a").
			WithRelated("the step that loads it", *at("a.klp.hcl", 4, 1, 4, 2)).
			WithRelated("an empty range is left out", Range{}),
		want: "a.klp.hcl:2:11: error: Replace release drops a fix [replace-drops-fix]\n" +
			" 2 |   fixes = [fix.a, fix.b]\n" +
			"   |           ^^^^^^^^^^^^^^\n" +
			"  It drops fix \"a\".\n" +
			"  a.klp.hcl:4:1: the step that loads it\n\n",
	}, {
		name: "tab shown as a space, range past the line end clipped",
		d:    Warnf(StackedNonReplace, at("a.klp.hcl", 3, 2, 3, 80), "Stacked", "Detail."),
		want: "a.klp.hcl:3:2: warning: Stacked [stacked-non-replace]\n" +
			" 3 |  new = \"x\"\n" +
			"   |  ^^^^^^^^^\n" +
			"  Detail.\n\n",
	}, {
		name: "multi-line subject underlines to the end of its first line",
		d:    Errorf(Syntax, at("a.klp.hcl", 1, 9, 4, 2), "Block", "D."),
		want: "a.klp.hcl:1:9: error: Block [syntax]\n" +
			" 1 | fix \"a\" {\n" +
			"   |         ^\n" +
			"  D.\n\n",
	}, {
		name: "empty range gets one caret",
		d:    Errorf(Syntax, at("a.klp.hcl", 1, 1, 1, 1), "Empty", ""),
		want: "a.klp.hcl:1:1: error: Empty [syntax]\n" +
			" 1 | fix \"a\" {\n" +
			"   | ^\n\n",
	}, {
		name: "no subject",
		d:    Errorf(NoConfigFiles, nil, "No configuration files", "The folder %q holds no *.klp.hcl file.", "x"),
		want: "klpc: error: No configuration files [no-config-files]\n" +
			"  The folder \"x\" holds no *.klp.hcl file.\n\n",
	}, {
		name: "subject past the end of the file or in an unknown file: no snippet",
		d:    Errorf(Syntax, at("a.klp.hcl", 40, 1, 40, 3), "Far", "D."),
		want: "a.klp.hcl:40:1: error: Far [syntax]\n  D.\n\n",
	}, {
		name: "unknown file",
		d:    Errorf(Syntax, at("gone.klp.hcl", 1, 1, 1, 3), "Gone", "D."),
		want: "gone.klp.hcl:1:1: error: Gone [syntax]\n  D.\n\n",
	}, {
		name: "invalid UTF-8 replaced, columns count runes",
		d:    Errorf(InvalidName, at("bad.klp.hcl", 1, 8, 1, 11), "Bad", "D."),
		want: "bad.klp.hcl:1:8: error: Bad [invalid-name]\n" +
			" 1 | name = \"?é\"\n" +
			"   |        ^^^\n" +
			"  D.\n\n",
	}, {
		name: "wrapping at width, long words alone, paragraphs kept",
		d:    Errorf(Syntax, nil, "Wrap", "one two three four five six\nseven averyveryverylongword eight"),
		opts: TextOptions{Width: 14},
		want: "klpc: error: Wrap [syntax]\n" +
			"  one two\n" + // lines of at most 14 columns with the indent
			"  three four\n" +
			"  five six\n" +
			"  seven\n" +
			"  averyveryverylongword\n" +
			"  eight\n\n",
	}, {
		name: "colour",
		d:    Warnf(Syntax, nil, "W", "d"),
		opts: TextOptions{Colour: true},
		want: "\x1b[1mklpc: \x1b[33mwarning\x1b[0m\x1b[1m: W\x1b[0m [syntax]\n  d\n\n",
	}} {
		t.Run(c.name, func(t *testing.T) {
			if got := text(Diagnostics{c.d}, src, c.opts); got != c.want {
				t.Errorf("got:\n%q\nwant:\n%q", got, c.want)
			}
		})
	}
}

func TestWriteTextDefaultWidth(t *testing.T) {
	words := strings.Repeat("word ", 60)
	got := text(Diagnostics{Errorf(Syntax, nil, "S", "%s", words)}, nil, TextOptions{})
	for _, line := range strings.Split(got, "\n") {
		if len(line) > 100 {
			t.Errorf("line of %d columns, want at most 100: %q", len(line), line)
		}
	}
	if n := strings.Count(got, "word"); n != 60 {
		t.Errorf("%d words, want 60", n)
	}
}

func TestDiagnostics(t *testing.T) {
	var ds Diagnostics
	if ds.HasErrors() || ds.String() != "" {
		t.Errorf("empty diagnostics: HasErrors %v, String %q", ds.HasErrors(), ds.String())
	}
	ds = append(ds, Warnf(StackedNonReplace, at("f", 2, 3, 2, 4), "W", "w %d", 1))
	if ds.HasErrors() {
		t.Error("a warning is not an error")
	}
	ds = append(ds, Errorf(NoFixes, nil, "E", "e"))
	if !ds.HasErrors() {
		t.Error("HasErrors false with an error")
	}
	if e, w := ds.Count(); e != 1 || w != 1 {
		t.Errorf("Count = %d, %d; want 1, 1", e, w)
	}
	if got := ds.Codes(); !slices.Equal(got, []Code{StackedNonReplace, NoFixes}) {
		t.Errorf("Codes = %v", got)
	}
	if want := "f:2:3: warning: W [stacked-non-replace]: w 1\nerror: E [no-fixes]: e"; ds.String() != want {
		t.Errorf("String = %q, want %q", ds.String(), want)
	}
	if r := (Range{}); !r.Empty() || at("f", 1, 1, 1, 1).Empty() {
		t.Error("Empty")
	}
	r := *at("f", 1, 2, 1, 3)
	p := r.Ptr()
	p.Filename = "g"
	if r.Filename != "f" {
		t.Error("Ptr does not copy")
	}
	if Error.String() != "error" || Warning.String() != "warning" {
		t.Error("Severity.String")
	}
}
