package plan

import "github.com/hashicorp/hcl/v2"

// jsonDiagnostics turns HCL diagnostics into the plan's JSON form, in the
// order they were found.
func jsonDiagnostics(diags hcl.Diagnostics) []*Diagnostic {
	out := []*Diagnostic{}
	for _, d := range diags {
		jd := &Diagnostic{Severity: "error", Summary: d.Summary, Detail: d.Detail}
		if d.Severity == hcl.DiagWarning {
			jd.Severity = "warning"
		}
		if d.Subject != nil {
			jd.Range = &Range{
				Filename: d.Subject.Filename,
				Start:    Pos{Line: d.Subject.Start.Line, Column: d.Subject.Start.Column, Byte: d.Subject.Start.Byte},
				End:      Pos{Line: d.Subject.End.Line, Column: d.Subject.End.Column, Byte: d.Subject.End.Byte},
			}
		}
		out = append(out, jd)
	}
	return out
}
