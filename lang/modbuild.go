package lang

import (
	"fmt"

	"github.com/hashicorp/hcl/v2"
)

// ModuleBuild is a kernel block's module_build: another build of one of
// the kernel's modules (a fixed .ko put on disk, a kernel module package),
// which a host may have loaded instead of the kernel's own.
type ModuleBuild struct {
	Name   string
	Module *String // the module's name, as the kernel spells it
	Path   *Path   // the .ko, or a folder holding it

	DeclRange hcl.Range
	NameRange hcl.Range
}

var moduleBuildSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "module", Required: true},
		{Name: "path", Required: true},
	},
}

// decodeModuleBuilds reads the module_build blocks of a kernel block.
func decodeModuleBuilds(k *Kernel, blocks hcl.Blocks, dir string) hcl.Diagnostics {
	var diags hcl.Diagnostics
	seen := map[string]*ModuleBuild{}
	for _, b := range blocks {
		if b.Type != "module_build" {
			continue
		}
		mb := &ModuleBuild{Name: b.Labels[0], DeclRange: b.DefRange, NameRange: b.LabelRanges[0]}
		c, d := b.Body.Content(moduleBuildSchema)
		diags = append(diags, d...)
		mb.Module = decodeString(c.Attributes["module"], &diags)
		mb.Path = decodePath(c.Attributes["path"], dir, &diags)
		if mb.Module != nil {
			diags = append(diags, checkModuleArg(mb.Module)...)
		}
		if prev := seen[mb.Name]; prev != nil {
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Duplicate module build",
				Detail:  fmt.Sprintf("Kernel %q already has a module_build %q, declared at %s.", k.Name, mb.Name, prev.DeclRange),
				Subject: mb.NameRange.Ptr()})
			continue
		}
		seen[mb.Name] = mb
		k.ModuleBuilds = append(k.ModuleBuilds, mb)
	}
	return diags
}
