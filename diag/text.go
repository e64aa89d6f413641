package diag

import (
	"bytes"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
)

// Sources gives the content of the files diagnostics point into, by name,
// for the snippets of the text form. A missing file shows no snippet.
type Sources map[string][]byte

// TextOptions tune the text form.
type TextOptions struct {
	// Width wraps details; 0 means 100 columns.
	Width int
	// Colour uses ANSI colours (only for a terminal).
	Colour bool
}

// WriteText writes every diagnostic the way compilers do: the place and
// severity, the summary and code, the source line with the subject
// underlined, the detail wrapped, then the related places.
//
//	file.klp.hcl:16:13: error: Replace release drops a fix [replace-drops-fix]
//	   16 |   fixes = [fix.a, fix.b]
//	      |           ^^^^^^^^^^^^^^
//	  In deployment "fleet", step 4 (load lp-2) ...
//	  file.klp.hcl:31:3: the step that loads it
func WriteText(w io.Writer, ds Diagnostics, src Sources, opts TextOptions) {
	width := opts.Width
	if width <= 0 {
		width = 100
	}
	bold, reset, red, yellow := "", "", "", ""
	if opts.Colour {
		bold, reset, red, yellow = "\x1b[1m", "\x1b[0m", "\x1b[31m", "\x1b[33m"
	}
	for _, d := range ds {
		col := red
		if d.Severity == Warning {
			col = yellow
		}
		where := "klpc"
		if d.Subject != nil {
			where = d.Subject.String()
		}
		fmt.Fprintf(w, "%s%s: %s%s%s: %s%s [%s]\n", bold, where, col, d.Severity, reset+bold, d.Summary, reset, d.Code)
		if d.Subject != nil {
			writeSnippet(w, *d.Subject, src)
		}
		for _, line := range wrap(d.Detail, width-2) {
			fmt.Fprintf(w, "  %s\n", line)
		}
		for _, r := range d.Related {
			fmt.Fprintf(w, "  %s: %s\n", r.Range, r.Message)
		}
		fmt.Fprintln(w)
	}
}

// writeSnippet prints the subject's first line with the subject underlined.
func writeSnippet(w io.Writer, r Range, src Sources) {
	data, ok := src[r.Filename]
	if !ok || r.Start.Line < 1 {
		return
	}
	lines := bytes.Split(data, []byte("\n"))
	if r.Start.Line > len(lines) {
		return
	}
	line := strings.TrimRight(string(lines[r.Start.Line-1]), "\r")
	line = strings.ReplaceAll(line, "\t", " ")
	if !utf8.ValidString(line) {
		line = strings.ToValidUTF8(line, "?")
	}
	start := min(max(r.Start.Column-1, 0), utf8.RuneCountInString(line))
	end := utf8.RuneCountInString(line)
	if r.End.Line == r.Start.Line {
		end = min(max(r.End.Column-1, start+1), end)
	}
	n := max(end-start, 1)
	num := fmt.Sprint(r.Start.Line)
	pad := strings.Repeat(" ", len(num))
	fmt.Fprintf(w, " %s | %s\n", num, line)
	fmt.Fprintf(w, " %s | %s%s\n", pad, strings.Repeat(" ", start), strings.Repeat("^", n))
}

// wrap breaks text into lines of at most width columns at spaces; a word
// longer than width stands on its own line.
func wrap(text string, width int) []string {
	var out []string
	for _, para := range strings.Split(text, "\n") {
		line := ""
		for _, word := range strings.Fields(para) {
			switch {
			case line == "":
				line = word
			case utf8.RuneCountInString(line)+1+utf8.RuneCountInString(word) > width:
				out = append(out, line)
				line = word
			default:
				line += " " + word
			}
		}
		if line != "" {
			out = append(out, line)
		}
	}
	return out
}
