package cli

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/hashicorp/hcl/v2"
	"github.com/klpc/klpc/diag"
	"github.com/klpc/klpc/hostsnap"
	"github.com/klpc/klpc/kabi"
	"github.com/klpc/klpc/lang"
	"github.com/klpc/klpc/plan"
	"github.com/klpc/klpc/plan/planner"
)

// hostRow is one line of the pre-flight table.
type hostRow struct {
	host, kernel, loaded, verdict, changes, warnings string
}

// parseHostStep reads --step: "ACTION RELEASE" for load, disable, unload,
// "ACTION MODULE" for module_load, module_unload.
func parseHostStep(spec string) (*lang.Step, error) {
	f := strings.Fields(spec)
	if len(f) != 2 {
		return nil, fmt.Errorf("--step is \"ACTION NAME\", such as \"load lp-2024-06\"; got %q", spec)
	}
	a := kabi.Action(f[0])
	st := &lang.Step{Action: a}
	switch {
	case a == kabi.ActionLoad || a == kabi.ActionDisable || a == kabi.ActionUnload:
		st.Livepatch = &lang.Ref{Type: "livepatch", Name: f[1]}
	case a.OnModule():
		st.Module = &lang.String{Value: f[1]}
	default:
		return nil, fmt.Errorf("--step action %q is none of load, disable, unload, module_load, module_unload", f[0])
	}
	return st, nil
}

// planHosts plans one step from every snapshot (*.json) of hostsDir, each
// as a deploy block starting from it on the kernel block of its release,
// and prints the table. It reports whether any host has errors.
func planHosts(out, stderr io.Writer, dir, hostsDir, stepSpec string, opts planner.Options) (bool, error) {
	step, err := parseHostStep(stepSpec)
	if err != nil {
		return false, usageError{err}
	}
	ents, err := os.ReadDir(hostsDir)
	if err != nil {
		return false, err
	}
	cfg, diags := lang.LoadDir(dir)
	if diags.HasErrors() {
		writeDiagnostics(stderr, diags, cfg.Sources())
		return true, nil
	}
	if step.Livepatch != nil && !slices.ContainsFunc(cfg.Livepatches, func(l *lang.Livepatch) bool { return l.Name == step.Livepatch.Name }) {
		return false, usageError{fmt.Errorf("--step names no livepatch block %q", step.Livepatch.Name)}
	}
	var rows []hostRow
	hostOf := map[string]int{} // deploy name -> row
	rowOf := map[string]int{}  // snapshot path -> row
	for _, e := range ents {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".json") {
			continue
		}
		path := filepath.Join(hostsDir, e.Name())
		host := strings.TrimSuffix(e.Name(), ".json")
		row := hostRow{host: host, kernel: "-", loaded: "-", changes: "-", warnings: ""}
		snap, err := hostsnap.ReadFile(path)
		if err != nil {
			row.verdict = "error: " + err.Error()
			rows = append(rows, row)
			continue
		}
		row.kernel = snap.Kernel
		row.loaded = loadedText(snap)
		var kernel *lang.Kernel
		for _, k := range cfg.Kernels {
			if k.Release != nil && k.Release.Value == snap.Kernel {
				kernel = k
				break
			}
		}
		if kernel == nil {
			row.verdict = "error: no kernel block has release " + snap.Kernel
			rows = append(rows, row)
			continue
		}
		abs, _ := filepath.Abs(path)
		rng := hcl.Range{Filename: abs, Start: hcl.InitialPos, End: hcl.InitialPos}
		name := fmt.Sprintf("host:%s", host)
		st := *step
		st.DeclRange = rng
		cfg.Deploys = append(cfg.Deploys, &lang.Deploy{
			Name: name, Kernel: &lang.Ref{Type: "kernel", Name: kernel.Name, Range: rng},
			From: &lang.String{Value: abs, Range: rng}, Steps: []*lang.Step{&st},
			DeclRange: rng, NameRange: rng,
		})
		hostOf[name] = len(rows)
		rowOf[abs] = len(rows)
		rows = append(rows, row)
	}
	// Only the hosts' deploy blocks are simulated.
	kept := cfg.Deploys[:0]
	for _, d := range cfg.Deploys {
		if _, ok := hostOf[d.Name]; ok {
			kept = append(kept, d)
		}
	}
	cfg.Deploys = kept
	p := planner.Plan(cfg, nil, opts)
	for _, d := range p.Deployments {
		i := hostOf[d.Name]
		rows[i].verdict = "error"
		if len(d.Steps) == 1 {
			s := d.Steps[0]
			rows[i].verdict = "ok"
			if !s.OK {
				rows[i].verdict = "refused " + s.Errno
			}
			rows[i].changes = changesText(s.Changes())
			var warns []string
			for _, di := range s.Diagnostics {
				dg := p.Diagnostics[di]
				warns = append(warns, string(dg.Code))
				if dg.Severity == diag.Error {
					rows[i].verdict += " (error)"
				}
			}
			rows[i].warnings = strings.Join(warns, " ")
		}
	}
	// Errors at a host's from (its snapshot) go to its row.
	failed := false
	var rest diag.Diagnostics
	for _, dg := range p.Diagnostics {
		row, ok := -1, false
		if dg.Subject != nil {
			row, ok = rowOf[dg.Subject.Filename]
		}
		if ok && strings.HasPrefix(string(dg.Code), "snapshot-") {
			rows[row].verdict = fmt.Sprintf("error [%s]: %s", dg.Code, strings.TrimPrefix(dg.Detail, dg.Subject.Filename+": "))
			failed = true
			continue
		}
		if dg.Severity == diag.Error {
			failed = true
		}
		rest = append(rest, dg)
	}
	for _, r := range rows {
		if strings.HasPrefix(r.verdict, "error") || strings.Contains(r.verdict, "(error)") {
			failed = true
		}
	}
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "HOST\tKERNEL\tLOADED\tVERDICT (%s)\tCHANGES\tWARNINGS\n", stepSpec)
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", r.host, r.kernel, r.loaded, r.verdict, r.changes, r.warnings)
	}
	if err := tw.Flush(); err != nil {
		return failed, err
	}
	writeDiagnostics(stderr, rest, p.Sources)
	return failed, nil
}

// loadedText lists a snapshot's livepatches: name, "(disabled)" or
// "(transition)" where so.
func loadedText(s *hostsnap.Snapshot) string {
	var parts []string
	for _, p := range s.Livepatches {
		t := p.Name
		if !p.Enabled {
			t += "(disabled)"
		}
		if p.Transition {
			t += "(transition)"
		}
		parts = append(parts, t)
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, ",")
}

func changesText(cs []*plan.Change) string {
	var parts []string
	for _, c := range cs {
		parts = append(parts, string(c.Kind)+c.Function)
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, " ")
}

// snapshotSummary says what a deployment's starting snapshot has loaded.
func snapshotSummary(s *hostsnap.Snapshot) string {
	return fmt.Sprintf("kernel %s, livepatches %s, %d modules", s.Kernel, loadedText(s), len(s.Modules))
}

// writeModuleBuilds shows what a release does on each module_build.
func writeModuleBuilds(w io.Writer, b *plan.Build) {
	for _, mb := range b.ModuleBuilds {
		var parts []string
		for _, f := range mb.Funcs {
			if f.Problem != "" {
				parts = append(parts, fmt.Sprintf("%s REFUSED (%s)", f.Name, f.Problem))
			} else {
				parts = append(parts, fmt.Sprintf("%s,%d", f.Name, f.Sympos))
			}
		}
		for _, s := range mb.Symbols {
			if s.Problem != "" {
				parts = append(parts, fmt.Sprintf("symbol %s MISSING (%s)", s.Name, s.Problem))
			}
		}
		fmt.Fprintf(w, "    on module build %s of %s (%s): %s\n", mb.Name, mb.Module, mb.ID, listOrNone(parts))
	}
}
