// Package planner runs the stages of planning in order: resolve (the
// releases on every kernel build), simulate (every deployment and every
// per-object upgrade on the kernel model) and check (the analyzers over the
// trace), and gathers their diagnostics into one typed plan.
package planner

import (
	"github.com/klpc/klpc/diag"
	"github.com/klpc/klpc/lang"
	"github.com/klpc/klpc/plan"
	"github.com/klpc/klpc/plan/check"
	"github.com/klpc/klpc/plan/resolve"
	"github.com/klpc/klpc/plan/simulate"
)

// Options tune planning.
type Options struct {
	// Deploy limits the simulation to the deploy block of that name.
	Deploy string
	// NoCache reads kernel builds afresh instead of from the index cache.
	NoCache bool
}

// Plan plans a configuration that lang has read, with lang's diagnostics.
// It always returns a plan; the plan's diagnostics say what is wrong.
func Plan(cfg *lang.Config, langDiags diag.Diagnostics, opts Options) *plan.Plan {
	p := &plan.Plan{
		Kernels:     []*plan.Kernel{},
		Fixes:       []*plan.Fix{},
		Livepatches: []*plan.Livepatch{},
		Deployments: []*plan.Deployment{},
		Diagnostics: append(diag.Diagnostics{}, langDiags...),
		Sources:     cfg.Sources(),
	}
	if opts.Deploy != "" && !langDiags.HasErrors() && !hasDeploy(cfg, opts.Deploy) {
		p.Diagnostics = append(p.Diagnostics, diag.Errorf(diag.NoSuchDeployment, nil, "No such deployment",
			"No deploy block is named %q.%s", opts.Deploy, deployList(cfg)))
	}
	// Semantics need a configuration whose references hold; with errors
	// from lang only what stands on its own is planned.
	if langDiags.HasErrors() {
		return p
	}

	res, diags := resolve.Resolve(cfg, resolve.Options{NoCache: opts.NoCache})
	p.Diagnostics = append(p.Diagnostics, diags...)
	p.Kernels, p.Fixes, p.Livepatches = res.Kernels, res.Fixes, res.Livepatches

	facts := func(kernel string) simulate.Kernel {
		if kb := res.Builds[kernel]; kb != nil {
			return kb
		}
		return nil
	}
	// The deployments share one trace: what runs and the stacks are the
	// same values on every kernel a release is built for.
	trace := plan.NewTrace()
	for _, d := range cfg.Deploys {
		if opts.Deploy != "" && d.Name != opts.Deploy {
			continue
		}
		dep, diags := simulate.DeploymentIn(trace, d, p.Livepatch, res.Builds[d.Kernel.Name])
		p.Diagnostics = append(p.Diagnostics, diags...)
		p.Deployments = append(p.Deployments, dep)
	}
	simulate.Upgrades(p.Livepatches, facts)

	check.Apply(p)
	return p
}

func hasDeploy(cfg *lang.Config, name string) bool {
	for _, d := range cfg.Deploys {
		if d.Name == name {
			return true
		}
	}
	return false
}

// deployList names the deployments there are, for the detail of a
// --deploy that names none of them.
func deployList(cfg *lang.Config) string {
	if len(cfg.Deploys) == 0 {
		return " The configuration has no deploy block."
	}
	s := " The deployments are:"
	for i, d := range cfg.Deploys {
		if i > 0 {
			s += ","
		}
		s += " " + d.Name
	}
	return s + "."
}
