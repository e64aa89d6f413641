package lang

import (
	"fmt"

	"github.com/hashicorp/hcl/v2"
)

// checkConfig checks what needs the whole configuration: duplicate names,
// module names that collide once kbuild has named them, and references to
// blocks that do not exist.
func checkConfig(cfg *Config) hcl.Diagnostics {
	var diags hcl.Diagnostics
	kernels := map[string]hcl.Range{}
	for _, k := range cfg.Kernels {
		diags = append(diags, checkDuplicate("kernel", k.Name, k.NameRange, kernels)...)
	}
	fixes := map[string]hcl.Range{}
	for _, f := range cfg.Fixes {
		diags = append(diags, checkDuplicate("fix", f.Name, f.NameRange, fixes)...)
		diags = append(diags, checkFix(f)...)
	}
	lps := map[string]hcl.Range{}
	modules := map[string]*Livepatch{}
	for _, l := range cfg.Livepatches {
		diags = append(diags, checkDuplicate("livepatch", l.Name, l.NameRange, lps)...)
		if prev, ok := modules[l.ModuleName()]; ok && prev.Name != l.Name {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Livepatch module names collide",
				Detail: fmt.Sprintf("kbuild names the module of livepatch %q %q, the same as livepatch %q (declared at %s): '-' becomes '_' in module names, and the kernel cannot load two modules of one name.",
					l.Name, l.ModuleName(), prev.Name, prev.NameRange),
				Subject: l.NameRange.Ptr(),
			})
		} else if !ok {
			modules[l.ModuleName()] = l
		}
		diags = append(diags, checkRefs(l.Kernels, kernels)...)
		diags = append(diags, checkRefs(l.Fixes, fixes)...)
		diags = append(diags, checkRefs(l.Drops, fixes)...)
		if l.Kernels != nil && len(l.Kernels.Refs) == 0 {
			diags = append(diags, attrError(l.Kernels.Range, "No kernels", fmt.Sprintf("The livepatch %q must name at least one kernel it is built for.", l.Name)))
		}
		if l.Fixes != nil && len(l.Fixes.Refs) == 0 {
			diags = append(diags, attrError(l.Fixes.Range, "No fixes", fmt.Sprintf("The livepatch %q must carry at least one fix.", l.Name)))
		}
		diags = append(diags, checkListDuplicates(l.Kernels)...)
		diags = append(diags, checkListDuplicates(l.Fixes)...)
		diags = append(diags, checkListDuplicates(l.Drops)...)
		if l.Fixes != nil && l.Drops != nil {
			carried := map[string]bool{}
			for _, r := range l.Fixes.Refs {
				carried[r.Name] = true
			}
			for _, r := range l.Drops.Refs {
				if carried[r.Name] {
					diags = append(diags, attrError(r.Range, "Fix both carried and dropped",
						fmt.Sprintf("The livepatch %q lists fix %q in fixes and in drops; a release either carries a fix or drops it.", l.Name, r.Name)))
				}
			}
		}
	}
	deploys := map[string]hcl.Range{}
	for _, d := range cfg.Deploys {
		diags = append(diags, checkDuplicate("deploy", d.Name, d.NameRange, deploys)...)
		if d.Kernel != nil {
			diags = append(diags, checkRef(*d.Kernel, kernels)...)
		}
		for _, s := range d.Steps {
			if s.Livepatch != nil {
				diags = append(diags, checkRef(*s.Livepatch, lps)...)
			}
		}
	}
	return diags
}

func checkFix(f *Fix) hcl.Diagnostics {
	var diags hcl.Diagnostics
	objects := map[string]hcl.Range{}
	for _, o := range f.Objects {
		if prev, ok := objects[o.Name]; ok {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Duplicate object",
				Detail:   fmt.Sprintf("The fix %q already has an object %q at %s; put all its functions in one block.", f.Name, o.Name, prev),
				Subject:  o.NameRange.Ptr(),
			})
			continue
		}
		objects[o.Name] = o.NameRange
		funcs := map[string]hcl.Range{}
		for _, fn := range o.Funcs {
			// sympos 0 and 1 name the same sysfs directory "name,1"
			// (klp_init_func), so the kernel refuses both in one object.
			key := fmt.Sprintf("%s,%d", fn.Name, max(fn.SymposValue(), 1))
			if fn.File != nil {
				key = fn.Name + ",file=" + fn.File.Value
			}
			if prev, ok := funcs[key]; ok {
				diags = append(diags, &hcl.Diagnostic{
					Severity: hcl.DiagError,
					Summary:  "Duplicate function",
					Detail:   fmt.Sprintf("The object %q of fix %q already replaces %s at %s (sympos 0 and 1 are the same function to the kernel).", o.Name, f.Name, fn.Name, prev),
					Subject:  fn.NameRange.Ptr(),
				})
				continue
			}
			funcs[key] = fn.NameRange
		}
		syms := map[string]hcl.Range{}
		for _, s := range o.Symbols {
			key := fmt.Sprintf("%s,%d", s.Name, s.SymposValue())
			if prev, ok := syms[key]; ok {
				diags = append(diags, &hcl.Diagnostic{
					Severity: hcl.DiagError,
					Summary:  "Duplicate symbol",
					Detail:   fmt.Sprintf("The object %q of fix %q already declares symbol %s at %s.", o.Name, f.Name, s.Name, prev),
					Subject:  s.NameRange.Ptr(),
				})
				continue
			}
			syms[key] = s.NameRange
		}
	}
	names := map[string]hcl.Range{}
	ids := map[int64]*State{}
	for _, s := range f.States {
		diags = append(diags, checkDuplicate("state", s.Name, s.NameRange, names)...)
		if s.ID == nil {
			continue
		}
		if prev, ok := ids[s.ID.Value]; ok {
			diags = append(diags, attrError(s.ID.Range, "Duplicate state id",
				fmt.Sprintf("The fix %q declares state id %d twice (also state %q at %s); klp_get_state would only ever find the first.", f.Name, s.ID.Value, prev.Name, prev.NameRange)))
			continue
		}
		ids[s.ID.Value] = s
	}
	return diags
}

func checkDuplicate(kind, name string, rng hcl.Range, seen map[string]hcl.Range) hcl.Diagnostics {
	if prev, ok := seen[name]; ok {
		return hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  fmt.Sprintf("Duplicate %s", kind),
			Detail:   fmt.Sprintf("A %s named %q is already declared at %s; names must be unique.", kind, name, prev),
			Subject:  rng.Ptr(),
		}}
	}
	seen[name] = rng
	return nil
}

func checkRefs(l *RefList, known map[string]hcl.Range) hcl.Diagnostics {
	if l == nil {
		return nil
	}
	var diags hcl.Diagnostics
	for _, r := range l.Refs {
		diags = append(diags, checkRef(r, known)...)
	}
	return diags
}

func checkRef(r Ref, known map[string]hcl.Range) hcl.Diagnostics {
	if _, ok := known[r.Name]; ok {
		return nil
	}
	detail := fmt.Sprintf("No %s block named %q is declared.", r.Type, r.Name)
	if s := suggest(r.Name, known); s != "" {
		detail += fmt.Sprintf(" Did you mean %s.%s?", r.Type, s)
	}
	return hcl.Diagnostics{attrError(r.Range, fmt.Sprintf("Reference to undeclared %s", r.Type), detail)}
}

func checkListDuplicates(l *RefList) hcl.Diagnostics {
	if l == nil {
		return nil
	}
	var diags hcl.Diagnostics
	seen := map[string]bool{}
	for _, r := range l.Refs {
		if seen[r.Name] {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Duplicate reference",
				Detail:   fmt.Sprintf("%s.%s is listed twice.", r.Type, r.Name),
				Subject:  r.Range.Ptr(),
			})
		}
		seen[r.Name] = true
	}
	return diags
}

// suggest returns the known name closest to name, if it is close enough to
// be a likely typo.
func suggest(name string, known map[string]hcl.Range) string {
	best, bestDist := "", 3
	for k := range known {
		if d := editDistance(name, k); d < bestDist || d == bestDist && best != "" && k < best {
			best, bestDist = k, d
		}
	}
	return best
}

func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
