package lang

import (
	"bytes"
	"fmt"
	"unicode/utf8"

	"github.com/hashicorp/hcl/v2"
)

// maxSyntaxErrors is how many syntax errors of one file are reported; one
// unterminated string makes HCL report an error at every later token, and
// the first few are the ones to fix.
const maxSyntaxErrors = 5

// notText returns an error when a configuration file is not text (a NUL
// byte or invalid UTF-8), naming the file and the first bad byte, instead
// of the hundreds of syntax errors HCL would report; nil for text.
func notText(name string, src []byte) *hcl.Diagnostic {
	off := bytes.IndexByte(src, 0)
	what := "a NUL byte"
	if off < 0 {
		if utf8.Valid(src) {
			return nil
		}
		what = "bytes that are not UTF-8"
		for i := 0; i < len(src); {
			r, size := utf8.DecodeRune(src[i:])
			if r == utf8.RuneError && size <= 1 {
				off = i
				break
			}
			i += size
		}
	}
	line := bytes.Count(src[:off], []byte("\n")) + 1
	col := off - (bytes.LastIndexByte(src[:off], '\n') + 1) + 1
	pos := hcl.Pos{Line: line, Column: col, Byte: off}
	return &hcl.Diagnostic{
		Severity: hcl.DiagError,
		Summary:  "Configuration file is not text",
		Detail:   fmt.Sprintf("%s holds %s at line %d, column %d (byte %d): it is not a UTF-8 text file, so klpc does not read it as HCL. Is it a binary file named *%s by mistake?", name, what, line, col, off, FileSuffix),
		Subject:  &hcl.Range{Filename: name, Start: pos, End: pos},
	}
}

// capSyntaxErrors keeps the first maxSyntaxErrors errors of a file's
// parse and says how many more there were.
func capSyntaxErrors(name string, ds hcl.Diagnostics) hcl.Diagnostics {
	errs := 0
	var out hcl.Diagnostics
	for _, d := range ds {
		if d.Severity == hcl.DiagError {
			errs++
			if errs > maxSyntaxErrors {
				continue
			}
		}
		out = append(out, d)
	}
	if more := errs - maxSyntaxErrors; more > 0 {
		out = append(out, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "More syntax errors",
			Detail:   fmt.Sprintf("%s has %d more syntax errors after these %d; they often follow from the first one (such as an unterminated string). Fix the first ones and run klpc again.", name, more, maxSyntaxErrors),
			Subject:  &hcl.Range{Filename: name, Start: hcl.Pos{Line: 1, Column: 1}, End: hcl.Pos{Line: 1, Column: 1}},
		})
	}
	return out
}
