package target

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/klpc/klpc/internal/safeio"
)

// Spec names the input files of one kernel build. Its fields mirror the
// attributes of the HCL kernel block; every field is optional.
type Spec struct {
	Kallsyms  string // saved /proc/kallsyms (plain or compressed)
	SystemMap string // System.map
	Vmlinux   string // vmlinux ELF
	Vmlinuz   string // kernel image (bzImage) whose kallsyms tables are decoded
	Modules   string // folder searched recursively for modules
	Symvers   string // Module.symvers
	Config    string // .config
	Ftrace    string // saved available_filter_functions
}

// Input kinds, as Input.Kind reports them.
const (
	KindKallsyms  = "kallsyms"
	KindSystemMap = "System.map"
	KindVmlinux   = "vmlinux"
	KindModule    = "module"
	KindSymvers   = "Module.symvers"
	KindConfig    = "config"
	KindFtrace    = "available_filter_functions"
)

// Input is one file a build was loaded from.
type Input struct {
	Kind string
	Path string
	Size int64
	// SHA256 (hex) identifies the content the index was built from: the
	// whole file as stored, except for an uncompressed module, whose
	// hash covers the size and the sections its symbols were read from
	// (see readModuleFile). It is empty in a build loaded without the
	// cache (Options.NoCache), which needs no cache key.
	SHA256 string
}

// Build is one kernel build: vmlinux, its modules, exports and config.
type Build struct {
	// Vmlinux is nil when no vmlinux symbol source was given. Read from
	// the index cache, it decodes its symbols on first use too: Lookup,
	// Symbol and Len need no Load, the Symbols field does.
	Vmlinux *Object
	// Modules by module name. A build read from the index cache decodes
	// a module's symbols on first use: Object, and every method of
	// Object, do it; call Object.Load before reading the Symbols field of
	// a module taken from this map directly.
	Modules map[string]*Object
	// Exports in Module.symvers order.
	Exports []Export
	// Config is nil when no .config was given.
	Config Config
	// Inputs lists every file read, sorted by kind then path.
	Inputs []Input
	// Damaged holds, by module name, the module files that could not be
	// read (truncated, not ELF, bad compression, over a size cap, not a
	// regular file, a symlink out of the modules folder), each with an
	// error naming the file. The name is the file's, without its suffix,
	// since .modinfo could not be read. The rest of the build is indexed;
	// a release that patches a damaged module must fail, even when
	// Modules holds what kallsyms showed for it. Damage to vmlinux's own
	// sources, Module.symvers, the config or available_filter_functions
	// fails the whole load instead.
	Damaged map[string]error

	exportOnce    sync.Once
	exportIdx     map[string]int
	exportScans   atomic.Int32
	exportIndexed atomic.Bool
}

// Object returns vmlinux (name "vmlinux" or "") or the named module.
func (b *Build) Object(name string) (*Object, bool) {
	if name == "" || name == VmlinuxName {
		return b.Vmlinux, b.Vmlinux != nil
	}
	o, ok := b.Modules[ModuleName(name)]
	if ok {
		o.load()
	}
	return o, ok
}

// ModuleNames returns the module names in order.
func (b *Build) ModuleNames() []string { return sortedKeys(b.Modules) }

// Export looks up an exported symbol.
func (b *Build) Export(symbol string) (Export, bool) {
	// A plan asks about a few symbols: scan for the first ones rather
	// than build a map of ~30k exports (as Object.Lookup does).
	if !b.exportIndexed.Load() && b.exportScans.Add(1) <= linearLookups {
		// The last entry of a name wins, as in the map.
		for i := len(b.Exports) - 1; i >= 0; i-- {
			if b.Exports[i].Symbol == symbol {
				return b.Exports[i], true
			}
		}
		return Export{}, false
	}
	b.exportOnce.Do(func() {
		b.exportIdx = make(map[string]int, len(b.Exports))
		for i, e := range b.Exports {
			b.exportIdx[e.Symbol] = i
		}
		b.exportIndexed.Store(true)
	})
	i, ok := b.exportIdx[symbol]
	if !ok {
		return Export{}, false
	}
	return b.Exports[i], true
}

// Counts sums the counts of vmlinux and every module.
func (b *Build) Counts() Counts {
	total := Counts{Traceable: -1}
	add := func(c Counts) {
		total.Symbols += c.Symbols
		total.Functions += c.Functions
		if c.Traceable >= 0 {
			total.Traceable = max(total.Traceable, 0) + c.Traceable
		}
	}
	if b.Vmlinux != nil {
		add(b.Vmlinux.Counts())
	}
	for _, m := range b.Modules { // a sum: any order will do
		add(m.Counts())
	}
	return total
}

// Load reads a build from its input files, without the cache.
func Load(spec Spec) (*Build, error) {
	return LoadCached(spec, Options{NoCache: true})
}

// inputFile is one file of a spec with its kind, before it is read.
type inputFile struct {
	kind string
	path string
	// listed: the modules folder listing showed a regular file, not a
	// symlink, so it needs no stat before its open and cannot lead out
	// of the folder.
	listed bool
}

// dirList is the folders of a modules tree, each with its identity taken
// before it was listed.
type dirList struct {
	paths []inputFile
	stats []fileStat
}

// settled reports whether every folder was last changed long enough ago
// (file times tick coarsely) that a later change must show in its times.
func (d dirList) settled() bool {
	limit := time.Now().Add(-2 * time.Second).UnixNano()
	for _, st := range d.stats {
		if st == (fileStat{}) || st.mtime > limit || st.ctime > limit {
			return false
		}
	}
	return len(d.stats) > 0
}

// listFiles lists the files a spec names, expanding the modules folder,
// and the folders of the modules tree it walked.
func (s Spec) listFiles() ([]inputFile, dirList, error) {
	var dirs dirList
	out, err := s.inputFiles()
	if err != nil {
		return nil, dirs, err
	}
	if s.Modules != "" {
		mods, err := walkModuleFiles(s.Modules, &dirs)
		if err != nil {
			return nil, dirs, err
		}
		if len(mods) == 0 {
			return nil, dirs, &ParseError{File: s.Modules, Msg: "no kernel modules (*.ko, *.ko.xz, *.ko.zst, *.ko.gz) found"}
		}
		out = append(out, mods...)
	}
	if len(out) == 0 {
		return nil, dirs, errors.New("kernel build has no input files")
	}
	return out, dirs, nil
}

// kindModulesFolder is the kind named gives a spec's modules folder.
const kindModulesFolder = "modules"

// named lists every path a spec names, empty or not, with its kind, in
// a fixed order (the memo's key depends on it).
func (s Spec) named() []inputFile {
	return []inputFile{
		{kind: KindKallsyms, path: s.Kallsyms}, {kind: KindSystemMap, path: s.SystemMap}, {kind: KindVmlinux, path: s.Vmlinux},
		{kind: KindVmlinuz, path: s.Vmlinuz}, {kind: kindModulesFolder, path: s.Modules}, {kind: KindSymvers, path: s.Symvers},
		{kind: KindConfig, path: s.Config}, {kind: KindFtrace, path: s.Ftrace},
	}
}

// inputFiles lists the files a spec names besides the modules folder,
// each checked to be a regular file within its size cap.
func (s Spec) inputFiles() ([]inputFile, error) {
	var out []inputFile
	for _, f := range s.named() {
		if f.path == "" || f.kind == kindModulesFolder {
			continue
		}
		if _, err := safeio.Check(f.path, limitOf(f.kind)); err != nil {
			return nil, err
		}
		out = append(out, f)
	}
	return out, nil
}

// load reads every input, modules in parallel, and hashes them when hash
// is set (the cache needs the hashes for its key). modulesRoot is the
// modules folder the module files were found in ("" when none); all
// compressed files draw on budget.
func load(files []inputFile, modulesRoot string, budget *safeio.Budget, hash bool) (*Build, error) {
	b, _, _, err := loadFrom(files, modulesRoot, false, budget, hash, nil)
	return b, err
}

// loadFrom is load that, with walk set, also walks the modules folder
// modulesRoot and reads the module files in it as it goes (see walkRead);
// files then name no module file. It returns every file read, in the
// order listFiles gives, with the identity of each module file found by
// the walk as it was opened (zero for the others), and fills dirs, when
// not nil, with the folders the walk listed.
func loadFrom(files []inputFile, modulesRoot string, walk bool, budget *safeio.Budget, hash bool, dirs *dirList) (*Build, []inputFile, []fileStat, error) {
	rd := newReader(budget)
	b := &Build{Modules: map[string]*Object{}}
	inputs := make([]Input, len(files))
	var cfgErr error
	// The config decides the module loader rules, so read it first.
	for i, f := range files {
		if f.kind != KindConfig {
			continue
		}
		data, release, in, err := readHashed(f, hash)
		if err == nil {
			if data, err = rd.decompress(f.kind, f.path, data); err == nil {
				b.Config, err = parseConfig(f.path, data)
			}
		}
		release()
		inputs[i], cfgErr = in, err
	}
	if cfgErr != nil {
		return nil, nil, nil, cfgErr
	}
	rules := rulesFromConfig(b.Config)
	var realRoot string
	if modulesRoot != "" {
		var err error
		if realRoot, err = filepath.EvalSymlinks(modulesRoot); err != nil {
			return nil, nil, nil, err
		}
	}

	var kallsyms *Kallsyms
	var sysmap, elf, img *Object
	var ff *FilterFunctions
	walk = walk && modulesRoot != ""
	if len(files) > 64 || walk {
		defer boostGC()()
	}
	// The walk of the modules folder runs beside the other inputs: a
	// kernel image takes as long to decompress as the tree to read.
	var (
		walked  []moduleRead
		walkErr error
		walking sync.WaitGroup
	)
	if walk {
		walking.Add(1)
		go func() {
			defer walking.Done()
			walked, walkErr = rd.walkRead(modulesRoot, realRoot, rules, hash, dirs)
		}()
	}
	errs := make([]error, len(files))
	mods := make([]*Object, len(files))
	parallel(len(files), func(i int) {
		f := files[i]
		if f.kind == KindConfig {
			return
		}
		inputs[i] = Input{Kind: f.kind, Path: f.path}
		if f.kind == KindModule {
			if !f.listed {
				if errs[i] = insideFolder(realRoot, f.path); errs[i] != nil {
					return
				}
			}
			mods[i], inputs[i], errs[i] = rd.readModuleFile(f, rules, hash)
			return
		}
		data, release, in, err := readHashed(f, hash)
		defer release()
		inputs[i] = in
		if err != nil {
			errs[i] = err
			return
		}
		switch f.kind {
		case KindVmlinux:
			// A vmlinux may be hundreds of megabytes; it is read by ReadAt
			// from the file rather than kept from the hashing pass.
			elf, errs[i] = rd.readVmlinux(f.path)
			return
		case KindVmlinuz:
			img, errs[i] = parseVmlinuz(f.path, data)
			return
		}
		data, err = rd.decompress(f.kind, f.path, data)
		if err != nil {
			errs[i] = err
			return
		}
		switch f.kind {
		case KindKallsyms:
			kallsyms, errs[i] = parseKallsyms(f.path, data)
		case KindSystemMap:
			sysmap, errs[i] = parseSystemMap(f.path, data)
		case KindSymvers:
			b.Exports, errs[i] = parseSymvers(f.path, data)
		case KindFtrace:
			ff, errs[i] = parseFilterFunctions(f.path, data)
		}
	})
	var ids []fileStat
	if walk {
		walking.Wait()
		if walkErr != nil {
			return nil, nil, nil, walkErr
		}
		if len(walked) == 0 {
			return nil, nil, nil, &ParseError{File: modulesRoot, Msg: "no kernel modules (*.ko, *.ko.xz, *.ko.zst, *.ko.gz) found"}
		}
		files = slices.Clip(files)
		ids = make([]fileStat, len(files), len(files)+len(walked))
		for _, r := range walked {
			files = append(files, r.file)
			mods = append(mods, r.obj)
			inputs = append(inputs, r.in)
			errs = append(errs, r.err)
			ids = append(ids, r.id)
		}
	}
	// A damaged module file is a problem of that module only; anything
	// else fails the build.
	var fatal []error
	for i, err := range errs {
		if err == nil {
			continue
		}
		if files[i].kind != KindModule {
			fatal = append(fatal, err)
			continue
		}
		if b.Damaged == nil {
			b.Damaged = map[string]error{}
		}
		name := moduleNameFromPath(files[i].path)
		if prev := b.Damaged[name]; prev != nil {
			b.Damaged[name] = errors.Join(prev, damagedErr(files[i].path, err))
		} else {
			b.Damaged[name] = damagedErr(files[i].path, err)
		}
	}
	if err := errors.Join(fatal...); err != nil {
		return nil, nil, nil, err
	}

	// vmlinux: kallsyms is the kernel's own order and wins; an ELF adds
	// source files and call sites to it, or stands alone; a kernel image
	// gives the same order and call sites; System.map is the fallback.
	switch {
	case kallsyms != nil:
		b.Vmlinux = kallsyms.Vmlinux
		if elf != nil {
			annotate(b.Vmlinux, elf)
		} else if img != nil {
			annotate(b.Vmlinux, img)
		}
		for n, m := range kallsyms.Modules {
			b.Modules[n] = m
		}
	case elf != nil:
		b.Vmlinux = elf
	case img != nil:
		b.Vmlinux = img
	case sysmap != nil:
		b.Vmlinux = sysmap
	}
	// Modules read from files replace what kallsyms showed for them: same
	// order, plus call sites and .modinfo.
	for i, m := range mods {
		if m == nil {
			continue
		}
		if prev, ok := b.Modules[m.Name]; ok && prev.Source == "module" {
			return nil, nil, nil, &ParseError{File: files[i].path, Msg: "module " + excerpt(m.Name) + " is also provided by " + prev.Path}
		}
		b.Modules[m.Name] = m
	}
	if ff != nil {
		if b.Vmlinux != nil && b.Vmlinux.Source != "vmlinux" && b.Vmlinux.Source != KindVmlinuz {
			b.Vmlinux.applyFilterFunctions(ff.Vmlinux)
		}
		for n, m := range b.Modules {
			if m.Source == "kallsyms" {
				m.applyFilterFunctions(ff.Modules[n])
			}
		}
	}
	sort.SliceStable(inputs, func(i, j int) bool {
		if inputs[i].Kind != inputs[j].Kind {
			return inputs[i].Kind < inputs[j].Kind
		}
		return inputs[i].Path < inputs[j].Path
	})
	b.Inputs = inputs
	return b, files, ids, nil
}

// damagedErr makes err a *ParseError naming path, which is the form the
// index cache keeps.
func damagedErr(path string, err error) *ParseError {
	var pe *ParseError
	if errors.As(err, &pe) && pe.File == path {
		return pe
	}
	msg := err.Error()
	if rest, ok := strings.CutPrefix(msg, path+": "); ok {
		msg = rest
	}
	return &ParseError{File: path, Msg: msg}
}

// insideFolder checks that a module file found below root (already free
// of symlinks) does not lead out of it. The walk does not descend into
// symlinked folders, so only the file itself can be a symlink.
func insideFolder(root, path string) error {
	st, err := os.Lstat(path)
	if err != nil || st.Mode()&fs.ModeSymlink == 0 {
		return err
	}
	real, err := filepath.EvalSymlinks(path)
	if err != nil {
		return err
	}
	if rel, err := filepath.Rel(root, real); err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return &ParseError{File: path, Msg: "is a symbolic link that leads out of the modules folder " + root}
	}
	return nil
}

// annotate copies source files, sizes and traceability from an ELF-derived
// object onto the kallsyms-ordered one. Symbols are paired by name and
// occurrence, not address, because KASLR moves every address at boot.
func annotate(dst, src *Object) {
	for i := range dst.Symbols {
		d := &dst.Symbols[i]
		want := dst.Lookup(d.Name)
		have := src.Lookup(d.Name)
		if len(want) != len(have) {
			continue
		}
		for k, j := range want {
			if int(j) == i {
				s := &src.Symbols[have[k]]
				d.File, d.Size, d.Traceable = s.File, s.Size, s.Traceable
				break
			}
		}
	}
}

// readHashed maps a whole input file and, when hash is set, hashes its
// bytes as stored. The data is valid until release is called; parsers
// copy what they keep. release is never nil.
func readHashed(f inputFile, hash bool) ([]byte, func(), Input, error) {
	in := Input{Kind: f.kind, Path: f.path}
	if f.kind == KindVmlinux {
		if !hash {
			st, err := safeio.Check(f.path, limitOf(f.kind))
			if err == nil {
				in.Size = st.Size()
			}
			return nil, func() {}, in, err
		}
		sum, size, err := hashFile(f.path, limitOf(f.kind))
		in.SHA256, in.Size = sum, size
		return nil, func() {}, in, err
	}
	data, release, err := readPooled(f.path, limitOf(f.kind))
	if err != nil {
		return nil, func() {}, in, err
	}
	in.Size = int64(len(data))
	if hash {
		sum := sha256.Sum256(data)
		in.SHA256 = hex.EncodeToString(sum[:])
	}
	return data, release, in, nil
}

func hashFile(path string, limit int64) (string, int64, error) {
	fh, _, err := safeio.Open(path, limit)
	if err != nil {
		return "", 0, err
	}
	defer fh.Close()
	h := sha256.New()
	// The file may grow after the size check; hash no more than the cap.
	n, err := io.Copy(h, io.LimitReader(fh, limit+1))
	if err != nil {
		return "", 0, fmt.Errorf("%s: %w", path, err)
	}
	if n > limit {
		return "", 0, &ParseError{File: path, Msg: "grew past the " + safeio.Size(limit) + " allowed while it was read"}
	}
	return hex.EncodeToString(h.Sum(nil)), n, nil
}

// Discover finds the inputs of a build in a folder, for `klpc index DIR`:
// kallsyms[.gz], System.map*, vmlinux, Module.symvers[.gz], .config,
// config*, available_filter_functions[.gz], and modules in modules/ or
// lib/modules/<release>/, also under boot/. Debian's placeholder System.map
// is skipped (ReadSystemMap explains why, if called on it).
func Discover(dir string) (Spec, error) {
	return discover(dir, 0)
}

// maxDiscoverEntries bounds the folder entries Discover looks at; a kernel
// build folder has a few dozen. (A variable so that tests can lower it.)
var maxDiscoverEntries = 10000

func discover(dir string, depth int) (Spec, error) {
	var s Spec
	ents, err := readDirBounded(dir, maxDiscoverEntries)
	if err != nil {
		return s, err
	}
	pick := func(dst *string, p string) {
		if *dst == "" {
			*dst = p
		}
	}
	for _, e := range ents {
		n, p := e.Name, filepath.Join(dir, e.Name)
		if e.Type.IsDir() {
			switch n {
			case "modules":
				pick(&s.Modules, p)
			case "boot":
				if depth > 0 {
					break
				}
				sub, err := discover(p, depth+1)
				if err == nil {
					mergeSpec(&s, sub)
				}
			case "lib":
				discoverModules(&s, p)
			case "usr":
				discoverModules(&s, filepath.Join(p, "lib"))
			case "kernel":
				if isModulesFolder(dir) {
					pick(&s.Modules, dir)
				}
			}
			continue
		}
		switch {
		case n == "kallsyms" || strings.HasPrefix(n, "kallsyms."):
			pick(&s.Kallsyms, p)
		case strings.HasPrefix(n, "System.map"):
			pick(&s.SystemMap, p)
		case n == "vmlinux" || strings.HasPrefix(n, "vmlinux-") && !strings.HasPrefix(n, "vmlinuz"):
			pick(&s.Vmlinux, p)
		case n == "vmlinuz" || strings.HasPrefix(n, "vmlinuz-") || n == "bzImage":
			pick(&s.Vmlinuz, p)
		case n == "Module.symvers" || strings.HasPrefix(n, "Module.symvers."):
			pick(&s.Symvers, p)
		case n == ".config" || n == "config" || strings.HasPrefix(n, "config-") || strings.HasPrefix(n, "config."):
			pick(&s.Config, p)
		case n == "available_filter_functions" || strings.HasPrefix(n, "available_filter_functions."):
			pick(&s.Ftrace, p)
		}
	}
	if s.Modules == dir {
		discoverBoot(&s, dir)
	}
	if s.SystemMap != "" && isPlaceholderSystemMap(s.SystemMap) {
		s.SystemMap = ""
	}
	if s == (Spec{}) {
		return s, &ParseError{File: dir, Msg: "no kernel build files found (kallsyms, System.map, vmlinux, vmlinuz, modules, Module.symvers, config)"}
	}
	return s, nil
}

// discoverModules picks the first release folder of lib/modules (or
// usr/lib/modules, where Debian's 7.x packages put the modules and the
// kernel image) and the vmlinuz in it.
func discoverModules(s *Spec, lib string) {
	rel, _ := readDirBounded(filepath.Join(lib, "modules"), maxDiscoverEntries)
	for _, r := range rel {
		if r.Type.IsDir() {
			p := filepath.Join(lib, "modules", r.Name)
			if s.Modules == "" {
				s.Modules = p
			}
			if _, err := os.Stat(filepath.Join(p, "vmlinuz")); err == nil && s.Vmlinuz == "" {
				s.Vmlinuz = filepath.Join(p, "vmlinuz")
			}
			return
		}
	}
}

// isModulesFolder reports whether dir, which has a kernel/ folder, is an
// installed modules folder (lib/modules/REL) or a build tree that built
// modules (modules.order), rather than a kernel source tree.
func isModulesFolder(dir string) bool {
	if abs, err := filepath.Abs(dir); err == nil && filepath.Base(filepath.Dir(abs)) == "modules" {
		return true
	}
	_, err := os.Stat(filepath.Join(dir, "modules.order"))
	return err == nil
}

// discoverBoot finds, for a modules folder ROOT/[usr/]lib/modules/REL, the
// image and config a package unpacked beside it in ROOT/boot.
func discoverBoot(s *Spec, modules string) {
	rel := filepath.Base(modules)
	if filepath.Base(filepath.Dir(modules)) != "modules" {
		return
	}
	root := filepath.Dir(filepath.Dir(filepath.Dir(modules)))
	for _, boot := range []string{filepath.Join(root, "boot"), filepath.Join(root, "..", "boot")} {
		for _, f := range []struct {
			dst  *string
			name string
		}{{&s.Vmlinuz, "vmlinuz-" + rel}, {&s.Config, "config-" + rel}} {
			if _, err := os.Stat(filepath.Join(boot, f.name)); err == nil && *f.dst == "" {
				*f.dst = filepath.Join(boot, f.name)
			}
		}
	}
}

func mergeSpec(dst *Spec, src Spec) {
	for _, p := range []struct{ d, s *string }{
		{&dst.Kallsyms, &src.Kallsyms}, {&dst.SystemMap, &src.SystemMap}, {&dst.Vmlinux, &src.Vmlinux}, {&dst.Vmlinuz, &src.Vmlinuz},
		{&dst.Modules, &src.Modules}, {&dst.Symvers, &src.Symvers}, {&dst.Config, &src.Config}, {&dst.Ftrace, &src.Ftrace},
	} {
		if *p.d == "" {
			*p.d = *p.s
		}
	}
}

func isPlaceholderSystemMap(path string) bool {
	fh, _, err := safeio.Open(path, limitOf(KindSystemMap))
	if err != nil {
		return false
	}
	defer fh.Close()
	buf := make([]byte, 256)
	n, _ := io.ReadFull(fh, buf)
	return strings.Contains(string(buf[:n]), debianSystemMapPlaceholder)
}

// readDirBounded lists a folder, sorted by name, but fails instead of
// reading more than max entries.
func readDirBounded(dir string, max int) ([]safeio.FolderEntry, error) {
	d, err := safeio.OpenFolder(dir)
	if err != nil {
		return nil, err
	}
	defer d.Close()
	ents, err := d.List(max)
	if errors.Is(err, safeio.ErrTooManyEntries) {
		return nil, &ParseError{File: dir, Msg: fmt.Sprintf("holds more than %d entries", max), err: errTooManyEntries}
	}
	return ents, err
}

// parallel runs fn(0..n-1) on GOMAXPROCS workers.
func parallel(n int, fn func(i int)) {
	var next atomic.Int64
	var wg sync.WaitGroup
	for w := min(runtime.GOMAXPROCS(0), n); w > 0; w-- {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				fn(i)
			}
		}()
	}
	wg.Wait()
}

// bufPool recycles file buffers: indexing a module tree reads thousands of
// files whose bytes are only needed until they are hashed and parsed.
var bufPool = sync.Pool{New: func() any { return new([]byte) }}

// readPooled reads a whole regular file of at most limit bytes into a
// pooled buffer; release returns it. Files larger than 64 MiB are mapped
// instead, so the pool never pins a huge buffer.
func readPooled(path string, limit int64) ([]byte, func(), error) {
	fh, st, err := safeio.Open(path, limit)
	if err != nil {
		return nil, nil, err
	}
	defer fh.Close()
	size := st.Size()
	if size > 64<<20 {
		return mapFile(fh, size)
	}
	bp := bufPool.Get().(*[]byte)
	if int64(cap(*bp)) < size+1 {
		*bp = make([]byte, size+1)
	}
	buf := (*bp)[:size+1]
	n, err := io.ReadFull(fh, buf)
	if err != io.ErrUnexpectedEOF && err != io.EOF {
		bufPool.Put(bp)
		if err == nil {
			err = errors.New("grew while it was read")
		}
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	// The file may have shrunk since Stat; n is what was read.
	return buf[:n], func() { bufPool.Put(bp) }, nil
}

// readWhole reads an open file of size bytes (checked by safeio.Open)
// without reading past that size if it grows.
func readWhole(fh *os.File, size int64) ([]byte, func(), error) {
	data, err := safeio.ReadAll(io.LimitReader(fh, size), size)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", fh.Name(), err)
	}
	return data, func() {}, nil
}
