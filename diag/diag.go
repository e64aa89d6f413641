// Package diag is klpc's diagnostics: what is wrong or worth a warning, with
// a stable code per kind, the place in a source file it concerns and the
// places related to it. Every phase (lang, the planner's stages, emit)
// reports through it; HCL's own diagnostics are converted once, where the
// language is read. It imports only the standard library and renders the
// text form itself, so that no consumer of diagnostics needs HCL.
package diag

import (
	"fmt"
	"slices"
	"strings"
)

// Severity says whether a diagnostic stops the job.
type Severity int

// The severities.
const (
	Error Severity = iota
	Warning
)

func (s Severity) String() string {
	if s == Warning {
		return "warning"
	}
	return "error"
}

// Pos is a position in a source file; line and column count from 1, byte
// from 0.
type Pos struct {
	Line   int
	Column int
	Byte   int
}

// Range is a span of a source file.
type Range struct {
	Filename string
	Start    Pos
	End      Pos
}

// String is "file:line:column" of the start.
func (r Range) String() string {
	return fmt.Sprintf("%s:%d:%d", r.Filename, r.Start.Line, r.Start.Column)
}

// Ptr returns a pointer to a copy of r, for Subject fields.
func (r Range) Ptr() *Range { return &r }

// Empty reports whether r is the zero range.
func (r Range) Empty() bool { return r == Range{} }

// Related is another place a diagnostic concerns, with what it is.
type Related struct {
	Message string
	Range   Range
}

// Diagnostic is one error or warning.
type Diagnostic struct {
	Severity Severity
	// Code names the kind of problem; it is stable across releases of
	// klpc, so that tests and tools can match on it (see codes.go).
	Code Code
	// Summary is a terse title; Detail says in full sentences what is
	// wrong and what to do.
	Summary string
	Detail  string
	// Subject is the tightest range the problem is about, or nil when it
	// concerns no place of the configuration.
	Subject *Range
	// Related lists other places the problem involves.
	Related []Related
}

func (d *Diagnostic) Error() string {
	if d.Subject != nil {
		return fmt.Sprintf("%s: %s: %s", d.Subject, d.Severity, d.Summary)
	}
	return fmt.Sprintf("%s: %s", d.Severity, d.Summary)
}

// Errorf makes an error diagnostic.
func Errorf(code Code, subject *Range, summary, format string, args ...any) *Diagnostic {
	return &Diagnostic{Severity: Error, Code: code, Summary: summary, Detail: fmt.Sprintf(format, args...), Subject: subject}
}

// Warnf makes a warning diagnostic.
func Warnf(code Code, subject *Range, summary, format string, args ...any) *Diagnostic {
	return &Diagnostic{Severity: Warning, Code: code, Summary: summary, Detail: fmt.Sprintf(format, args...), Subject: subject}
}

// WithRelated adds a related place and returns d.
func (d *Diagnostic) WithRelated(message string, r Range) *Diagnostic {
	if !r.Empty() {
		d.Related = append(d.Related, Related{Message: message, Range: r})
	}
	return d
}

// Diagnostics is a list of diagnostics, in the order they were found.
type Diagnostics []*Diagnostic

// HasErrors reports whether any diagnostic is an error.
func (ds Diagnostics) HasErrors() bool {
	return slices.ContainsFunc(ds, func(d *Diagnostic) bool { return d.Severity == Error })
}

// Count returns the numbers of errors and warnings.
func (ds Diagnostics) Count() (errors, warnings int) {
	for _, d := range ds {
		if d.Severity == Error {
			errors++
		} else {
			warnings++
		}
	}
	return errors, warnings
}

// Codes lists the codes of the diagnostics, in order.
func (ds Diagnostics) Codes() []Code {
	out := make([]Code, len(ds))
	for i, d := range ds {
		out[i] = d.Code
	}
	return out
}

// String lists the diagnostics one per line, with place, severity and
// summary, for logs and test failures.
func (ds Diagnostics) String() string {
	var b strings.Builder
	for i, d := range ds {
		if i > 0 {
			b.WriteByte('\n')
		}
		fmt.Fprintf(&b, "%s [%s]: %s", d.Error(), d.Code, d.Detail)
	}
	return b.String()
}
