package planhtml

import (
	"bytes"
	"html/template"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/klpc/klpc/diag"
	"github.com/klpc/klpc/internal/golden"
	"github.com/klpc/klpc/lang"
	"github.com/klpc/klpc/plan"
	"github.com/klpc/klpc/plan/planner"
)

func planDir(t *testing.T, dir string) *plan.Plan {
	t.Helper()
	cfg, diags := lang.LoadDir(dir)
	return planner.Plan(cfg, diags, planner.Options{})
}

// TestGolden keeps the page of every example as a golden file and renders
// twice to check it is byte for byte the same.
func TestGolden(t *testing.T) {
	dirs, _ := filepath.Glob("../../examples/*")
	if len(dirs) < 3 {
		t.Fatalf("examples missing: %v", dirs)
	}
	for _, dir := range dirs {
		if filepath.Base(dir) == "fleet" {
			continue // plans against real packages in the cache (plan/planner's TestFleetExample)
		}
		t.Run(filepath.Base(dir), func(t *testing.T) {
			first, err := Render(planDir(t, dir), Options{})
			if err != nil {
				t.Fatal(err)
			}
			second, _ := Render(planDir(t, dir), Options{})
			if !bytes.Equal(first, second) {
				t.Fatal("two renderings of the same input differ")
			}
			checkSelfContained(t, first)
			golden.Check(t, filepath.Join("testdata", filepath.Base(dir)+".html"), first)
		})
	}
}

// checkSelfContained fails on anything a browser would fetch.
func checkSelfContained(t *testing.T, page []byte) {
	t.Helper()
	for _, re := range []*regexp.Regexp{
		regexp.MustCompile(`(?i)<script`),
		regexp.MustCompile(`(?i)<link\b`),
		regexp.MustCompile(`(?i)\bsrc\s*=`),
		regexp.MustCompile(`(?i)url\(`),
		regexp.MustCompile(`(?i)@import`),
		regexp.MustCompile(`(?i)href="(?:[a-z]+:|//)`),
	} {
		if loc := re.FindIndex(page); loc != nil {
			t.Errorf("the page is not self-contained: %q", page[max(loc[0]-40, 0):min(loc[1]+40, len(page))])
		}
	}
}

// TestCumulativeTimeline checks the cells of examples/cumulative: step 4
// reverts version_proc_show to the original code, and the error about it
// is marked in that step's column with a link to its snippet.
func TestCumulativeTimeline(t *testing.T) {
	page, err := Render(planDir(t, "../../examples/cumulative"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	s := string(page)
	for _, want := range []string{
		`<tr data-function="vmlinux:version_proc_show">`,
		`<td class="impl original changed reverted" data-step="4" data-impl="original" data-change="-"`,
		`<td class="impl replaced lp1 changed" data-step="2" data-impl="lp-2024-06:klpc_version_proc_show" data-change="&#43;"`,
		`<a class="error" href="#diag-1">`,
		`<div class="diag error" id="diag-1" data-code="replace-drops-fix">`,
		`<mark>[fix.cve-cmdline, fix.cve-meminfo]</mark>`,
		`data-line="6.1"`,
	} {
		if !strings.Contains(s, want) {
			t.Errorf("the page lacks %s", want)
		}
	}
}

// TestEscaping: text from the plan never becomes markup.
func TestEscaping(t *testing.T) {
	p := &plan.Plan{
		Kernels: []*plan.Kernel{{Name: "k<b>", Release: "6.1.0-1-amd64"}},
		Deployments: []*plan.Deployment{{Name: "d\"onload=x", Kernel: "k<b>", Steps: []*plan.Step{{
			Index: 1, Action: "load", Livepatch: "lp</td>", Reason: "<script>alert(1)</script>",
			Functions:   plan.FunctionsOf(map[string]plan.Impl{"vmlinux:f<i>": {Kind: plan.Replaced, Livepatch: "lp</td>", New: "n&m"}}, nil),
			Diagnostics: []int{0},
		}}}},
		Diagnostics: diag.Diagnostics{diag.Errorf("x", &diag.Range{Filename: "a.klp.hcl", Start: diag.Pos{Line: 1, Column: 1}, End: diag.Pos{Line: 1, Column: 4}}, "<img>", "detail <b>")},
		Sources:     diag.Sources{"a.klp.hcl": []byte("<x>\n")},
	}
	page, err := Render(p, Options{})
	if err != nil {
		t.Fatal(err)
	}
	checkSelfContained(t, page)
	for _, bad := range []string{"k<b>", "f<i>", "<img>", "<script>", "lp</td>", `"onload`, "<x>", "detail <b>"} {
		if strings.Contains(string(page), bad) {
			t.Errorf("unescaped %q in the page", bad)
		}
	}
}

// TestHTMLEscapeMatchesTemplate: the rows and matrix cells written in Go
// escape text as html/template does, in text and in quoted attributes.
func TestHTMLEscapeMatchesTemplate(t *testing.T) {
	tmpl := template.Must(template.New("t").Parse(`<p title="{{.}}">{{.}}</p>`))
	for _, s := range []string{"", "plain", `a"b'c`, "x<y>z&w", "1+1", "nul\x00byte", "é ✓ \xff", "-> <-"} {
		var want bytes.Buffer
		if err := tmpl.Execute(&want, s); err != nil {
			t.Fatal(err)
		}
		var esc strings.Builder
		htmlEscape(&esc, s)
		if got := `<p title="` + esc.String() + `">` + esc.String() + `</p>`; got != want.String() {
			t.Errorf("%q: %s, want %s", s, got, want.String())
		}
	}
}
