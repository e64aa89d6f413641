package lang

import (
	"fmt"
	"maps"
	"math/big"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/klpc/klpc/kabi"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/gohcl"
	"github.com/zclconf/go-cty/cty"
)

// The schemas below are written out by hand, one per block type, so that
// every attribute keeps its own range and unknown ones are reported where
// they stand.

var fileSchema = &hcl.BodySchema{
	Blocks: []hcl.BlockHeaderSchema{
		{Type: "kernel", LabelNames: []string{"name"}},
		{Type: "fix", LabelNames: []string{"name"}},
		{Type: "livepatch", LabelNames: []string{"name"}},
		{Type: "deploy", LabelNames: []string{"name"}},
	},
}

var kernelSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "release", Required: true},
		{Name: "arch"},
		{Name: "kallsyms"},
		{Name: "system_map"},
		{Name: "vmlinux"},
		{Name: "vmlinuz"},
		{Name: "modules"},
		{Name: "symvers"},
		{Name: "config"},
		{Name: "ftrace"},
		{Name: "headers"},
		{Name: "source"},
		{Name: "line"},
	},
	Blocks: []hcl.BlockHeaderSchema{
		{Type: "module_build", LabelNames: []string{"name"}},
	},
}

var fixSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "description"},
		{Name: "patch"},
		{Name: "source"},
	},
	Blocks: []hcl.BlockHeaderSchema{
		{Type: "object", LabelNames: []string{"name"}},
		{Type: "state", LabelNames: []string{"name"}},
	},
}

var objectSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "pre_patch"},
		{Name: "post_patch"},
		{Name: "pre_unpatch"},
		{Name: "post_unpatch"},
	},
	Blocks: []hcl.BlockHeaderSchema{
		{Type: "func", LabelNames: []string{"name"}},
		{Type: "symbol", LabelNames: []string{"name"}},
	},
}

var funcSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "new", Required: true},
		{Name: "sympos"},
		{Name: "file"},
	},
}

var symbolSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "sympos"},
		{Name: "file"},
	},
}

var stateSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "id", Required: true},
		{Name: "version", Required: true},
	},
}

var livepatchSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "description"},
		{Name: "replace"},
		{Name: "layout"},
		{Name: "kernels", Required: true},
		{Name: "fixes", Required: true},
		{Name: "drops"},
		{Name: "license"},
		{Name: "module_builds"},
	},
}

var deploySchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "kernel", Required: true},
		{Name: "modules"},
		{Name: "from"},
	},
	Blocks: []hcl.BlockHeaderSchema{
		{Type: "step", LabelNames: []string{"action"}},
	},
}

var stepSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "livepatch"},
		{Name: "module"},
		{Name: "expect"},
		{Name: "task"},
		{Name: "function"},
		{Name: "pre_patch_returns"},
		{Name: "build"},
	},
}

func decodeFile(cfg *Config, body hcl.Body, dir string) hcl.Diagnostics {
	content, diags := body.Content(fileSchema)
	for _, b := range content.Blocks {
		nameDiags := checkBlockName(b)
		diags = append(diags, nameDiags...)
		switch b.Type {
		case "kernel":
			k, d := decodeKernel(b, dir)
			diags = append(diags, d...)
			cfg.Kernels = append(cfg.Kernels, k)
		case "fix":
			f, d := decodeFix(b, dir)
			diags = append(diags, d...)
			cfg.Fixes = append(cfg.Fixes, f)
		case "livepatch":
			l, d := decodeLivepatch(b, !nameDiags.HasErrors())
			diags = append(diags, d...)
			cfg.Livepatches = append(cfg.Livepatches, l)
		case "deploy":
			dp, d := decodeDeploy(b)
			diags = append(diags, d...)
			cfg.Deploys = append(cfg.Deploys, dp)
		}
	}
	return diags
}

// checkBlockName requires names that work both as HCL references
// (kernel.NAME) and as file and folder names in emitted output: letters,
// digits, '_' and '-', not starting with a digit or '-'. That also keeps
// "..", "/" and the like away from the file system.
func checkBlockName(b *hcl.Block) hcl.Diagnostics {
	name := b.Labels[0]
	ok := name != "" && !(name[0] >= '0' && name[0] <= '9') && name[0] != '-'
	for _, r := range name {
		if !(r == '_' || r == '-' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			ok = false
		}
	}
	if ok {
		return nil
	}
	return hcl.Diagnostics{{
		Severity: hcl.DiagError,
		Summary:  fmt.Sprintf("Invalid %s name", b.Type),
		Detail: fmt.Sprintf("A %s name must start with a letter or '_' and hold only letters, digits, '_' and '-', so that it can be referenced as %s.NAME and used as a file name; %q does not.",
			b.Type, b.Type, name),
		Subject: b.LabelRanges[0].Ptr(),
	}}
}

func decodeKernel(b *hcl.Block, dir string) (*Kernel, hcl.Diagnostics) {
	k := &Kernel{Name: b.Labels[0], DeclRange: b.DefRange, NameRange: b.LabelRanges[0]}
	content, diags := b.Body.Content(kernelSchema)
	a := content.Attributes
	k.Release = decodeString(a["release"], &diags)
	k.Arch = decodeString(a["arch"], &diags)
	k.Kallsyms = decodePath(a["kallsyms"], dir, &diags)
	k.SystemMap = decodePath(a["system_map"], dir, &diags)
	k.Vmlinux = decodePath(a["vmlinux"], dir, &diags)
	k.Vmlinuz = decodePath(a["vmlinuz"], dir, &diags)
	k.Modules = decodePath(a["modules"], dir, &diags)
	k.Symvers = decodePath(a["symvers"], dir, &diags)
	k.Config = decodePath(a["config"], dir, &diags)
	k.Ftrace = decodePath(a["ftrace"], dir, &diags)
	k.Headers = decodePath(a["headers"], dir, &diags)
	k.Source = decodePath(a["source"], dir, &diags)
	k.Line = decodeString(a["line"], &diags)
	diags = append(diags, decodeModuleBuilds(k, content.Blocks, dir)...)
	if k.Release != nil {
		if msg := kabi.CheckRelease(k.Release.Value); msg != "" {
			diags = append(diags, attrError(k.Release.Range, "Invalid kernel release",
				fmt.Sprintf("The release is the kernel's `uname -r` (for example \"6.1.0-56-amd64\"): %s.", msg)))
		}
	}
	if k.Headers != nil {
		if msg := kabi.CheckMakePath(k.Headers.Abs); msg != "" {
			diags = append(diags, attrError(k.Headers.Range, "Invalid path",
				fmt.Sprintf("The headers folder %s is written into the generated Makefile as KDIR, but %s.", k.Headers.Abs, msg)))
		}
	}
	if k.Arch != nil && k.Arch.Value != "x86_64" {
		diags = append(diags, attrError(k.Arch.Range, "Unsupported architecture",
			fmt.Sprintf("klpc models livepatching on x86_64 only; %q is not supported.", k.Arch.Value)))
	}
	return k, diags
}

func decodeFix(b *hcl.Block, dir string) (*Fix, hcl.Diagnostics) {
	f := &Fix{Name: b.Labels[0], DeclRange: b.DefRange, NameRange: b.LabelRanges[0]}
	content, diags := b.Body.Content(fixSchema)
	a := content.Attributes
	f.Description = decodeString(a["description"], &diags)
	f.Patch = decodePath(a["patch"], dir, &diags)
	f.Source = decodePath(a["source"], dir, &diags)
	for _, blk := range content.Blocks {
		switch blk.Type {
		case "object":
			o, d := decodeObject(blk)
			diags = append(diags, d...)
			f.Objects = append(f.Objects, o)
		case "state":
			s, d := decodeState(blk)
			diags = append(diags, d...)
			f.States = append(f.States, s)
		}
	}
	if len(f.Objects) == 0 && len(f.States) == 0 {
		diags = append(diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Fix changes nothing",
			Detail:   fmt.Sprintf("The fix %q has no object block with functions to replace and no state: a livepatch made from it would do nothing.", f.Name),
			Subject:  f.DeclRange.Ptr(),
		})
	}
	return f, diags
}

func decodeObject(b *hcl.Block) (*Object, hcl.Diagnostics) {
	o := &Object{Name: b.Labels[0], DeclRange: b.DefRange, NameRange: b.LabelRanges[0]}
	content, diags := b.Body.Content(objectSchema)
	if msg := kabi.CheckObjectName(o.Name); msg != "" {
		diags = append(diags, attrError(o.NameRange, "Invalid object name",
			fmt.Sprintf("An object is \"vmlinux\" or the name of a module: %s.", msg)))
	}
	a := content.Attributes
	o.PrePatch = decodeCIdent(a["pre_patch"], &diags)
	o.PostPatch = decodeCIdent(a["post_patch"], &diags)
	o.PreUnpatch = decodeCIdent(a["pre_unpatch"], &diags)
	o.PostUnpatch = decodeCIdent(a["post_unpatch"], &diags)
	for _, blk := range content.Blocks {
		switch blk.Type {
		case "func":
			fn := &Func{Name: blk.Labels[0], DeclRange: blk.DefRange, NameRange: blk.LabelRanges[0]}
			c, d := blk.Body.Content(funcSchema)
			diags = append(diags, d...)
			if msg := kabi.CheckFuncName(fn.Name); msg != "" {
				diags = append(diags, attrError(fn.NameRange, "Invalid function name", msg+"."))
			}
			fn.New = decodeCIdent(c.Attributes["new"], &diags)
			fn.Sympos = decodeNonNegative(c.Attributes["sympos"], "sympos", unsignedLongMax, &diags)
			fn.File = decodeString(c.Attributes["file"], &diags)
			diags = append(diags, checkSymposFile(fn.Sympos, fn.File)...)
			o.Funcs = append(o.Funcs, fn)
		case "symbol":
			s := &Symbol{Name: blk.Labels[0], DeclRange: blk.DefRange, NameRange: blk.LabelRanges[0]}
			c, d := blk.Body.Content(symbolSchema)
			diags = append(diags, d...)
			if msg := kabi.CheckFuncName(s.Name); msg != "" {
				diags = append(diags, attrError(s.NameRange, "Invalid symbol name", msg+"."))
			}
			s.Sympos = decodeNonNegative(c.Attributes["sympos"], "sympos", unsignedLongMax, &diags)
			s.File = decodeString(c.Attributes["file"], &diags)
			diags = append(diags, checkSymposFile(s.Sympos, s.File)...)
			o.Symbols = append(o.Symbols, s)
		}
	}
	if len(o.Funcs) == 0 && len(o.Symbols) == 0 && o.PrePatch == nil && o.PostPatch == nil && o.PreUnpatch == nil && o.PostUnpatch == nil {
		diags = append(diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Empty object",
			Detail:   fmt.Sprintf("The object %q names no function, symbol or callback.", o.Name),
			Subject:  o.DeclRange.Ptr(),
		})
	}
	return o, diags
}

func checkSymposFile(sympos *Int, file *String) hcl.Diagnostics {
	if sympos != nil && file != nil {
		return hcl.Diagnostics{attrError(file.Range, "Conflicting symbol selectors",
			"Give either sympos (a position among same-named symbols) or file (the source file that defines the symbol), not both.")}
	}
	if file != nil && file.Value == "" {
		return hcl.Diagnostics{attrError(file.Range, "Empty file selector", "file names the source file that defines the symbol; it cannot be empty.")}
	}
	return nil
}

func decodeState(b *hcl.Block) (*State, hcl.Diagnostics) {
	s := &State{Name: b.Labels[0], DeclRange: b.DefRange, NameRange: b.LabelRanges[0]}
	content, diags := b.Body.Content(stateSchema)
	s.ID = decodeNonNegative(content.Attributes["id"], "id", unsignedLongMax, &diags)
	s.Version = decodeNonNegative(content.Attributes["version"], "version", kabi.StateVersionMax, &diags)
	// klp_for_each_state (kernel/livepatch/state.c) stops at the first
	// state whose id is 0: such a state, and every one after it, would be
	// silently ignored by the kernel.
	if s.ID != nil && s.ID.Value == 0 {
		diags = append(diags, attrError(s.ID.Range, "Invalid state id",
			"State id 0 terminates the klp_state array (klp_for_each_state stops there), so the kernel would ignore this state; use an id of 1 or more."))
	}
	return s, diags
}

func decodeLivepatch(b *hcl.Block, nameOK bool) (*Livepatch, hcl.Diagnostics) {
	l := &Livepatch{Name: b.Labels[0], DeclRange: b.DefRange, NameRange: b.LabelRanges[0]}
	content, diags := b.Body.Content(livepatchSchema)
	if msg := kabi.CheckModuleName(l.Name); msg != "" && nameOK {
		diags = append(diags, attrError(l.NameRange, "Invalid livepatch name",
			fmt.Sprintf("A livepatch is built as a kernel module named after it: %s.", msg)))
	}
	a := content.Attributes
	l.Description = decodeString(a["description"], &diags)
	l.Replace = decodeBool(a["replace"], &diags)
	l.Layout = decodeString(a["layout"], &diags)
	if l.Layout != nil && kabi.Layout(l.Layout.Value) != kabi.LayoutCombined && kabi.Layout(l.Layout.Value) != kabi.LayoutPerObject {
		diags = append(diags, attrError(l.Layout.Range, "Invalid layout",
			fmt.Sprintf("layout is %q (one module for the whole release) or %q (one module per patched object); %q is neither.",
				kabi.LayoutCombined, kabi.LayoutPerObject, l.Layout.Value)))
	}
	l.Kernels = decodeRefList(a["kernels"], "kernel", &diags)
	l.Fixes = decodeRefList(a["fixes"], "fix", &diags)
	l.Drops = decodeRefList(a["drops"], "fix", &diags)
	l.License = decodeString(a["license"], &diags)
	l.ModuleBuilds = decodeStringList(a["module_builds"], &diags)
	seen := map[string]bool{}
	for _, b := range l.ModuleBuilds {
		if seen[b.Value] {
			diags = append(diags, attrError(b.Range, "Duplicate reference",
				fmt.Sprintf("module_builds names the module build %q twice.", b.Value)))
		}
		seen[b.Value] = true
	}
	return l, diags
}

func decodeDeploy(b *hcl.Block) (*Deploy, hcl.Diagnostics) {
	d := &Deploy{Name: b.Labels[0], DeclRange: b.DefRange, NameRange: b.LabelRanges[0]}
	content, diags := b.Body.Content(deploySchema)
	d.Kernel = decodeRef(content.Attributes["kernel"], "kernel", &diags)
	d.From = decodeString(content.Attributes["from"], &diags)
	for _, s := range decodeStringList(content.Attributes["modules"], &diags) {
		diags = append(diags, checkModuleArg(s)...)
		d.Modules = append(d.Modules, s)
	}
	for _, blk := range content.Blocks {
		s := &Step{Action: kabi.Action(blk.Labels[0]), DeclRange: blk.DefRange, TypeRange: blk.LabelRanges[0]}
		c, sd := blk.Body.Content(stepSchema)
		diags = append(diags, sd...)
		s.Livepatch = decodeRef(c.Attributes["livepatch"], "livepatch", &diags)
		s.Module = decodeString(c.Attributes["module"], &diags)
		s.Expect = decodeString(c.Attributes["expect"], &diags)
		s.Task = decodeString(c.Attributes["task"], &diags)
		s.Function = decodeString(c.Attributes["function"], &diags)
		s.PrePatchReturns = decodeString(c.Attributes["pre_patch_returns"], &diags)
		s.Build = decodeString(c.Attributes["build"], &diags)
		if s.Build != nil && s.Action != kabi.ActionModuleLoad {
			diags = append(diags, attrError(s.Build.Range, "Unexpected argument",
				fmt.Sprintf("A %q step takes no build argument: only module_load chooses which build of a module it loads.", s.Action)))
		}
		diags = append(diags, checkStep(s, blk)...)
		d.Steps = append(d.Steps, s)
	}
	return d, diags
}

func checkStep(s *Step, blk *hcl.Block) hcl.Diagnostics {
	var diags hcl.Diagnostics
	if s.Expect != nil && kabi.Expect(s.Expect.Value) != kabi.ExpectOK && kabi.Expect(s.Expect.Value) != kabi.ExpectRefused {
		diags = append(diags, attrError(s.Expect.Range, "Invalid expect value",
			fmt.Sprintf("expect is %q (the kernel accepts the step) or %q (the kernel refuses it).", kabi.ExpectOK, kabi.ExpectRefused)))
	}
	if !slices.Contains(kabi.Actions, s.Action) {
		var names []string
		for _, a := range kabi.Actions {
			names = append(names, strconv.Quote(string(a)))
		}
		return append(diags, attrError(s.TypeRange, "Unknown step action",
			fmt.Sprintf("A step is one of %s; %q is none of them.", strings.Join(names, ", "), s.Action)))
	}
	// Each action takes exactly its own arguments.
	args := []struct {
		name    string
		set     bool
		rng     hcl.Range
		wanted  bool
		example string
	}{
		{"livepatch", s.Livepatch != nil, rangeOfRef(s.Livepatch), s.Action.OnLivepatch(), "livepatch = livepatch.NAME"},
		{"module", s.Module != nil, rangeOfString(s.Module), s.Action.OnModule(), `module = "NAME"`},
		{"task", s.Task != nil, rangeOfString(s.Task), s.Action.OnTask(), `task = "NAME"`},
		{"function", s.Function != nil, rangeOfString(s.Function), s.Action == kabi.ActionBlock, `function = "OBJECT:FUNCTION"`},
	}
	for _, a := range args {
		switch {
		case a.wanted && !a.set:
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Missing required argument",
				Detail: fmt.Sprintf("A %q step needs %s.", s.Action, a.example), Subject: blk.DefRange.Ptr()})
		case !a.wanted && a.set:
			diags = append(diags, attrError(a.rng, "Unexpected argument",
				fmt.Sprintf("A %q step takes no %s argument.", s.Action, a.name)))
		}
	}
	if s.Module != nil && s.Action.OnModule() {
		diags = append(diags, checkModuleArg(s.Module)...)
	}
	if s.Task != nil && !kabi.IsCIdent(s.Task.Value) {
		diags = append(diags, attrError(s.Task.Range, "Invalid task name",
			fmt.Sprintf("A task name holds letters, digits and '_' and starts with a letter or '_'; %q does not.", s.Task.Value)))
	}
	if s.Function != nil && s.Action == kabi.ActionBlock {
		object, name, ok := strings.Cut(s.Function.Value, ":")
		msg := ""
		switch {
		case !ok:
			msg = "it has no ':' between object and function"
		case kabi.CheckObjectName(object) != "":
			msg = kabi.CheckObjectName(object)
		case kabi.CheckFuncName(name) != "":
			msg = kabi.CheckFuncName(name)
		}
		if msg != "" {
			diags = append(diags, attrError(s.Function.Range, "Invalid function name",
				fmt.Sprintf("function is \"OBJECT:FUNCTION\", such as \"klpc_probe:klpc_probe_sleep\"; %q is not: %s.", s.Function.Value, msg)))
		}
	}
	if p := s.PrePatchReturns; p != nil {
		if s.Action != kabi.ActionLoad && s.Action != kabi.ActionModuleLoad {
			diags = append(diags, attrError(p.Range, "Unexpected argument",
				fmt.Sprintf("pre_patch_returns belongs to load and module_load steps, not to %q.", s.Action)))
		} else if _, ok := kabi.Errnos[p.Value]; !ok {
			names := slices.Sorted(maps.Keys(kabi.Errnos))
			diags = append(diags, attrError(p.Range, "Invalid errno",
				fmt.Sprintf("pre_patch_returns is \"0\" or an errno name (%s); %q is not.", strings.Join(names, ", "), p.Value)))
		}
	}
	return diags
}

func rangeOfRef(r *Ref) hcl.Range {
	if r == nil {
		return hcl.Range{}
	}
	return r.Range
}

func rangeOfString(s *String) hcl.Range {
	if s == nil {
		return hcl.Range{}
	}
	return s.Range
}

func checkModuleArg(s *String) hcl.Diagnostics {
	if s.Value == "vmlinux" {
		return hcl.Diagnostics{attrError(s.Range, "Invalid module name",
			"vmlinux is the core kernel: it is always present and cannot be loaded or removed.")}
	}
	if msg := kabi.CheckObjectName(s.Value); msg != "" {
		return hcl.Diagnostics{attrError(s.Range, "Invalid module name", msg+".")}
	}
	return nil
}

// broken reports an expression the parser could not read: it has already
// said why, and decoding it would only add noise. An expression that
// parses but cannot be evaluated is not broken in this sense: decoding it
// reports why.
func broken(expr hcl.Expression) bool {
	if len(expr.Variables()) > 0 {
		return false
	}
	v, diags := expr.Value(nil)
	return !diags.HasErrors() && !v.IsWhollyKnown()
}

func attrError(rng hcl.Range, summary, detail string) *hcl.Diagnostic {
	return &hcl.Diagnostic{Severity: hcl.DiagError, Summary: summary, Detail: detail, Subject: rng.Ptr()}
}

func decodeString(attr *hcl.Attribute, diags *hcl.Diagnostics) *String {
	if attr == nil || broken(attr.Expr) {
		return nil
	}
	var s string
	d := gohcl.DecodeExpression(attr.Expr, nil, &s)
	*diags = append(*diags, d...)
	if d.HasErrors() {
		return nil
	}
	return &String{Value: s, Range: attr.Expr.Range()}
}

func decodeCIdent(attr *hcl.Attribute, diags *hcl.Diagnostics) *String {
	s := decodeString(attr, diags)
	if s != nil {
		if msg := kabi.CheckCIdent(s.Value); msg != "" {
			*diags = append(*diags, attrError(s.Range, "Invalid C function name",
				fmt.Sprintf("%s: it must name a C function of the fix's source.", msg)))
		} else if strings.HasPrefix(s.Value, kabi.ReservedPrefix) {
			*diags = append(*diags, attrError(s.Range, "Invalid C function name",
				fmt.Sprintf("%q starts with %q, which klpc keeps for the code it generates; rename the function in the fix's source.", s.Value, kabi.ReservedPrefix)))
		}
	}
	return s
}

func decodePath(attr *hcl.Attribute, dir string, diags *hcl.Diagnostics) *Path {
	s := decodeString(attr, diags)
	if s == nil {
		return nil
	}
	if s.Value == "" {
		*diags = append(*diags, attrError(s.Range, "Empty path", fmt.Sprintf("%s needs a path to a file or folder.", attr.Name)))
		return nil
	}
	if i := strings.IndexFunc(s.Value, isControl); i >= 0 {
		*diags = append(*diags, attrError(s.Range, "Invalid path",
			fmt.Sprintf("%s holds the control character %q at byte %d; klpc writes paths into Makefiles and scripts, where it would break them.", attr.Name, s.Value[i], i+1)))
		return nil
	}
	abs := s.Value
	if !filepath.IsAbs(abs) {
		abs = filepath.Join(dir, abs)
	}
	return &Path{Value: s.Value, Abs: filepath.Clean(abs), Range: s.Range}
}

func decodeBool(attr *hcl.Attribute, diags *hcl.Diagnostics) *Bool {
	if attr == nil || broken(attr.Expr) {
		return nil
	}
	var b bool
	d := gohcl.DecodeExpression(attr.Expr, nil, &b)
	*diags = append(*diags, d...)
	if d.HasErrors() {
		return nil
	}
	return &Bool{Value: b, Range: attr.Expr.Range()}
}

// decodeNonNegative decodes a whole number >= 0 that fits the kernel's
// unsigned long fields (old_sympos, state id and version).
func decodeNonNegative(attr *hcl.Attribute, what string, max int64, diags *hcl.Diagnostics) *Int {
	if attr == nil || broken(attr.Expr) {
		return nil
	}
	var v cty.Value
	d := gohcl.DecodeExpression(attr.Expr, nil, &v)
	*diags = append(*diags, d...)
	if d.HasErrors() {
		return nil
	}
	rng := attr.Expr.Range()
	if v.IsNull() || !v.IsKnown() || v.Type() != cty.Number {
		got := v.Type().FriendlyName()
		if v.IsNull() {
			got = "null"
		}
		*diags = append(*diags, attrError(rng, "Incorrect attribute value type",
			fmt.Sprintf("%s must be a whole number, not %s.", what, got)))
		return nil
	}
	bf := v.AsBigFloat()
	if !bf.IsInt() || bf.Sign() < 0 {
		*diags = append(*diags, attrError(rng, fmt.Sprintf("Invalid %s", what),
			fmt.Sprintf("%s must be a whole number of 0 or more; %s is not.", what, shortNumber(bf))))
		return nil
	}
	i, _ := bf.Int(nil)
	if i.Cmp(big.NewInt(max)) > 0 {
		*diags = append(*diags, attrError(rng, fmt.Sprintf("Invalid %s", what),
			fmt.Sprintf("%s %s is too large: the kernel keeps it in %s, and klpc accepts at most %d.", what, shortNumber(bf), cTypeOf(max), max)))
		return nil
	}
	return &Int{Value: i.Int64(), Range: rng}
}

func decodeRef(attr *hcl.Attribute, typ string, diags *hcl.Diagnostics) *Ref {
	if attr == nil {
		return nil
	}
	r, ok := refFromExpr(attr.Expr, typ, diags)
	if !ok {
		return nil
	}
	return &r
}

func decodeRefList(attr *hcl.Attribute, typ string, diags *hcl.Diagnostics) *RefList {
	if attr == nil {
		return nil
	}
	exprs, d := hcl.ExprList(attr.Expr)
	if d.HasErrors() {
		*diags = append(*diags, attrError(attr.Expr.Range(), "Invalid reference list",
			fmt.Sprintf("%s must be a list of references such as [%s.NAME].", attr.Name, typ)))
		return nil
	}
	l := &RefList{Range: attr.Expr.Range()}
	for _, e := range exprs {
		if r, ok := refFromExpr(e, typ, diags); ok {
			l.Refs = append(l.Refs, r)
		}
	}
	return l
}

// refFromExpr reads a static reference TYPE.NAME without evaluating it.
func refFromExpr(expr hcl.Expression, typ string, diags *hcl.Diagnostics) (Ref, bool) {
	trav, d := hcl.AbsTraversalForExpr(expr)
	if d.HasErrors() || len(trav) != 2 || trav.RootName() != typ {
		*diags = append(*diags, attrError(expr.Range(), "Invalid reference",
			fmt.Sprintf("Expected a reference to a %s block, such as %s.NAME.", typ, typ)))
		return Ref{}, false
	}
	attr, ok := trav[1].(hcl.TraverseAttr)
	if !ok {
		*diags = append(*diags, attrError(expr.Range(), "Invalid reference",
			fmt.Sprintf("Expected a reference to a %s block, such as %s.NAME.", typ, typ)))
		return Ref{}, false
	}
	return Ref{Type: typ, Name: attr.Name, Range: expr.Range()}, true
}

// unsignedLongMax bounds the numbers the kernel keeps as unsigned long
// (old_sympos, klp_state.id); klpc keeps them in int64 and stops below
// 2^62, far beyond any real value.
const unsignedLongMax = 1<<62 - 1

func cTypeOf(max int64) string {
	if max == kabi.StateVersionMax {
		return "an unsigned int (struct klp_state.version)"
	}
	return "an unsigned long"
}

// shortNumber prints a number for a message: in full when it is short, in
// scientific notation when it would run to dozens of digits (1e+400).
func shortNumber(f *big.Float) string {
	if s := f.Text('f', -1); len(s) <= 24 {
		return s
	}
	return f.Text('g', 6)
}

// decodeStringList reads a list of strings, each with its own range.
func decodeStringList(attr *hcl.Attribute, diags *hcl.Diagnostics) []*String {
	if attr == nil {
		return nil
	}
	var vals []string
	d := gohcl.DecodeExpression(attr.Expr, nil, &vals)
	*diags = append(*diags, d...)
	if d.HasErrors() {
		return nil
	}
	exprs, _ := hcl.ExprList(attr.Expr)
	var out []*String
	for i, v := range vals {
		rng := attr.Expr.Range()
		if i < len(exprs) {
			rng = exprs[i].Range()
		}
		out = append(out, &String{Value: v, Range: rng})
	}
	return out
}
