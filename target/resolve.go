package target

import (
	"fmt"
	"path"
	"sort"
	"strings"

	"github.com/agext/levenshtein"
)

// Problem says why a livepatch target does not resolve.
type Problem uint8

// Problems, in the order Resolve checks them.
const (
	OK Problem = iota
	// NotFound: no symbol of that name (klp_find_object_symbol:
	// "symbol '%s' not found in symbol table").
	NotFound
	// Ambiguous: sympos 0 but several symbols share the name
	// ("unresolvable ambiguity for symbol '%s' in object '%s'").
	Ambiguous
	// SymposOutOfRange: fewer same-named symbols than sympos
	// ("symbol position %lu for symbol '%s' in object '%s' not found").
	SymposOutOfRange
	// FileNotFound: a source file was given and no candidate comes from it
	// (or the inputs carry no source file information).
	FileNotFound
	// FileAmbiguous: several candidates come from the given source file.
	FileAmbiguous
	// FileMismatch: both sympos and file were given and they select
	// different candidates.
	FileMismatch
	// NotFunction: the symbol exists but is not a function; the kernel
	// would resolve it, and then patch data as code.
	NotFunction
	// NotTraceable: the function has no ftrace call site (notrace, or
	// inlined/removed and left only as a symbol), so klp_patch_func fails
	// with "failed to find location for function".
	NotTraceable
)

var problemNames = [...]string{
	OK: "ok", NotFound: "not found", Ambiguous: "ambiguous", SymposOutOfRange: "sympos out of range",
	FileNotFound: "file not found", FileAmbiguous: "file ambiguous", FileMismatch: "file mismatch",
	NotFunction: "not a function", NotTraceable: "not traceable",
}

func (p Problem) String() string {
	if int(p) < len(problemNames) {
		return problemNames[p]
	}
	return fmt.Sprintf("problem(%d)", p)
}

// Candidate is one symbol that carries the requested name.
type Candidate struct {
	// Sympos is the 1-based position among same-named symbols in the
	// object's iteration order: the value old_sympos must hold to pick it.
	Sympos int
	Type   byte // nm letter
	Addr   uint64
	Size   uint64
	File   string // source file, "" if unknown
	Func   bool
	// Traceable says whether ftrace has a call site in the function.
	Traceable Tristate
	// Unique is true when this is the only candidate, so sympos 0 selects
	// it too.
	Unique bool
}

// Resolution is the outcome of resolving (object, name, sympos, file).
type Resolution struct {
	Object string
	Name   string
	// Requested is the sympos asked for (0: must be unique).
	Requested int
	// File is the source file asked for, "" if none.
	File string
	// Candidates lists every symbol of that name, whatever its type, in
	// the order the kernel counts them.
	Candidates []Candidate
	// Sympos is the resolved position (>= 1) when Problem is OK, else 0.
	Sympos int
	// Chosen indexes Candidates for the symbol the kernel's lookup would
	// return, even when a later check (NotFunction, NotTraceable) fails;
	// -1 when the lookup itself fails.
	Chosen  int
	Problem Problem
	// Suggestions are similar names when Problem is NotFound: compiler
	// clones of the name (name.isra.0, name.constprop.0, ...) first, then
	// names within a small edit distance.
	Suggestions []string
	// LoadOrderDependent is set for a module object when counting in the
	// full symbol table the module has while it is loading (when a patch
	// already waits for it, klp_module_coming) gives a different answer
	// from counting in its core symbol table (module already live).
	LoadOrderDependent bool
}

// Err returns nil when the target resolves, or an error describing the
// problem with every candidate.
func (r Resolution) Err() error {
	if r.Problem == OK {
		return nil
	}
	return fmt.Errorf("%s", r.Describe())
}

// Describe explains the resolution in full sentences, in the kernel's
// words where the kernel has a message.
func (r Resolution) Describe() string {
	var b strings.Builder
	obj := r.Object
	switch r.Problem {
	case OK:
		fmt.Fprintf(&b, "symbol '%s' in object '%s' resolves to sympos %d", r.Name, obj, r.Sympos)
	case NotFound:
		fmt.Fprintf(&b, "symbol '%s' not found in symbol table of object '%s'", r.Name, obj)
		if len(r.Candidates) > 0 {
			b.WriteString(" (its only copies are at address 0, which the kernel treats as not found)")
		}
		if len(r.Suggestions) > 0 {
			fmt.Fprintf(&b, "; did you mean %s?", quoteList(r.Suggestions))
		}
	case Ambiguous:
		fmt.Fprintf(&b, "unresolvable ambiguity for symbol '%s' in object '%s': %d symbols share the name; set sympos or file", r.Name, obj, len(r.Candidates))
	case SymposOutOfRange:
		fmt.Fprintf(&b, "symbol position %d for symbol '%s' in object '%s' not found: there are %d", r.Requested, r.Name, obj, len(r.Candidates))
	case FileNotFound:
		if !r.hasFiles() {
			fmt.Fprintf(&b, "cannot select symbol '%s' by file %q in object '%s': the inputs carry no source file information (a vmlinux or module ELF with STT_FILE symbols does)", r.Name, r.File, obj)
		} else {
			fmt.Fprintf(&b, "no symbol '%s' from file %q in object '%s'", r.Name, r.File, obj)
		}
	case FileAmbiguous:
		fmt.Fprintf(&b, "several symbols '%s' come from file %q in object '%s'; set sympos", r.Name, r.File, obj)
	case FileMismatch:
		fmt.Fprintf(&b, "sympos %d and file %q select different symbols '%s' in object '%s'", r.Requested, r.File, r.Name, obj)
	case NotFunction:
		c := r.Candidates[r.Chosen]
		fmt.Fprintf(&b, "symbol '%s' (sympos %d) in object '%s' is not a function (type '%c')", r.Name, c.Sympos, obj, c.Type)
	case NotTraceable:
		c := r.Candidates[r.Chosen]
		fmt.Fprintf(&b, "function '%s' (sympos %d) in object '%s' has no ftrace call site (notrace, or inlined into its callers): the kernel fails with \"failed to find location for function '%s'\"", r.Name, c.Sympos, obj, r.Name)
	}
	if r.Problem != OK && r.Problem != NotFound && len(r.Candidates) > 0 {
		b.WriteString("; candidates:")
		for _, c := range r.Candidates {
			fmt.Fprintf(&b, "\n  sympos %d: %c %#016x", c.Sympos, c.Type, c.Addr)
			if c.File != "" {
				fmt.Fprintf(&b, " %s", c.File)
			}
			if c.Func {
				fmt.Fprintf(&b, " (traceable: %s)", c.Traceable)
			}
		}
	}
	if r.LoadOrderDependent {
		b.WriteString("\nnote: the answer differs when the module is loaded after the patch (its init symbols are still counted then)")
	}
	return b.String()
}

func (r Resolution) hasFiles() bool {
	for _, c := range r.Candidates {
		if c.File != "" {
			return true
		}
	}
	return false
}

func quoteList(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = "'" + n + "'"
	}
	return strings.Join(q, ", ")
}

// Resolve finds the symbol a klp_func with old_name = name and old_sympos
// = sympos would patch in this object, the way klp_find_object_symbol and
// klp_find_callback (kernel/livepatch/core.c) count: every symbol with that
// name, of any type, in the object's iteration order. file, when not empty,
// selects among duplicates by source file ("fs/proc/cmdline.c" or a base
// name such as "cmdline.c") and yields the sympos the author should write.
//
// For modules the count uses the core symbol table (module live when the
// patch is enabled); LoadOrderDependent reports when the full table used
// while the module is loading would answer differently.
//
// Answers are remembered per object; the slices of a Resolution may be
// shared between calls and must not be modified.
func (o *Object) Resolve(name string, sympos int, file string) Resolution {
	key := resolveKey{name: name, file: file, sympos: sympos}
	o.resolvedMu.Lock()
	r, ok := o.resolved[key]
	o.resolvedMu.Unlock()
	if ok {
		return r
	}
	r = o.resolveOnce(name, sympos, file)
	o.resolvedMu.Lock()
	if o.resolved == nil {
		o.resolved = map[resolveKey]Resolution{}
	}
	o.resolved[key] = r
	o.resolvedMu.Unlock()
	return r
}

func (o *Object) resolveOnce(name string, sympos int, file string) Resolution {
	r := o.resolve(name, sympos, file, false)
	if o.Name != VmlinuxName && o.hasLoadingOnly(name) {
		alt := o.resolve(name, sympos, file, true)
		r.LoadOrderDependent = alt.Problem != r.Problem || alt.Sympos != r.Sympos ||
			(alt.Chosen >= 0) != (r.Chosen >= 0) ||
			(alt.Chosen >= 0 && r.Chosen >= 0 && alt.Candidates[alt.Chosen].Addr != r.Candidates[r.Chosen].Addr)
	}
	return r
}

// ResolveLoading resolves as Resolve does, but counting the full symbol
// table a module has while it loads (klp_module_coming runs then, before
// do_init_module drops the init symbols): what a patch that is already
// loaded finds when the module comes.
func (o *Object) ResolveLoading(name string, sympos int, file string) Resolution {
	return o.resolve(name, sympos, file, true)
}

// InitOnly reports whether the symbol at that sympos of the full table
// exists only while the module loads (an __init function).
func (o *Object) InitOnly(name string, sympos int) bool {
	r := o.resolve(name, sympos, "", true)
	if r.Chosen < 0 {
		return false
	}
	c := r.Candidates[r.Chosen]
	for _, i := range o.Lookup(name) {
		if s := o.sym(i); s.Addr == c.Addr && s.Type == c.Type {
			return s.LoadingOnly
		}
	}
	return false
}

func (o *Object) hasLoadingOnly(name string) bool {
	for _, i := range o.Lookup(name) {
		if o.sym(i).LoadingOnly {
			return true
		}
	}
	return false
}

func (o *Object) resolve(name string, sympos int, file string, loading bool) Resolution {
	r := Resolution{Object: o.Name, Name: name, Requested: sympos, File: file, Chosen: -1, Candidates: []Candidate{}}
	for _, i := range o.Lookup(name) {
		s := o.sym(i)
		if s.LoadingOnly && !loading {
			continue
		}
		r.Candidates = append(r.Candidates, Candidate{
			Sympos: len(r.Candidates) + 1, Type: s.Type, Addr: s.Addr, Size: s.Size,
			File: s.File, Func: s.Func, Traceable: s.Traceable,
		})
	}
	n := len(r.Candidates)
	if n == 1 {
		r.Candidates[0].Unique = true
	}
	if sympos < 0 {
		r.Problem = SymposOutOfRange
		return r
	}
	if n == 0 {
		r.Problem = NotFound
		r.Suggestions = o.suggest(name)
		return r
	}

	// A file selects the sympos the author means; it is then checked like
	// an explicit one.
	pos := sympos
	if file != "" {
		var match []int
		for i, c := range r.Candidates {
			if fileMatches(c.File, file) {
				match = append(match, i+1)
			}
		}
		switch {
		case len(match) == 0:
			r.Problem = FileNotFound
			return r
		case len(match) > 1:
			r.Problem = FileAmbiguous
			return r
		case sympos != 0 && sympos != match[0]:
			r.Problem = FileMismatch
			return r
		}
		pos = match[0]
	}

	// klp_match_callback stops at the pos-th match, or at the second one
	// when pos is 0; the address checked is that of the last match seen.
	switch {
	case pos == 0 && n > 1:
		r.Problem = Ambiguous
		return r
	case pos > n:
		r.Problem = SymposOutOfRange
		return r
	}
	chosen := max(pos, 1) - 1
	// klp_find_object_symbol tests args.addr == 0 for "not found"; real
	// kernel addresses are never 0 except for per-cpu offsets.
	if o.RealAddrs && r.Candidates[chosen].Addr == 0 {
		r.Problem = NotFound
		return r
	}
	r.Chosen = chosen
	c := r.Candidates[chosen]
	switch {
	case !c.Func:
		r.Problem = NotFunction
	case c.Traceable == No:
		r.Problem = NotTraceable
	default:
		r.Sympos = chosen + 1
	}
	return r
}

// fileMatches compares a symbol's source file with the one asked for. ELF
// STT_FILE entries usually hold a base name ("cmdline.c") and sometimes a
// path; the author may write either, so match on whole path components
// from the end.
func fileMatches(have, want string) bool {
	if have == "" || want == "" {
		return false
	}
	have, want = path.Clean(have), path.Clean(want)
	if have == want {
		return true
	}
	if strings.HasSuffix(have, "/"+want) || strings.HasSuffix(want, "/"+have) {
		return true
	}
	return false
}

// suggest returns up to five names close to name: compiler-generated
// clones first (GCC's name.isra.N, name.constprop.N, name.part.N,
// name.cold: a sign the original was inlined or transformed), then names
// within edit distance 2.
func (o *Object) suggest(name string) []string {
	o.load()
	const limit = 5
	seen := map[string]bool{}
	var clones []string
	type near struct {
		name string
		d    int
	}
	var close []near
	for i := range o.Symbols {
		s := o.Symbols[i].Name
		if seen[s] || s == name {
			continue
		}
		if strings.HasPrefix(s, name+".") {
			seen[s] = true
			clones = append(clones, s)
			continue
		}
		if d := len(s) - len(name); d > 2 || d < -2 || len(name) < 4 {
			continue
		}
		if d := levenshtein.Distance(s, name, nil); d <= 2 {
			seen[s] = true
			close = append(close, near{s, d})
		}
	}
	sort.Strings(clones)
	sort.Slice(close, func(i, j int) bool {
		if close[i].d != close[j].d {
			return close[i].d < close[j].d
		}
		return close[i].name < close[j].name
	})
	out := clones
	for _, c := range close {
		out = append(out, c.name)
	}
	if len(out) > limit {
		out = out[:limit]
	}
	return out
}
