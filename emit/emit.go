package emit

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"path/filepath"
	"sort"
	"strings"

	"github.com/klpc/klpc/diag"
	"github.com/klpc/klpc/internal/safeio"
	"github.com/klpc/klpc/kabi"
	"github.com/klpc/klpc/plan"
)

// File is one file of the output, by its slash-separated path relative to
// the output folder.
type File struct {
	Path string
	Data []byte
	Mode fs.FileMode // 0o644, or 0o755 for scripts
	// write, when set, writes the file's content instead of Data: a file
	// too large to hold (plan.html of a fleet) is written as it is made.
	write func(io.Writer) error
	// sum is the SHA-256 of a file already written out and dropped.
	sum string
}

// sha256 returns the hex SHA-256 of the file's content.
func (f *File) sha256() string {
	if f.sum != "" {
		return f.sum
	}
	return sha256Hex(f.Data)
}

// Content returns the file's content: Data, or what the file writes.
func (f *File) Content() ([]byte, error) {
	if f.write == nil {
		return f.Data, nil
	}
	var b bytes.Buffer
	err := f.write(&b)
	return b.Bytes(), err
}

// Tree is the whole output, sorted by path.
type Tree struct {
	Files []*File
}

// File returns the file at path, or nil.
func (t *Tree) File(path string) *File {
	i := sort.Search(len(t.Files), func(i int) bool { return t.Files[i].Path >= path })
	if i < len(t.Files) && t.Files[i].Path == path {
		return t.Files[i]
	}
	return nil
}

// Generate computes the output of a plan. It refuses a plan with errors,
// and reports every fix source or patch file it cannot read, with no tree.
func Generate(p *plan.Plan) (*Tree, diag.Diagnostics) { return generateTo(p, nil) }

// generateTo is Generate; with sink set, every file goes to sink as soon as
// it is complete (its hash kept first), and the tree lists the files
// without their content.
func generateTo(p *plan.Plan, sink func(*File)) (*Tree, diag.Diagnostics) {
	if p.HasErrors() {
		return nil, diag.Diagnostics{diag.Errorf(diag.PlanHasErrors, nil, "Plan has errors",
			"Nothing is emitted from a plan with errors; fix the errors the plan reports first.")}
	}
	g := &generator{
		sink:    sink,
		plan:    p,
		files:   map[string]*File{},
		fixes:   map[string]*plan.Fix{},
		kernels: map[string]*plan.Kernel{},
		read:    map[string][]byte{},
		failed:  map[string]bool{},
	}
	for _, f := range p.Fixes {
		g.fixes[f.Name] = f
	}
	for _, k := range p.Kernels {
		g.kernels[k.Name] = k
		// lang checks these; emit checks again, since the text lands in
		// Makefiles and scripts that run as root.
		if msg := kabi.CheckRelease(k.Release); msg != "" {
			g.errorf(diag.InvalidEmitName, "Invalid kernel release", "The release of kernel %q cannot be written into Makefiles and scripts: %s.", k.Name, msg)
		}
		if msg := kabi.CheckMakePath(k.Headers); k.Headers != "" && msg != "" {
			g.errorf(diag.InvalidEmitName, "Invalid headers path", "The headers folder of kernel %q cannot be written into a Makefile: %s.", k.Name, msg)
		}
	}
	if g.diags.HasErrors() {
		return nil, g.diags
	}
	g.run()
	if g.diags.HasErrors() {
		return nil, g.diags
	}
	t := &Tree{}
	for _, f := range g.files {
		t.Files = append(t.Files, f)
	}
	sort.Slice(t.Files, func(i, j int) bool { return t.Files[i].Path < t.Files[j].Path })
	return t, g.diags
}

type generator struct {
	sink    func(*File)
	plan    *plan.Plan
	files   map[string]*File
	fixes   map[string]*plan.Fix
	kernels map[string]*plan.Kernel
	diags   diag.Diagnostics
	// read caches the fix files read, by absolute path; failed remembers
	// those already reported.
	read   map[string][]byte
	failed map[string]bool

	artifacts []*artifact
}

func (g *generator) errorf(code diag.Code, summary, format string, args ...any) {
	g.diags = append(g.diags, diag.Errorf(code, nil, summary, format, args...))
}

func (g *generator) add(path string, data []byte, mode fs.FileMode) {
	f := &File{Path: path, Data: data, Mode: mode}
	if g.sink != nil {
		f.sum = sha256Hex(data)
	}
	g.put(f)
}

// addWriter adds a file whose content write writes when the output is
// written.
func (g *generator) addWriter(path string, write func(io.Writer) error, mode fs.FileMode) {
	g.put(&File{Path: path, Mode: mode, write: write})
}

// put records f, refusing a second file at its path, and hands it to the
// sink when files are written as they are made.
func (g *generator) put(f *File) {
	if _, dup := g.files[f.Path]; dup {
		g.errorf(diag.EmitConflict, "Two outputs at one path", "klpc would write %s twice; rename one of the releases or kernels whose names lead there.", f.Path)
		return
	}
	g.files[f.Path] = f
	if g.sink != nil {
		g.sink(f) // the sink owns f from now on
	}
}

func (g *generator) addJSON(path string, v any) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		g.errorf(diag.EncodeFailed, "Cannot encode JSON", "Encoding %s failed: %s.", path, err)
		return
	}
	g.add(path, b.Bytes(), 0o644)
}

// readFix reads a file a fix names, once; what is the attribute ("source"
// or "patch").
func (g *generator) readFix(fix *plan.Fix, what, path string) ([]byte, bool) {
	if data, ok := g.read[path]; ok {
		return data, true
	}
	data, err := safeio.ReadFile(path, safeio.MaxFixFile)
	if err != nil {
		if !g.failed[path] {
			g.failed[path] = true
			reason := err.Error()
			if pe, ok := err.(*fs.PathError); ok {
				reason = pe.Err.Error()
			}
			g.errorf(diag.EmitInputUnreadable, fmt.Sprintf("Cannot read fix %s file", what),
				"The fix %q names %s file %s, which cannot be read: %s. Nothing was emitted.", fix.Name, what, path, reason)
		}
		return nil, false
	}
	g.read[path] = data
	return data, true
}

// moduleJob is one module to emit, with what it is made of.
type moduleJob struct {
	lp     *plan.Livepatch
	kernel *plan.Kernel
	build  *plan.Build
	module *plan.Module
	dir    string      // <kernel>/<module>
	fixes  []*plan.Fix // the fixes the module carries, in release order
}

func (g *generator) run() {
	kernelFolders := map[string]map[string]string{} // kernel -> folder -> what
	claim := func(kernel, folder, what string) bool {
		if kernelFolders[kernel] == nil {
			kernelFolders[kernel] = map[string]string{}
		}
		if prev, ok := kernelFolders[kernel][folder]; ok {
			g.errorf(diag.EmitConflict, "Two outputs in one folder", "On kernel %q, %s and %s would both be emitted in the folder %s/%s. Rename one of the releases.", kernel, prev, what, kernel, folder)
			return false
		}
		kernelFolders[kernel][folder] = what
		return true
	}
	for _, lp := range g.plan.Livepatches {
		for _, b := range lp.Builds {
			k := g.kernels[b.Kernel]
			if k == nil {
				g.errorf(diag.PlanInconsistent, "Unknown kernel", "The livepatch %q is built for kernel %q, which the plan does not hold.", lp.Name, b.Kernel)
				continue
			}
			for _, m := range b.Modules {
				if msg := checkModuleName(m.Name); msg != "" {
					g.errorf(diag.InvalidEmitName, "Invalid module name", "The module %q of livepatch %q cannot be built: %s.", m.Name, lp.Name, msg)
					continue
				}
				if !claim(b.Kernel, m.Name, fmt.Sprintf("module %s of livepatch %q", m.Name, lp.Name)) {
					continue
				}
				job := &moduleJob{lp: lp, kernel: k, build: b, module: m, dir: b.Kernel + "/" + m.Name}
				job.fixes = g.moduleFixes(lp, b, m)
				g.module(job)
			}
			if lp.Layout == kabi.LayoutPerObject && claim(b.Kernel, lp.Name, fmt.Sprintf("the modprobe configuration and upgrades of livepatch %q", lp.Name)) {
				g.perObject(lp, k, b)
			}
		}
	}
	g.index()
}

// moduleFixes returns the fixes a module is made of, in release order: all
// of the release's for a combined module, those that change the module's
// objects (or declare the states it carries) for a per-object one.
func (g *generator) moduleFixes(lp *plan.Livepatch, b *plan.Build, m *plan.Module) []*plan.Fix {
	var out []*plan.Fix
	objects := map[string]bool{}
	for _, o := range m.Objects {
		objects[o.Name] = true
	}
	states := map[string]bool{}
	for _, s := range m.States {
		states[s.Fix] = true
	}
	for _, name := range lp.Fixes {
		f := g.fixes[name]
		if f == nil {
			g.errorf(diag.PlanInconsistent, "Unknown fix", "The livepatch %q carries fix %q, which the plan does not hold.", lp.Name, name)
			continue
		}
		use := len(b.Modules) == 1 || states[f.Name]
		for _, o := range f.Objects {
			use = use || objects[o.Name]
		}
		if use {
			out = append(out, f)
		}
	}
	return out
}

// module emits one module's folder and records its artifacts.
func (g *generator) module(job *moduleJob) {
	first := len(g.diags)
	g.validateELF(job)
	if len(g.diags) > first && g.diags[first:].HasErrors() {
		return
	}
	kb := g.kbuild(job)
	kp := g.kpatch(job)
	kl := g.klpBuild(job, kb, kp)
	g.addJSON(job.dir+"/manifest.json", g.manifest(job, kb, kp, kl))
	if kb.Enabled {
		g.artifacts = append(g.artifacts, &artifact{job: job, builder: "kbuild", dir: job.dir, ko: job.dir + "/" + job.module.Name + ".ko", command: "make -C " + job.dir, inputs: prefixed(job.dir, kb.Files)})
	}
	if kp.Enabled {
		g.artifacts = append(g.artifacts, &artifact{job: job, builder: "kpatch-build", dir: job.dir, ko: job.dir + "/kpatch/" + job.module.Name + ".ko", command: "sh " + job.dir + "/kpatch-build.sh", inputs: prefixed(job.dir, kp.Files)})
	}
	if kl != nil && kl.Enabled {
		g.artifacts = append(g.artifacts, &artifact{job: job, builder: "klp-build", dir: job.dir, ko: job.dir + "/klp-build/" + job.module.Name + ".ko", command: "sh " + job.dir + "/klp-build.sh", inputs: prefixed(job.dir, kl.Files)})
	}
}

func prefixed(dir string, names []string) []string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = dir + "/" + n
	}
	return out
}

// checkModuleName says why kbuild cannot build a module of that name (its
// folder, file and KBUILD_MODNAME), or "".
func checkModuleName(name string) string {
	switch {
	case name == "":
		return "the name is empty"
	case len(name) > kabi.ModuleNameMax:
		return fmt.Sprintf("the name is %d characters long; the kernel keeps at most %d", len(name), kabi.ModuleNameMax)
	}
	for _, r := range name {
		if !(r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			return fmt.Sprintf("kbuild names modules with letters, digits and '_', not %q", r)
		}
	}
	return ""
}

func sha256Hex(data []byte) string {
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

// kernelText names a kernel for comments: "deb12-56 (6.1.0-56-amd64)".
func kernelText(k *plan.Kernel) string {
	return fmt.Sprintf("%s (%s)", k.Name, k.Release)
}

// shellQuote quotes s for a POSIX shell when it needs it.
func shellQuote(s string) string {
	safe := s != ""
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("_-./=:,+@%", r)) {
			safe = false
			break
		}
	}
	if safe {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// baseName is the last element of a path, for messages and copies.
func baseName(path string) string { return filepath.Base(path) }
