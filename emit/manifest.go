package emit

import (
	"fmt"
	"sort"
	"strings"

	"github.com/klpc/klpc/diag"
	"github.com/klpc/klpc/kabi"
	"github.com/klpc/klpc/plan"
)

// ManifestVersion is the version of manifest.json.
const ManifestVersion = "1.0"

// shfAlloc is SHF_ALLOC, which .klp.rela sections carry beside
// SHF_RELA_LIVEPATCH.
const shfAlloc = 0x2

// Limits of the kernel's parsers of .klp names (klp_resolve_symbols and
// klp_write_section_relocs in kernel/livepatch/core.c): ".klp.sym.%55[^.]
// .%511[^,],%lu" and ".klp.rela.%55[^.]".
const (
	klpObjectMax = kabi.ModuleNameMax
	klpSymbolMax = kabi.KsymNameLen - 1
)

// manifest is manifest.json: what the module to build must hold.
type manifest struct {
	FormatVersion string         `json:"format_version"`
	Livepatch     string         `json:"livepatch"`
	Description   string         `json:"description,omitempty"`
	Kernel        manifestKernel `json:"kernel"`
	Module        string         `json:"module"`
	Layout        string         `json:"layout"`
	Replace       bool           `json:"replace"`
	Vermagic      string         `json:"vermagic"`
	// VermagicFrom says where the vermagic comes from: "kernel" (the
	// kernel build's own modules) or "derived" (from the release, as
	// Debian's amd64 configuration makes it).
	VermagicFrom string           `json:"vermagic_from"`
	Modinfo      []modinfoEntry   `json:"modinfo"`
	Fixes        []manifestFix    `json:"fixes"`
	Objects      []manifestObject `json:"objects"`
	States       []manifestState  `json:"states"`
	ELF          manifestELF      `json:"elf"`
	Kbuild       buildPart        `json:"kbuild"`
	KpatchBuild  buildPart        `json:"kpatch_build"`
	// KlpBuild is upstream klp-build's part, for kernels of the 7.x line
	// only.
	KlpBuild *buildPart `json:"klp_build,omitempty"`
}

type manifestKernel struct {
	Name    string `json:"name"`
	Release string `json:"release"`
	Arch    string `json:"arch"`
}

type modinfoEntry struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

type manifestFix struct {
	Name   string `json:"name"`
	Source string `json:"source,omitempty"` // the copy's name in the folder
	Patch  string `json:"patch,omitempty"`  // the copy's path in the folder
}

type manifestObject struct {
	// Name is "vmlinux" or a module; the klp_object's name is NULL for
	// vmlinux.
	Name      string            `json:"name"`
	Funcs     []manifestFunc    `json:"funcs"`
	Symbols   []manifestSymbol  `json:"symbols"`
	Callbacks manifestCallbacks `json:"callbacks"`
	Target    *manifestTarget   `json:"target,omitempty"`
}

// manifestCallbacks names the C functions of the object's klp_callbacks.
type manifestCallbacks struct {
	PrePatch    string `json:"pre_patch,omitempty"`
	PostPatch   string `json:"post_patch,omitempty"`
	PreUnpatch  string `json:"pre_unpatch,omitempty"`
	PostUnpatch string `json:"post_unpatch,omitempty"`
}

// manifestTarget pins the build of the patched module.
type manifestTarget struct {
	SrcVersion string `json:"srcversion,omitempty"`
	Vermagic   string `json:"vermagic,omitempty"`
}

type manifestFunc struct {
	OldName   string `json:"old_name"`
	OldSympos int    `json:"old_sympos"`
	NewFunc   string `json:"new_func"`
	Fix       string `json:"fix"`
}

type manifestSymbol struct {
	Name     string `json:"name"`
	Sympos   int    `json:"sympos"`
	Fix      string `json:"fix"`
	Exported bool   `json:"exported"`
	// KlpSym is the .klp.sym symbol for a symbol that is not exported;
	// exported ones are ordinary relocations.
	KlpSym string `json:"klp_sym,omitempty"`
}

type manifestState struct {
	Name    string `json:"name"`
	ID      int64  `json:"id"`
	Version int64  `json:"version"`
	Fix     string `json:"fix"`
}

// manifestELF is the livepatch ELF layout
// (Documentation/livepatch/module-elf-format.rst) of the references the
// replacement code makes to symbols the module loader cannot resolve.
type manifestELF struct {
	Symbols      []klpSymbol `json:"klp_symbols"`
	RelaSections []klpRela   `json:"klp_rela_sections"`
	Note         string      `json:"note,omitempty"`
}

type klpSymbol struct {
	Name    string `json:"name"` // .klp.sym.<object>.<symbol>,<sympos>
	Object  string `json:"object"`
	Symbol  string `json:"symbol"`
	Sympos  int    `json:"sympos"`
	Shndx   string `json:"st_shndx"` // SHN_LIVEPATCH
	Type    string `json:"st_type"`
	Binding string `json:"st_bind"`
}

type klpRela struct {
	Name   string `json:"name"` // .klp.rela.<object><section>
	Object string `json:"object"`
	// Section is the section the relocations apply to (sh_info).
	Section string   `json:"section"`
	Type    string   `json:"sh_type"`
	Flags   string   `json:"sh_flags"`
	Symbols []string `json:"symbols"`
}

// buildPart says whether one way of building the module is emitted, with
// its files (relative to the module folder) or why it is not.
type buildPart struct {
	Enabled bool     `json:"enabled"`
	Files   []string `json:"files"`
	Command string   `json:"command,omitempty"`
	Output  string   `json:"output,omitempty"`
	Skipped string   `json:"skipped,omitempty"`
	Notes   []string `json:"notes"`
}

// Vermagic returns the vermagic modules of a kernel build carry and where
// it comes from: the kernel's own when the plan has it, else derived the
// way Debian's amd64 kernels make it (SMP, preempt, mod_unload and
// modversions, with a trailing space: include/linux/vermagic.h).
func Vermagic(k *plan.Kernel) (vermagic, from string) {
	if k.Vermagic != "" {
		return k.Vermagic, "kernel"
	}
	return k.Release + " SMP preempt mod_unload modversions ", "derived"
}

// validateELF checks every name the .klp sections would carry against the
// kernel's sscanf formats, which would otherwise refuse the module when it
// loads ("has an incorrectly formatted name").
func (g *generator) validateELF(job *moduleJob) {
	for _, o := range job.module.Objects {
		if msg := checkKlpObject(o.Name); msg != "" {
			g.errorf(diag.InvalidEmitName, "Invalid livepatch object name", "Module %s of livepatch %q: the object name %q %s.", job.module.Name, job.lp.Name, o.Name, msg)
		}
		for _, s := range o.Symbols {
			if s.Exported {
				continue
			}
			if msg := checkKlpSymbol(s.Name, s.Sympos); msg != "" {
				g.errorf(diag.InvalidEmitName, "Invalid livepatch symbol name", "Module %s of livepatch %q: the symbol %q of object %s (fix %q) %s.", job.module.Name, job.lp.Name, s.Name, o.Name, s.Fix, msg)
			}
		}
		for _, f := range o.Funcs {
			if msg := checkCIdent(f.New); msg != "" {
				g.errorf(diag.InvalidEmitName, "Invalid replacement function name", "Module %s of livepatch %q: the replacement %q of %s %s.", job.module.Name, job.lp.Name, f.New, f.Name, msg)
			}
		}
		for _, cb := range callbackList(o.Callbacks) {
			if msg := checkCIdent(cb.fn); msg != "" {
				g.errorf(diag.InvalidEmitName, "Invalid callback name", "Module %s of livepatch %q: the %s callback %q of object %s %s.", job.module.Name, job.lp.Name, cb.kind, cb.fn, o.Name, msg)
			}
		}
	}
}

func checkKlpObject(name string) string {
	switch {
	case name == "":
		return "is empty"
	case len(name) > klpObjectMax:
		return fmt.Sprintf("is %d characters long; the kernel reads at most %d (.klp.sym.%%55[^.])", len(name), klpObjectMax)
	case strings.Contains(name, "."):
		return "contains '.', where the kernel's .klp name parser stops"
	}
	return ""
}

func checkKlpSymbol(name string, sympos int) string {
	switch {
	case name == "":
		return "is empty"
	case len(name) > klpSymbolMax:
		return fmt.Sprintf("is %d characters long; the kernel reads at most %d (%%511[^,])", len(name), klpSymbolMax)
	case strings.Contains(name, ","):
		return "contains ',', which separates the sympos in .klp.sym names"
	case sympos < 0:
		return "has a negative sympos"
	}
	return ""
}

// checkCIdent refuses names the generated C cannot declare, including
// those that would collide with its own identifiers.
func checkCIdent(name string) string {
	if name == "" {
		return "is empty"
	}
	for i, r := range name {
		if !(r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || i > 0 && r >= '0' && r <= '9') {
			return "is not a C identifier"
		}
	}
	if strings.HasPrefix(name, cPrefix) {
		return fmt.Sprintf("starts with %q, which the generated C file keeps for its own tables", cPrefix)
	}
	return ""
}

// KlpSymName is the name of a livepatch symbol.
func KlpSymName(object, symbol string, sympos int) string {
	return fmt.Sprintf("%s%s.%s,%d", kabi.KlpSymPrefix, object, symbol, sympos)
}

// klpTextSection is the section the replacement code is in: kbuild does
// not compile modules with -ffunction-sections, so all of it is in .text.
const klpTextSection = ".text"

func (g *generator) manifest(job *moduleJob, kb, kp buildPart, kl *buildPart) *manifest {
	k := job.kernel
	vermagic, from := Vermagic(k)
	m := &manifest{
		FormatVersion: ManifestVersion,
		Livepatch:     job.lp.Name,
		Description:   job.lp.Description,
		Kernel:        manifestKernel{Name: k.Name, Release: k.Release, Arch: k.Arch},
		Module:        job.module.Name,
		Layout:        string(job.lp.Layout),
		Replace:       job.module.Replace,
		Vermagic:      vermagic,
		VermagicFrom:  from,
		Fixes:         []manifestFix{},
		Objects:       []manifestObject{},
		States:        []manifestState{},
		ELF:           manifestELF{Symbols: []klpSymbol{}, RelaSections: []klpRela{}},
		Kbuild:        kb,
		KpatchBuild:   kp,
		KlpBuild:      kl,
	}
	// In the order the .ko carries them; modpost adds retpoline=Y on
	// kernels built with retpolines.
	m.Modinfo = []modinfoEntry{
		{"version", plan.ModuleVersion(job.lp.Name, job.kernel.Release, job.module)},
		{"livepatch", "Y"},
	}
	if job.lp.Description != "" {
		m.Modinfo = append(m.Modinfo, modinfoEntry{"description", job.lp.Description})
	}
	m.Modinfo = append(m.Modinfo,
		modinfoEntry{"license", job.lp.License},
		modinfoEntry{"depends", strings.Join(depends(job.module), ",")},
		modinfoEntry{"name", job.module.Name},
		modinfoEntry{"vermagic", vermagic},
	)
	sources, patches := g.copyNames(job)
	for _, f := range job.fixes {
		m.Fixes = append(m.Fixes, manifestFix{Name: f.Name, Source: sources[f.Source], Patch: patches[f.Name]})
	}
	for _, o := range job.module.Objects {
		mo := manifestObject{Name: o.Name, Funcs: []manifestFunc{}, Symbols: []manifestSymbol{}, Callbacks: manifestCallbacks(o.Callbacks)}
		if o.Target != nil {
			mo.Target = &manifestTarget{SrcVersion: o.Target.SrcVersion, Vermagic: o.Target.Vermagic}
		}
		for _, f := range o.Funcs {
			mo.Funcs = append(mo.Funcs, manifestFunc{OldName: f.Name, OldSympos: f.Sympos, NewFunc: f.New, Fix: f.Fix})
		}
		var rela *klpRela
		for _, s := range o.Symbols {
			ms := manifestSymbol{Name: s.Name, Sympos: s.Sympos, Fix: s.Fix, Exported: s.Exported}
			if !s.Exported {
				ms.KlpSym = KlpSymName(o.Name, s.Name, s.Sympos)
				m.ELF.Symbols = append(m.ELF.Symbols, klpSymbol{Name: ms.KlpSym, Object: o.Name, Symbol: s.Name, Sympos: s.Sympos, Shndx: fmt.Sprintf("0x%x", kabi.SHNLivepatch), Type: "STT_NOTYPE", Binding: "STB_GLOBAL"})
				if rela == nil {
					rela = &klpRela{Name: kabi.KlpRelaPrefix + o.Name + klpTextSection, Object: o.Name, Section: klpTextSection, Type: "SHT_RELA", Flags: fmt.Sprintf("0x%x", kabi.SHFRelaLivepatch|shfAlloc)}
				}
				if !contains(rela.Symbols, ms.KlpSym) {
					rela.Symbols = append(rela.Symbols, ms.KlpSym)
				}
			}
			mo.Symbols = append(mo.Symbols, ms)
		}
		if rela != nil {
			sort.Strings(rela.Symbols)
			m.ELF.RelaSections = append(m.ELF.RelaSections, *rela)
		}
		m.Objects = append(m.Objects, mo)
	}
	if len(m.ELF.Symbols) > 0 {
		m.ELF.Note = "kbuild leaves these references undefined; the Makefile then runs klpc klp-convert, which moves their relocations into SHF_ALLOC|SHF_RELA_LIVEPATCH sections against SHN_LIVEPATCH symbols, as listed here. kpatch-build writes them itself."
	}
	for _, s := range job.module.States {
		m.States = append(m.States, manifestState{Name: s.Name, ID: s.ID, Version: s.Version, Fix: s.Fix})
	}
	return m
}

// depends is what modpost writes into "depends": the modules whose
// exported symbols the replacement code uses. vmlinux is not a module.
func depends(m *plan.Module) []string {
	var out []string
	for _, o := range m.Objects {
		if o.Name == kabi.Vmlinux {
			continue
		}
		for _, s := range o.Symbols {
			if s.Exported && !contains(out, o.Name) {
				out = append(out, o.Name)
			}
		}
	}
	sort.Strings(out)
	return out
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
