// Package planhtml renders a typed plan as one self-contained HTML page:
// a timeline per deployment (steps across, functions down, each cell the
// implementation the function runs after the step), the release x kernel
// matrix, and the diagnostics with their source snippets. The page has
// no external assets (inline CSS and SVG only, no script) and the same
// plan always gives the same bytes.
//
// It reads the plan package's types only, like the text renderer and the
// plan JSON, never the configuration.
package planhtml

import (
	"bytes"
	"fmt"
	"html/template"
	"io"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/klpc/klpc/diag"
	"github.com/klpc/klpc/kabi"
	"github.com/klpc/klpc/plan"
)

// Options tune the page.
type Options struct {
	// Title heads the page; "klpc plan" when empty.
	Title string
}

// Render returns the page of a plan.
func Render(p *plan.Plan, opts Options) ([]byte, error) {
	var b bytes.Buffer
	if err := Write(&b, p, opts); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// Write writes the page of a plan to w.
func Write(w io.Writer, p *plan.Plan, opts Options) error {
	return page().Execute(w, build(p, opts))
}

// The view model: everything the template shows, computed in Go so the
// template stays a layout.
type view struct {
	Title       string
	Summary     string
	Errors      int
	Warnings    int
	Kernels     []kernelView
	Matrix      matrixView
	Deployments []deploymentView
	Diagnostics []diagView
	Legend      []legendView
}

type kernelView struct {
	Name, Release, Line, Verified, How string
}

type matrixView struct {
	Kernels []string
	Rows    []matrixRow
}

type matrixRow struct {
	Livepatch string
	Mode      string
	Fixes     string
	Cells     []matrixCell
}

type matrixCell struct {
	Kernel string
	Built  bool
	build  *plan.Build
}

// ModulesHTML lists the cell's modules and the functions each patches,
// written when the template reaches the cell (a fleet's matrix names
// hundreds of thousands of functions), escaped as html/template does.
func (c matrixCell) ModulesHTML() template.HTML {
	var b strings.Builder
	for _, m := range c.build.Modules {
		b.WriteString("<li><code>")
		htmlEscape(&b, m.Name)
		b.WriteString("</code>: ")
		first := true
		for _, o := range m.Objects {
			for _, f := range o.Funcs {
				if !first {
					b.WriteString(", ")
				}
				first = false
				b.WriteString("<code>")
				htmlEscape(&b, f.Key)
				b.WriteString("</code>")
			}
		}
		b.WriteString("</li>")
	}
	return template.HTML(b.String())
}

type deploymentView struct {
	ID      string
	Name    string
	Kernel  string
	Release string
	Line    string
	Modules string
	Steps   []stepView
	Refused int
	DiagRow bool

	// The timeline's rows are written when the template reaches them
	// (TimelineRows), one deployment at a time: a fleet's rows would
	// not fit in memory all at once.
	d      *plan.Deployment
	keys   []string
	colour map[string]int
}

type stepView struct {
	Index    int
	Label    string
	Status   string // ok, refused, expected
	Reason   string
	Sysfs    string
	Diags    []diagRef
	HasError bool
	HasWarn  bool
}

type diagRef struct {
	ID       string
	Severity string
	Summary  string
	Code     string
}

type diagView struct {
	ID       string
	Severity string
	Code     string
	Summary  string
	Where    string
	Detail   []string
	Snippet  []snippetLine
	Related  []relatedView
}

type snippetLine struct {
	Number             int
	Before, Mark, Rest string
}

type relatedView struct {
	Where, Message string
}

type legendView struct {
	Livepatch string
	Colour    int
}

// palette is the number of release colours in the style sheet.
const palette = 8

func build(p *plan.Plan, opts Options) view {
	v := view{Title: opts.Title}
	if v.Title == "" {
		v.Title = "klpc plan"
	}
	v.Errors, v.Warnings = p.Diagnostics.Count()
	colour := map[string]int{}
	for i, l := range p.Livepatches {
		colour[l.Name] = i % palette
		v.Legend = append(v.Legend, legendView{Livepatch: l.Name, Colour: i % palette})
	}
	for _, k := range p.Kernels {
		how := "its release's line"
		switch {
		case k.Line.Override:
			how = "chosen by the kernel block"
		case !k.Line.Exact:
			how = "the nearest line modelled"
		}
		v.Kernels = append(v.Kernels, kernelView{Name: k.Name, Release: k.Release, Line: k.Line.Name, Verified: k.Line.Verified, How: how})
		v.Matrix.Kernels = append(v.Matrix.Kernels, k.Name)
	}
	for _, l := range p.Livepatches {
		mode := "replace"
		if !l.Replace {
			mode = "non-replace"
		}
		row := matrixRow{Livepatch: l.Name, Mode: mode + ", " + string(l.Layout), Fixes: listOrNone(l.Fixes)}
		for _, k := range p.Kernels {
			cell := matrixCell{Kernel: k.Name}
			if b := l.Build(k.Name); b != nil {
				cell.Built, cell.build = true, b
			}
			row.Cells = append(row.Cells, cell)
		}
		v.Matrix.Rows = append(v.Matrix.Rows, row)
	}
	for i, d := range p.Deployments {
		v.Deployments = append(v.Deployments, deployment(p, i, d, colour))
	}
	for i, d := range p.Diagnostics {
		v.Diagnostics = append(v.Diagnostics, diagnostic(i, d, p.Sources))
	}
	steps, refused := 0, 0
	for _, d := range p.Deployments {
		steps += len(d.Steps)
		for _, s := range d.Steps {
			if !s.OK {
				refused++
			}
		}
	}
	v.Summary = fmt.Sprintf("%s, %s, %s, %s (%d refused by the kernel), %s, %s",
		plural(len(p.Kernels), "kernel"), plural(len(p.Livepatches), "livepatch release"),
		plural(len(p.Deployments), "deployment"), plural(steps, "step"), refused,
		plural(v.Errors, "error"), plural(v.Warnings, "warning"))
	return v
}

func deployment(p *plan.Plan, i int, d *plan.Deployment, colour map[string]int) deploymentView {
	dv := deploymentView{ID: fmt.Sprintf("deploy-%d", i+1), Name: d.Name, Kernel: d.Kernel, Modules: strings.Join(d.Modules, ", ")}
	if k := p.Kernel(d.Kernel); k != nil {
		dv.Release, dv.Line = k.Release, k.Line.Name
	}
	keys := map[string]bool{}
	for _, s := range d.Steps {
		for _, k := range s.Functions.Keys() {
			keys[k] = true
		}
	}
	dv.keys = make([]string, 0, len(keys))
	for k := range keys {
		dv.keys = append(dv.keys, k)
	}
	sort.Strings(dv.keys)
	dv.d, dv.colour = d, colour
	for _, s := range d.Steps {
		what := s.Livepatch
		if what == "" {
			what = s.Module
		}
		sv := stepView{Index: s.Index, Label: strings.TrimSpace(string(s.Action) + " " + what), Status: "ok", Reason: s.Reason}
		if !s.OK {
			dv.Refused++
			sv.Status = "refused"
			if s.Expect == kabi.ExpectRefused {
				sv.Status = "expected"
			}
			if s.Errno != "" && !strings.Contains(sv.Reason, s.Errno) {
				sv.Reason = s.Errno + ": " + sv.Reason
			}
		}
		sv.Sysfs = sysfsText(s.Sysfs)
		for _, di := range s.Diagnostics {
			if di < 0 || di >= len(p.Diagnostics) {
				continue
			}
			dd := p.Diagnostics[di]
			sv.Diags = append(sv.Diags, diagRef{ID: fmt.Sprintf("diag-%d", di+1), Severity: dd.Severity.String(), Summary: dd.Summary, Code: string(dd.Code)})
			if dd.Severity == diag.Error {
				sv.HasError = true
			} else {
				sv.HasWarn = true
			}
			dv.DiagRow = true
		}
		dv.Steps = append(dv.Steps, sv)
	}
	return dv
}

// TimelineRows is the timeline's rows: a row per function, a cell per
// step, each the implementation the function runs after the step. They
// are written here rather than by the template (a fleet has millions of
// cells); the escaping is html/template's (htmlEscape), and the bytes are
// those the template wrote.
func (dv deploymentView) TimelineRows() template.HTML {
	var b strings.Builder
	d := dv.d
	// pos[j] walks the keys of step j, which are sorted too.
	pos := make([]int, len(d.Steps))
	for _, key := range dv.keys {
		b.WriteString("\n<tr data-function=\"")
		htmlEscape(&b, key)
		b.WriteString("\"><th class=\"func\">")
		htmlEscape(&b, key)
		b.WriteString("</th>")
		for j, s := range d.Steps {
			fk := s.Functions.Keys()
			for pos[j] < len(fk) && fk[pos[j]] < key {
				pos[j]++
			}
			var impl plan.Impl
			ok := pos[j] < len(fk) && fk[pos[j]] == key
			if ok {
				impl = s.Functions.ImplAt(pos[j])
			}
			implText := impl.String()
			if !ok {
				implText = "-"
			}
			kind, colour := "original", 0
			switch impl.Kind {
			case plan.Absent:
				kind = "absent"
			case plan.Replaced:
				kind = "replaced"
				colour = dv.colour[impl.Livepatch]
			}
			change := ""
			var from plan.Impl
			if ok {
				if s.Before.SharesKeys(s.Functions) {
					from = s.Before.ImplAt(pos[j])
				} else {
					from = s.Before.Impl(key)
				}
				if ch, changed := plan.ChangeBetween(from, impl); changed {
					change = string(ch)
				}
			}
			b.WriteString("<td class=\"impl ")
			b.WriteString(kind)
			if kind == "replaced" {
				b.WriteString(" lp")
				b.WriteString(strconv.Itoa(colour))
			}
			if change != "" {
				b.WriteString(" changed")
			}
			if change == string(plan.Reverted) {
				b.WriteString(" reverted")
			}
			if !s.OK {
				b.WriteString(" at-refused")
			}
			b.WriteString("\" data-step=\"")
			b.WriteString(strconv.Itoa(s.Index))
			b.WriteString("\" data-impl=\"")
			htmlEscape(&b, implText)
			b.WriteString("\"")
			if change != "" {
				// The tooltip: "step N: FROM -> TO".
				b.WriteString(" data-change=\"")
				htmlEscape(&b, change)
				b.WriteString("\" title=\"step ")
				b.WriteString(strconv.Itoa(s.Index))
				b.WriteString(": ")
				htmlEscape(&b, from.String())
				b.WriteString(" -&gt; ")
				htmlEscape(&b, impl.String())
			} else {
				b.WriteString(" title=\"")
				htmlEscape(&b, implText)
			}
			b.WriteString("\"><span class=\"chg\">")
			htmlEscape(&b, change)
			b.WriteString("</span>")
			if impl.Kind == plan.Replaced && impl.New != "" {
				htmlEscape(&b, short(impl.New))
				b.WriteString("<span class=\"lpname\">")
				htmlEscape(&b, short(impl.Livepatch))
				b.WriteString("</span>")
			} else {
				htmlEscape(&b, short(implText))
			}
			b.WriteString("</td>")
		}
		b.WriteString("</tr>")
	}
	return template.HTML(b.String())
}

// htmlEscape writes s escaped as html/template escapes text and quoted
// attribute values (its htmlReplacementTable).
func htmlEscape(b *strings.Builder, s string) {
	last := 0
	for i := 0; i < len(s); i++ {
		var r string
		switch s[i] {
		case 0:
			r = "\uFFFD"
		case '"':
			r = "&#34;"
		case '&':
			r = "&amp;"
		case '\'':
			r = "&#39;"
		case '+':
			r = "&#43;"
		case '<':
			r = "&lt;"
		case '>':
			r = "&gt;"
		default:
			continue
		}
		b.WriteString(s[last:i])
		b.WriteString(r)
		last = i + 1
	}
	b.WriteString(s[last:])
}

// maxSnippetLines caps the source lines a diagnostic shows.
const maxSnippetLines = 4

func diagnostic(i int, d *diag.Diagnostic, src diag.Sources) diagView {
	dv := diagView{ID: fmt.Sprintf("diag-%d", i+1), Severity: d.Severity.String(), Code: string(d.Code), Summary: d.Summary, Where: "klpc"}
	for _, para := range strings.Split(d.Detail, "\n") {
		if para = strings.TrimSpace(para); para != "" {
			dv.Detail = append(dv.Detail, para)
		}
	}
	if d.Subject != nil {
		dv.Where = d.Subject.String()
		dv.Snippet = snippet(*d.Subject, src)
	}
	for _, r := range d.Related {
		dv.Related = append(dv.Related, relatedView{Where: r.Range.String(), Message: r.Message})
	}
	return dv
}

// snippet cuts the subject's lines out of its file, the subject marked.
func snippet(r diag.Range, src diag.Sources) []snippetLine {
	data, ok := src[r.Filename]
	if !ok || r.Start.Line < 1 {
		return nil
	}
	lines := strings.Split(strings.ToValidUTF8(string(data), "\uFFFD"), "\n")
	if r.Start.Line > len(lines) {
		return nil
	}
	last := r.Start.Line
	if r.End.Line > last {
		last = min(r.End.Line, len(lines), r.Start.Line+maxSnippetLines-1)
	}
	var out []snippetLine
	for n := r.Start.Line; n <= last; n++ {
		line := strings.ReplaceAll(strings.TrimRight(lines[n-1], "\r"), "\t", "    ")
		runes := []rune(line)
		start, end := 0, len(runes)
		if n == r.Start.Line {
			start = min(max(r.Start.Column-1, 0), len(runes))
		}
		if n == r.End.Line {
			end = min(max(r.End.Column-1, start), len(runes))
		}
		out = append(out, snippetLine{Number: n, Before: string(runes[:start]), Mark: string(runes[start:end]), Rest: string(runes[end:])})
	}
	return out
}

func sysfsText(view []plan.SysfsPatch) string {
	var parts []string
	for _, sp := range view {
		attrs := []string{fmt.Sprintf("enabled=%d", b2i(sp.Enabled))}
		if sp.Transition {
			attrs = append(attrs, "transition=1")
		}
		if sp.Replace != nil {
			attrs = append(attrs, fmt.Sprintf("replace=%d", b2i(*sp.Replace)))
		}
		if sp.StackOrder > 0 {
			attrs = append(attrs, fmt.Sprintf("stack_order=%d", sp.StackOrder))
		}
		parts = append(parts, sp.Module+" ("+strings.Join(attrs, ", ")+")")
	}
	return strings.Join(parts, "; ")
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

func listOrNone(items []string) string {
	if len(items) == 0 {
		return "nothing"
	}
	return strings.Join(items, ", ")
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}

// short keeps long implementation names readable in narrow cells: the
// full name stays in the title attribute.
func short(s string) string {
	const limit = 40
	if utf8.RuneCountInString(s) <= limit {
		return s
	}
	r := []rune(s)
	return string(r[:limit-1]) + "…"
}
