// Package check is the third stage of planning: named, documented passes
// over the resolved releases and the simulation trace, in the manner of
// golang.org/x/tools/go/analysis. Each Analyzer reads the typed plan
// (never the configuration, never the kernel model) and reports findings;
// a finding about a deployment step is attached to that step. Every
// analyzer is tested on its own, on hand-built plans.
package check

import (
	"github.com/klpc/klpc/diag"
	"github.com/klpc/klpc/plan"
)

// Analyzer is one check.
type Analyzer struct {
	// Name is a short identifier, Doc what the analyzer finds and why it
	// matters.
	Name string
	Doc  string
	// Codes lists the diagnostic codes the analyzer reports.
	Codes []diag.Code
	Run   func(*Pass)
}

// Pass is one run of an analyzer over a plan.
type Pass struct {
	Plan     *plan.Plan
	findings []Finding
}

// Finding is a diagnostic, with the deployment step it concerns (nil for
// findings about releases).
type Finding struct {
	Diag       *diag.Diagnostic
	Deployment *plan.Deployment
	Step       *plan.Step
}

// Report records a finding about the plan as a whole.
func (p *Pass) Report(d *diag.Diagnostic) { p.findings = append(p.findings, Finding{Diag: d}) }

// ReportStep records a finding about one step of a deployment.
func (p *Pass) ReportStep(dep *plan.Deployment, step *plan.Step, d *diag.Diagnostic) {
	p.findings = append(p.findings, Finding{Diag: d, Deployment: dep, Step: step})
}

// All lists every analyzer, in the order their findings are reported.
var All = []*Analyzer{Expectation, State, Regression, Stacking, RelocationsOnce, UpgradeSafety}

// Run runs analyzers over a plan and returns their findings, the findings
// of each analyzer in the order it made them, analyzers in the given order.
func Run(p *plan.Plan, analyzers ...*Analyzer) []Finding {
	var out []Finding
	for _, a := range analyzers {
		pass := &Pass{Plan: p}
		a.Run(pass)
		out = append(out, pass.findings...)
	}
	return out
}

// Apply runs every analyzer and adds its findings to the plan's
// diagnostics, with each step's own findings indexed on the step in
// deployment order.
func Apply(p *plan.Plan) {
	findings := Run(p, All...)
	// Step findings in step order, each step's in analyzer order, then
	// the rest, so the list reads like the deployment.
	byStep := map[*plan.Step][]Finding{}
	var other []Finding
	for _, f := range findings {
		if f.Step != nil {
			byStep[f.Step] = append(byStep[f.Step], f)
		} else {
			other = append(other, f)
		}
	}
	for _, d := range p.Deployments {
		for _, s := range d.Steps {
			for _, f := range byStep[s] {
				s.Diagnostics = append(s.Diagnostics, len(p.Diagnostics))
				p.Diagnostics = append(p.Diagnostics, f.Diag)
			}
		}
	}
	for _, f := range other {
		p.Diagnostics = append(p.Diagnostics, f.Diag)
	}
}
