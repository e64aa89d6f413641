package cli

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/klpc/klpc/diag"
	"github.com/klpc/klpc/kabi"
	"github.com/klpc/klpc/plan"
)

// ANSI styles, used only when writing to a terminal.
type palette struct{ bold, red, green, yellow, cyan, reset string }

func colours(on bool) palette {
	if !on {
		return palette{}
	}
	return palette{bold: "\x1b[1m", red: "\x1b[31m", green: "\x1b[32m", yellow: "\x1b[33m", cyan: "\x1b[36m", reset: "\x1b[0m"}
}

// writeDiagnostics prints every diagnostic with file:line:column and a
// source snippet.
func writeDiagnostics(w io.Writer, ds diag.Diagnostics, src diag.Sources) {
	diag.WriteText(w, ds, src, diag.TextOptions{Colour: isTerminal(w)})
}

// summary counts what a plan holds, for one closing line.
func summary(p *plan.Plan) string {
	steps, refused := 0, 0
	for _, d := range p.Deployments {
		for _, s := range d.Steps {
			steps++
			if !s.OK {
				refused++
			}
		}
	}
	errs, warns := p.Diagnostics.Count()
	return fmt.Sprintf("%s, %s, %s, %s (%d refused by the kernel), %s, %s",
		plural(len(p.Kernels), "kernel"), plural(len(p.Livepatches), "livepatch release"),
		plural(len(p.Deployments), "deployment"), plural(steps, "step"), refused,
		plural(errs, "error"), plural(warns, "warning"))
}

func plural(n int, word string) string {
	if n == 1 {
		return fmt.Sprintf("1 %s", word)
	}
	return fmt.Sprintf("%d %ss", n, word)
}

// writePlanText renders the plan for people, from the same structures the
// JSON plan is made of.
func writePlanText(w io.Writer, p *plan.Plan, colour bool) {
	c := colours(colour)
	var line []byte
	for _, k := range p.Kernels {
		how := "its release's line"
		switch {
		case k.Line.Override:
			how = "chosen by the kernel block"
		case !k.Line.Exact:
			how = "the nearest line modelled"
		}
		fmt.Fprintf(w, "%sKernel %s%s (%s): livepatch core of Linux %s, verified on %s (%s)\n", c.bold, k.Name, c.reset, k.Release, k.Line.Name, k.Line.Verified, how)
	}
	if len(p.Kernels) > 0 {
		fmt.Fprintln(w)
	}
	for _, l := range p.Livepatches {
		mode := "replace"
		if !l.Replace {
			mode = "non-replace"
		}
		fmt.Fprintf(w, "%sLivepatch %s%s (%s, %s): fixes %s", c.bold, l.Name, c.reset, mode, l.Layout, listOrNone(l.Fixes))
		if len(l.Drops) > 0 {
			fmt.Fprintf(w, "; drops %s", strings.Join(l.Drops, ", "))
		}
		if len(l.ModuleBuilds) > 0 {
			fmt.Fprintf(w, "; made for module builds %s", strings.Join(l.ModuleBuilds, ", "))
		}
		fmt.Fprintln(w)
		for _, b := range l.Builds {
			for _, m := range b.Modules {
				var funcs []string
				for _, o := range m.Objects {
					for _, f := range o.Funcs {
						funcs = append(funcs, f.Key)
					}
				}
				fmt.Fprintf(w, "  on %s: module %s patches %s\n", b.Kernel, m.Name, listOrNone(funcs))
			}
			writeModuleBuilds(w, b)
		}
		for _, u := range l.Upgrades {
			verdict := c.green + "verified" + c.reset
			if !u.Verified {
				verdict = c.red + "NOT VERIFIED: " + u.Reason + c.reset
			}
			fmt.Fprintf(w, "  upgrade from %s on %s (%s):\n", u.From, u.Kernel, verdict)
			for _, s := range u.Steps {
				fmt.Fprintf(w, "     %d. %s %s\n", s.Index, s.Action, s.Module)
			}
		}
	}
	for _, d := range p.Deployments {
		fmt.Fprintf(w, "\n%sDeployment %s%s on kernel %s", c.bold, d.Name, c.reset, d.Kernel)
		switch {
		case d.From != nil:
			fmt.Fprintf(w, " (from a snapshot: %s)", snapshotSummary(d.From))
		case len(d.Modules) > 0:
			fmt.Fprintf(w, " (modules loaded at boot: %s)", strings.Join(d.Modules, ", "))
		}
		fmt.Fprintln(w)
		for _, s := range d.Steps {
			what := s.Livepatch
			switch {
			case s.Module != "" && s.Build != "":
				what = s.Module + " (build " + s.Build + ")"
			case s.Module != "":
				what = s.Module
			case s.Task != "" && s.Function != "":
				what = s.Task + " in " + s.Function
			case s.Task != "":
				what = s.Task
			}
			status := c.green + "ok" + c.reset
			switch {
			case !s.OK && s.Expect == kabi.ExpectRefused:
				status = c.yellow + "refused, as expected: " + s.Reason + c.reset
			case !s.OK:
				status = c.red + "REFUSED: " + s.Reason + c.reset
			}
			fmt.Fprintf(w, "  %d. %s %s: %s\n", s.Index, s.Action, what, status)
			width := 0
			changes := s.Changes()
			for _, ch := range changes {
				width = max(width, len(ch.Function))
			}
			for _, ch := range changes {
				col := c.cyan
				switch ch.Kind {
				case plan.Patched:
					col = c.green
				case plan.Reverted:
					col = c.red
				case plan.Repatched:
					col = c.yellow
				}
				// fmt.Fprintf(w, "     %s%s %-*s%s  %s -> %s\n", ...), written
				// piece by piece: a fleet's plan has a million of these lines.
				line = append(line[:0], "     "...)
				line = append(line, col...)
				line = append(line, ch.Kind...)
				line = append(line, ' ')
				line = append(line, ch.Function...)
				for n := utf8.RuneCountInString(ch.Function); n < width; n++ { // fmt pads by runes
					line = append(line, ' ')
				}
				line = append(line, c.reset...)
				line = append(line, "  "...)
				line = appendImpl(line, ch.From)
				line = append(line, " -> "...)
				line = appendImpl(line, ch.To)
				line = append(line, '\n')
				w.Write(line)
			}
			if len(s.Callbacks) > 0 {
				fmt.Fprintf(w, "     callbacks: %s\n", strings.Join(s.Callbacks, "; "))
			}
			if t := s.Transition; t != nil {
				fmt.Fprintf(w, "     %stransition to %s of %s pending: %s not switched%s\n", c.yellow, t.Target, t.Livepatch, strings.Join(t.Stuck, ", "), c.reset)
				for _, key := range slices.Sorted(maps.Keys(t.Unswitched)) {
					fmt.Fprintf(w, "       for tasks not switched, %s runs %s\n", key, t.Unswitched[key])
				}
			}
			if view := sysfsText(s.Sysfs); view != "" {
				fmt.Fprintf(w, "     sysfs: %s\n", view)
			}
			for _, i := range s.Diagnostics {
				d := p.Diagnostics[i]
				col := c.red
				if d.Severity == diag.Warning {
					col = c.yellow
				}
				fmt.Fprintf(w, "     %s%s: %s [%s]%s\n", col, d.Severity, d.Summary, d.Code, c.reset)
			}
		}
		if n := len(d.Steps); n > 0 {
			last := d.Steps[n-1].Functions
			width := 0
			for _, k := range last.Keys() {
				width = max(width, len(k))
			}
			fmt.Fprintf(w, "  After the last step:\n")
			for i, k := range last.Keys() {
				fmt.Fprintf(w, "     %-*s  %s\n", width, k, last.ImplAt(i))
			}
		}
	}
	fmt.Fprintf(w, "\nPlan: %s.\n", summary(p))
}

// appendImpl appends i.String().
func appendImpl(b []byte, i plan.Impl) []byte {
	if i.Kind == plan.Replaced {
		b = append(b, i.Livepatch...)
		b = append(b, ':')
		return append(b, i.New...)
	}
	return append(b, i.String()...)
}

func listOrNone(items []string) string {
	if len(items) == 0 {
		return "nothing"
	}
	return strings.Join(items, ", ")
}

// sysfsText shows the attributes of /sys/kernel/livepatch that only some
// kernel lines have (replace from 6.12, stack_order from 7.x), or "" on a
// line without them.
func sysfsText(view []plan.SysfsPatch) string {
	var parts []string
	for _, sp := range view {
		var attrs []string
		if sp.Replace != nil {
			r := 0
			if *sp.Replace {
				r = 1
			}
			attrs = append(attrs, fmt.Sprintf("replace=%d", r))
		}
		if sp.StackOrder > 0 {
			attrs = append(attrs, fmt.Sprintf("stack_order=%d", sp.StackOrder))
		}
		if len(attrs) > 0 {
			parts = append(parts, sp.Module+" ("+strings.Join(attrs, ", ")+")")
		}
	}
	return strings.Join(parts, "; ")
}
