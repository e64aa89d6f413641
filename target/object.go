package target

import (
	"sort"
	"strings"
	"sync"
	"sync/atomic"
)

// Tristate is a yes/no answer that may be unknown because the inputs do not
// tell (for example traceability when no ftrace data was given).
type Tristate uint8

// Tristate values. Unknown is the zero value on purpose: absent data must
// never read as "no".
const (
	Unknown Tristate = iota
	No
	Yes
)

func (t Tristate) String() string {
	switch t {
	case No:
		return "no"
	case Yes:
		return "yes"
	}
	return "unknown"
}

// VmlinuxName is the object name livepatches use for the kernel image
// (klp_object.name == NULL).
const VmlinuxName = "vmlinux"

// Symbol is one symbol of an object, kept in the order the kernel iterates
// the object's symbols.
type Symbol struct {
	Name string
	// File is the source file the symbol came from (from the STT_FILE entry
	// that precedes a local symbol), or "" when unknown.
	File string
	// Addr is the symbol value: a kernel address for vmlinux and for modules
	// read from kallsyms (zero when kptr_restrict hid it), a section offset
	// for modules read from a .ko file.
	Addr uint64
	// Size is the ELF st_size, or 0 when the source does not tell.
	Size uint64
	// Type is the nm-style letter (t, T, d, ...), as /proc/kallsyms shows it.
	Type byte
	// Func reports whether the symbol is a function (STT_FUNC in an ELF; a
	// text letter t/T/w/W in text formats).
	Func bool
	// Traceable reports whether ftrace has a call site inside the function,
	// which klp_patch_func needs (ftrace_location).
	Traceable Tristate
	// LoadingOnly marks module symbols that exist in mod->kallsyms only
	// while the module is loading (the full symtab used during
	// klp_module_coming) and are dropped from the core symtab once it is
	// live: init-section symbols, for example. See is_core_symbol in
	// kernel/module/kallsyms.c.
	LoadingOnly bool
}

// Object is vmlinux or one module of a build.
type Object struct {
	// Name is "vmlinux" or the module name (with '_', never '-').
	Name string
	// Path is the file the symbols were read from.
	Path string
	// Source says which kind of input the symbols came from: "kallsyms",
	// "System.map", "vmlinux" (ELF) or "module" (a .ko file).
	Source string
	// SrcVersion, Vermagic and Depends come from a module's .modinfo.
	SrcVersion string
	Vermagic   string
	Depends    []string
	// Symbols in kernel iteration order.
	Symbols []Symbol
	// RealAddrs is true when Addr values are kernel addresses (not hidden by
	// kptr_restrict, not section offsets), so the kernel's "address 0 means
	// not found" rule can be applied.
	RealAddrs bool

	// The name index is built on first use: the first symbol of each name,
	// and for every symbol the next one with the same name (-1 at the end).
	// A chain avoids allocating a slice per name, which matters for the
	// ~94k names of a vmlinux loaded from the cache.
	indexOnce sync.Once
	first     map[string]int32
	next      []int32
	// scans counts the lookups answered by a linear scan before the index
	// is built: a plan of a few functions never pays for the map.
	scans   atomic.Int32
	indexed atomic.Bool

	// resolved remembers Resolve's answers: a fleet asks the same build
	// about the same function for every release and every step.
	resolvedMu sync.Mutex
	resolved   map[resolveKey]Resolution

	// lazy, when set, holds where an object loaded from the index cache
	// keeps its symbols; they are decoded on first use (see load).
	lazy     *lazySymbols
	loadOnce sync.Once
	loaded   atomic.Bool
	// sparse, for a vmlinux read from the cache, answers lookups before
	// (and instead of) decoding every symbol.
	sparse *sparseIndex
}

// load decodes the symbols of an object loaded lazily from the index
// cache. Every method that reads Symbols calls it, and so does
// Build.Object; code that reads the Symbols field of a module taken
// straight from Build.Modules calls Load first.
func (o *Object) load() {
	if o == nil || o.lazy == nil {
		return
	}
	o.loadOnce.Do(func() {
		// lazy stays: Counts and compactBlob may read it from other
		// goroutines, and what it records stays true.
		o.Symbols = o.lazy.decode(o)
		o.loaded.Store(true)
	})
}

// sym returns symbol i, an index Lookup returned, without decoding every
// symbol when a sparse lookup already decoded it.
func (o *Object) sym(i int32) *Symbol {
	if sp := o.sparse; sp != nil && !o.loaded.Load() {
		if s := sp.cached(i); s != nil {
			return s
		}
	}
	o.load()
	if i < 0 || int(i) >= len(o.Symbols) {
		return &Symbol{}
	}
	return &o.Symbols[i]
}

// Symbol returns the symbol at index i of Symbols, an index Lookup
// returned; unlike the field it needs no Load first.
func (o *Object) Symbol(i int32) Symbol { return *o.sym(i) }

// Len is the number of symbols, counted without decoding them for a
// vmlinux read from the index cache.
func (o *Object) Len() int {
	if sp := o.sparse; sp != nil {
		return int(sp.vm.nsyms)
	}
	o.load()
	return len(o.Symbols)
}

// Load makes sure the object's Symbols are decoded: objects of a build
// read from the index cache decode them on first use.
func (o *Object) Load() *Object {
	o.load()
	return o
}

type resolveKey struct {
	name, file string
	sympos     int
}

// linearLookups is how many lookups an object answers by scanning its
// symbols before it builds the name index. A scan of a vmlinux (~94k
// symbols) costs about what 1/50 of building the index does.
const linearLookups = 16

// Counts summarises an object or a build.
type Counts struct {
	Symbols   int
	Functions int
	// Traceable is the number of functions known to be traceable; -1 when no
	// object in scope carries ftrace information.
	Traceable int
}

// Counts returns the object's symbol, function and traceable function
// counts. Symbols only visible while a module loads are not counted.
func (o *Object) Counts() Counts {
	if l := o.lazyCounts(); l != nil {
		return *l
	}
	return countSymbols(o.Symbols)
}

// countSymbols is Counts over a list of symbols.
func countSymbols(syms []Symbol) Counts {
	c := Counts{Traceable: -1}
	for i := range syms {
		s := &syms[i]
		if s.LoadingOnly {
			continue
		}
		c.Symbols++
		if !s.Func {
			continue
		}
		c.Functions++
		if s.Traceable != Unknown && c.Traceable < 0 {
			c.Traceable = 0
		}
		if s.Traceable == Yes {
			c.Traceable++
		}
	}
	return c
}

// Lookup returns the indexes into Symbols of every symbol with that name,
// in order, whatever its type or visibility.
func (o *Object) Lookup(name string) []int32 {
	if sp := o.sparse; sp != nil && !o.loaded.Load() {
		if out, ok := sp.lookup(name); ok {
			return out
		}
	}
	o.load()
	if !o.indexed.Load() && o.scans.Add(1) <= linearLookups {
		var out []int32
		for i := range o.Symbols {
			if o.Symbols[i].Name == name {
				out = append(out, int32(i))
			}
		}
		return out
	}
	o.indexOnce.Do(func() {
		o.first = make(map[string]int32, len(o.Symbols))
		o.next = make([]int32, len(o.Symbols))
		// Walk backwards so each name's chain is built in order.
		for i := len(o.Symbols) - 1; i >= 0; i-- {
			n := o.Symbols[i].Name
			if j, ok := o.first[n]; ok {
				o.next[i] = j
			} else {
				o.next[i] = -1
			}
			o.first[n] = int32(i)
		}
		o.indexed.Store(true)
	})
	i, ok := o.first[name]
	if !ok {
		return nil
	}
	var out []int32
	for ; i >= 0; i = o.next[i] {
		out = append(out, i)
	}
	return out
}

// ModuleName normalises a module name the way kbuild does for
// KBUILD_MODNAME: '-' becomes '_'.
func ModuleName(s string) string {
	return strings.ReplaceAll(s, "-", "_")
}

// applyFilterFunctions marks the object's functions traceable or not from
// the names in available_filter_functions. The file lists names, not
// addresses, so a duplicated name can only be decided when every copy or no
// copy is listed; otherwise it stays Unknown.
func (o *Object) applyFilterFunctions(counts map[string]int) {
	funcs := make(map[string]int)
	for i := range o.Symbols {
		if o.Symbols[i].Func {
			funcs[o.Symbols[i].Name]++
		}
	}
	for i := range o.Symbols {
		s := &o.Symbols[i]
		if !s.Func {
			continue
		}
		listed := counts[s.Name]
		switch {
		case listed == 0:
			s.Traceable = No
		case listed >= funcs[s.Name]:
			s.Traceable = Yes
		default:
			s.Traceable = Unknown
		}
	}
}

// sortedKeys returns the keys of m in order, for deterministic output.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
