package lang

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/hashicorp/hcl/v2"

	"github.com/klpc/klpc/internal/safeio"
)

func isControl(r rune) bool { return r < 0x20 || r == 0x7f }

// checkFiles reports what emit or the build would only find later: a fix's
// source or patch that is missing, not a regular file, too large, outside
// the configuration folder (after symbolic links: a configuration arrives
// in pull requests, and emit copies these files into its output), or a
// source that is not C; a headers folder that is missing or made for
// another kernel release.
func checkFiles(cfg *Config) hcl.Diagnostics {
	var diags hcl.Diagnostics
	root := cfg.Dir
	if r, err := filepath.EvalSymlinks(cfg.Dir); err == nil {
		root = r
	}
	if abs, err := filepath.Abs(root); err == nil {
		root = abs
	}
	for _, f := range cfg.Fixes {
		for _, p := range []*struct {
			what string
			path *Path
		}{{"source", f.Source}, {"patch", f.Patch}} {
			if p.path == nil {
				continue
			}
			diags = append(diags, checkFixFile(f, p.what, p.path, root)...)
		}
		if f.Source != nil && !strings.HasSuffix(f.Source.Abs, ".c") {
			diags = append(diags, attrError(f.Source.Range, "Fix source is not a C file",
				fmt.Sprintf("The fix %q names source file %s; kbuild compiles only files ending in .c.", f.Name, f.Source.Value)))
		}
	}
	for _, k := range cfg.Kernels {
		diags = append(diags, checkHeaders(k)...)
	}
	return diags
}

func checkFixFile(f *Fix, what string, p *Path, root string) hcl.Diagnostics {
	if _, err := safeio.Check(p.Abs, safeio.MaxFixFile); err != nil {
		return hcl.Diagnostics{attrError(p.Range, "Cannot read input",
			fmt.Sprintf("The %s of fix %q cannot be used: %s.", what, f.Name, errText(err)))}
	}
	real, err := filepath.EvalSymlinks(p.Abs)
	if err == nil {
		real, err = filepath.Abs(real)
	}
	if err != nil {
		return hcl.Diagnostics{attrError(p.Range, "Cannot read input",
			fmt.Sprintf("The %s of fix %q cannot be used: %s.", what, f.Name, errText(err)))}
	}
	if rel, err := filepath.Rel(root, real); err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return hcl.Diagnostics{attrError(p.Range, "File outside the configuration",
			fmt.Sprintf("The %s of fix %q, %s, leads to %s, outside the configuration folder %s. Fix sources and patches must lie inside the configuration folder (symbolic links included): klpc copies them into its output.", what, f.Name, p.Value, real, root))}
	}
	return nil
}

// checkHeaders checks a kernel's headers folder: it must be a folder, and
// when it records the release modules built against it carry in their
// vermagic (UTS_RELEASE in include/generated/utsrelease.h; Debian's
// include/config/kernel.release holds the upstream version instead) that
// must be the kernel's.
func checkHeaders(k *Kernel) hcl.Diagnostics {
	if k.Headers == nil {
		return nil
	}
	st, err := os.Stat(k.Headers.Abs)
	if err != nil || !st.IsDir() {
		msg := "it is not a folder"
		if err != nil {
			msg = errText(err)
		}
		return hcl.Diagnostics{attrError(k.Headers.Range, "Cannot read input",
			fmt.Sprintf("The headers folder of kernel %q cannot be used: %s. Install the kernel's headers package or point headers at its build folder.", k.Name, msg))}
	}
	data, err := safeio.ReadFile(filepath.Join(k.Headers.Abs, "include", "generated", "utsrelease.h"), 4096)
	if err != nil || k.Release == nil {
		return nil
	}
	_, rest, ok := strings.Cut(string(data), "UTS_RELEASE \"")
	got, _, closed := strings.Cut(rest, "\"")
	if !ok || !closed {
		return nil
	}
	if got != k.Release.Value {
		return hcl.Diagnostics{attrError(k.Headers.Range, "Headers of another kernel",
			fmt.Sprintf("The headers folder %s was made for kernel release %s, not %s: modules built against it would not load on kernel %q (vermagic).", k.Headers.Abs, safeio.Excerpt(got), k.Release.Value, k.Name))}
	}
	return nil
}

// MaxNesting bounds how deep brackets, braces, parentheses and template
// interpolations may nest in a configuration file. HCL's parser recurses
// once per level; tens of thousands of levels overflow the stack.
const MaxNesting = 200

// MaxConfigFile bounds one configuration file.
const MaxConfigFile = 4 << 20

// checkNesting scans a file's bytes before parsing and reports nesting
// deeper than MaxNesting. Strings and comments are skipped, except for the
// ${ and %{ templates inside strings, which nest too.
func checkNesting(src []byte, filename string) *hcl.Diagnostic {
	depth := 0
	// stack records, per open level, whether it was opened inside a
	// string (a template), so that its closing brace returns to it.
	var inString []bool
	str := false
	line, col := 1, 1
	for i := 0; i < len(src); i++ {
		c := src[i]
		open := false
		switch {
		case str && c == '\\':
			i++
		case str && c == '"':
			str = false
		case str && (c == '$' || c == '%') && i+1 < len(src) && src[i+1] == '{':
			i++
			inString = append(inString, true)
			str, open = false, true
		case str:
		case c == '"':
			str = true
		case c == '#' || c == '/' && i+1 < len(src) && src[i+1] == '/':
			for i < len(src) && src[i] != '\n' {
				i++
			}
			line, col = line+1, 0
		case c == '/' && i+1 < len(src) && src[i+1] == '*':
			end := strings.Index(string(src[i+2:]), "*/")
			if end < 0 {
				return nil // the parser reports it
			}
			line += strings.Count(string(src[i:i+2+end]), "\n")
			i += end + 3
		case c == '(' || c == '[' || c == '{':
			inString = append(inString, false)
			open = true
		case c == ')' || c == ']' || c == '}':
			if n := len(inString); n > 0 {
				str = inString[n-1]
				inString = inString[:n-1]
				depth--
			}
		}
		if open {
			depth++
			if depth > MaxNesting {
				pos := hcl.Pos{Line: line, Column: col, Byte: i}
				return &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Nesting too deep",
					Detail:  fmt.Sprintf("Expressions nest more than %d levels deep here; klpc does not read configurations nested this deeply.", MaxNesting),
					Subject: &hcl.Range{Filename: filename, Start: pos, End: hcl.Pos{Line: line, Column: col + 1, Byte: i + 1}}}
			}
		}
		if i < len(src) && src[i] == '\n' {
			line, col = line+1, 1
		} else {
			col++
		}
	}
	return nil
}
