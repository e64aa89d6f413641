package resolve

import (
	"fmt"
	"path/filepath"
	"sort"
	"strings"

	"github.com/klpc/klpc/diag"
	"github.com/klpc/klpc/internal/safeio"
	"github.com/klpc/klpc/kabi"
	"github.com/klpc/klpc/lang"
)

// checkUnexported finds, in the C sources of a release's fixes, the kernel
// symbols the replacement code refers to that the module loader cannot
// resolve, and that no symbol block of the release names. Such a symbol
// is in kallsyms (vmlinux's, or a patched module's) but not in
// Module.symvers, and the source does not define it. kbuild's modpost
// then fails with `"<symbol>" undefined!`; on the kernel the livepatch
// module would fail to load with "Unknown symbol". A symbol block makes
// klpc emit it as a .klp.sym symbol, which klp_resolve_symbols
// (kernel/livepatch/core.c, 6.1, 6.12 and 7.x alike) resolves through
// klp_find_object_symbol at load time.
//
// The check needs the build's kallsyms and Module.symvers; without them
// it says nothing. It reports global symbols (nm letters T, D, B, R) the
// code refers to, and local ones only when the source declares them itself
// (a prototype or an extern declaration), so that a header's static
// inline function with an out-of-line copy in kallsyms is not taken for a
// reference (see cscan.go for what the scan sees).
func (r *resolver) checkUnexported(l *lang.Livepatch, objects []*relObject, kb *KernelBuild, kr lang.Ref) {
	if !kb.Known() || len(kb.b.Exports) == 0 {
		return
	}
	named := map[string]bool{}
	var patched []string
	for _, ro := range objects {
		for _, rs := range ro.symbols {
			named[rs.decl.Name] = true
		}
		if ro.name != kabi.Vmlinux {
			patched = append(patched, ro.name)
		}
	}
	for _, fr := range l.Fixes.Refs {
		f := r.cfg.Fix(fr.Name)
		if f == nil || f.Source == nil || f.Source.Abs == "" {
			continue
		}
		src := r.scanSource(f.Source.Abs)
		if src == nil {
			continue // lang reports a source it cannot read
		}
		data, scan, names := src.data, src.scan, src.names
		for _, name := range names {
			if named[name] || scan.Defined[name] {
				continue
			}
			if _, ok := kb.b.Export(name); ok {
				continue
			}
			object, letter, ok := kb.unexportedSymbol(name, patched, scan.Declared[name])
			if !ok {
				continue
			}
			key := kr.Name + "\x00" + f.Name + "\x00" + name
			if r.unexportedSeen == nil {
				r.unexportedSeen = map[string]bool{}
			}
			if r.unexportedSeen[key] {
				continue
			}
			r.unexportedSeen[key] = true
			what := "refers to"
			if i := strings.Index(string(data), name+"("); i >= 0 {
				what = "calls"
			}
			r.errorf(diag.UnexportedSymbolUsed, lang.RangePtr(f.Source.Range), "Replacement uses a symbol that is not exported",
				"On kernel %q, the fix %q's source %s %s %s (line %d), which %s has in its symbols (%c) but Module.symvers does not export: kbuild's modpost fails with %s, and the module loader could not resolve it. Add symbol %q {} to object %q of the fix, so that klpc writes it as a .klp.sym symbol the livepatch core resolves when the module loads.",
				kr.Name, f.Name, filepath.Base(f.Source.Abs), what, name, scan.Refs[name], object, letter,
				fmt.Sprintf("%q undefined!", name), name, object)
		}
	}
}

// scannedSource is a fix source as checkUnexported reads it: its bytes,
// its scan and the names it refers to, sorted.
type scannedSource struct {
	data  []byte
	scan  CScan
	names []string
}

// scanSource reads and scans a fix source once per run; nil when it
// cannot be read.
func (r *resolver) scanSource(path string) *scannedSource {
	if s, ok := r.sources[path]; ok {
		return s
	}
	if r.sources == nil {
		r.sources = map[string]*scannedSource{}
	}
	data, err := safeio.ReadFile(path, safeio.MaxFixFile)
	if err != nil {
		r.sources[path] = nil
		return nil
	}
	s := &scannedSource{data: data, scan: ScanC(data)}
	s.names = make([]string, 0, len(s.scan.Refs))
	for name := range s.scan.Refs {
		s.names = append(s.names, name)
	}
	sort.Strings(s.names)
	r.sources[path] = s
	return s
}

// unexportedSymbol looks a name up in vmlinux and then in the patched
// modules: it returns the object that has it and its nm letter, for a
// global symbol, or for a local one the source declares itself.
func (kb *KernelBuild) unexportedSymbol(name string, patched []string, declared bool) (string, byte, bool) {
	for _, object := range append([]string{kabi.Vmlinux}, patched...) {
		o, ok := kb.object(object)
		if !ok || o == nil {
			continue
		}
		for _, i := range o.Lookup(name) {
			sym := o.Symbol(i)
			global := sym.Type >= 'A' && sym.Type <= 'Z' && sym.Type != 'U' && sym.Type != 'W' && sym.Type != 'V'
			if global || (declared && sym.Type != 'U') {
				return object, sym.Type, true
			}
		}
	}
	return "", 0, false
}
