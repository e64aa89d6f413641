package lang

import (
	"strings"

	"github.com/hashicorp/hcl/v2"

	"github.com/klpc/klpc/diag"
)

// Range converts an HCL range to klpc's.
func Range(r hcl.Range) diag.Range {
	return diag.Range{
		Filename: r.Filename,
		Start:    diag.Pos{Line: r.Start.Line, Column: r.Start.Column, Byte: r.Start.Byte},
		End:      diag.Pos{Line: r.End.Line, Column: r.End.Column, Byte: r.End.Byte},
	}
}

// RangePtr converts an HCL range to klpc's, for a diagnostic's subject.
func RangePtr(r hcl.Range) *diag.Range {
	d := Range(r)
	return &d
}

// Sources returns the content of every file the configuration was read
// from, for diagnostic snippets.
func (c *Config) Sources() diag.Sources {
	out := diag.Sources{}
	for name, f := range c.Files {
		out[name] = f.Bytes
	}
	return out
}

// langCodes gives the code of each kind of diagnostic that lang and HCL
// report, by summary. HCL's own summaries are fixed by its decoder; a
// summary missing here is an HCL syntax diagnostic.
var langCodes = map[string]diag.Code{
	"Cannot read configuration directory": diag.ConfigUnreadable,
	"Cannot read configuration file":      diag.ConfigUnreadable,
	"No configuration files":              diag.NoConfigFiles,
	"Configuration file is not text":      diag.NotText,
	"More syntax errors":                  diag.MoreSyntaxErrors,
	"Unsupported argument":                diag.UnsupportedArgument,
	"Unsupported block type":              diag.UnsupportedBlock,
	"Missing required argument":           diag.MissingArgument,
	"Missing name for block":              diag.MissingArgument,
	"Extraneous label for block":          diag.UnsupportedBlock,
	"Duplicate argument":                  diag.DuplicateArgument,
	"Attribute redefined":                 diag.DuplicateArgument,
	"Unexpected argument":                 diag.UnexpectedArgument,
	"Invalid expression":                  diag.InvalidExpression,
	"Invalid operand":                     diag.InvalidExpression,
	"Unknown variable":                    diag.InvalidExpression,
	"Variables not allowed":               diag.InvalidExpression,
	"Function calls not allowed":          diag.InvalidExpression,
	"Unsuitable value type":               diag.TypeMismatch,
	"Incorrect attribute value type":      diag.TypeMismatch,
	"Invalid kernel name":                 diag.InvalidName,
	"Invalid fix name":                    diag.InvalidName,
	"Invalid livepatch name":              diag.InvalidName,
	"Invalid deploy name":                 diag.InvalidName,
	"Invalid step name":                   diag.InvalidName,
	"Invalid module name":                 diag.InvalidModuleName,
	"Invalid object name":                 diag.InvalidObjectName,
	"Invalid function name":               diag.InvalidSymbolName,
	"Invalid symbol name":                 diag.InvalidSymbolName,
	"Invalid C function name":             diag.InvalidCName,
	"Invalid kernel release":              diag.InvalidRelease,
	"Unsupported architecture":            diag.UnsupportedArch,
	"Empty path":                          diag.EmptyPath,
	"Invalid path":                        diag.InvalidPath,
	"File outside the configuration":      diag.FileOutsideConfig,
	"Cannot read input":                   diag.InputUnreadable,
	"Fix source is not a C file":          diag.SourceNotC,
	"Headers of another kernel":           diag.HeadersMismatch,
	"Nesting too deep":                    diag.NestingTooDeep,
	"Invalid reference":                   diag.InvalidReference,
	"Invalid reference list":              diag.InvalidReference,
	"Duplicate reference":                 diag.DuplicateReference,
	"Duplicate object":                    diag.DuplicateObject,
	"Duplicate module build":              diag.DuplicateModuleBuild,
	"Duplicate function":                  diag.DuplicateFunction,
	"Duplicate symbol":                    diag.DuplicateSymbol,
	"Duplicate state id":                  diag.DuplicateStateID,
	"Livepatch module names collide":      diag.ModuleNameCollision,
	"Fix changes nothing":                 diag.FixChangesNothing,
	"Empty object":                        diag.EmptyObject,
	"No fixes":                            diag.NoFixes,
	"No kernels":                          diag.NoKernels,
	"Invalid layout":                      diag.InvalidLayout,
	"Invalid expect value":                diag.InvalidExpect,
	"Invalid sympos":                      diag.InvalidNumber,
	"Invalid state id":                    diag.InvalidNumber,
	"Invalid version":                     diag.InvalidNumber,
	"Unknown step action":                 diag.UnknownAction,
	"Invalid task name":                   diag.InvalidName,
	"Invalid errno":                       diag.InvalidNumber,
	"Conflicting symbol selectors":        diag.ConflictingSelectors,
	"Empty file selector":                 diag.EmptyFileSelector,
	"Fix both carried and dropped":        diag.FixCarriedAndDropped,
}

// codeOf is the code of a diagnostic lang or HCL reported.
func codeOf(summary string) diag.Code {
	if c, ok := langCodes[summary]; ok {
		return c
	}
	switch {
	case strings.HasPrefix(summary, "Duplicate "):
		return diag.DuplicateDeclaration
	case strings.HasPrefix(summary, "Reference to undeclared "):
		return diag.UndeclaredReference
	}
	return diag.Syntax
}

// convert turns HCL diagnostics into klpc's; it is the only place they
// cross into the rest of klpc.
func convert(hds hcl.Diagnostics) diag.Diagnostics {
	out := make(diag.Diagnostics, 0, len(hds))
	for _, h := range hds {
		d := &diag.Diagnostic{Severity: diag.Error, Code: codeOf(h.Summary), Summary: h.Summary, Detail: h.Detail}
		if h.Severity == hcl.DiagWarning {
			d.Severity = diag.Warning
		}
		if h.Subject != nil {
			d.Subject = RangePtr(*h.Subject)
		}
		out = append(out, d)
	}
	return out
}
