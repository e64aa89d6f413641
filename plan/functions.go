package plan

import (
	"maps"
	"slices"
)

// Trace interns what deployment steps record: the implementations and the
// func_stacks of functions. A step then holds, per function, two small
// numbers into the trace instead of a map of strings and slices: a fleet
// of 50 kernels x 30 releases x 1,000 functions records 1,500 steps of
// 1,000 functions each. One Trace may serve every deployment of a plan;
// it is not safe for concurrent use while steps are recorded.
type Trace struct {
	impls    []Impl
	implIDs  map[Impl]uint32
	stacks   [][]StackEntry
	stackIDs map[string]uint32
	buf      []byte
}

// NewTrace returns an empty trace.
func NewTrace() *Trace {
	return &Trace{impls: []Impl{{}}, implIDs: map[Impl]uint32{{}: 0}, stacks: [][]StackEntry{nil}, stackIDs: map[string]uint32{"": 0}}
}

// InternImpl returns the number of an implementation in the trace.
func (t *Trace) InternImpl(i Impl) uint32 {
	if id, ok := t.implIDs[i]; ok {
		return id
	}
	id := uint32(len(t.impls))
	t.impls = append(t.impls, i)
	t.implIDs[i] = id
	return id
}

// InternStack returns the number of a func_stack in the trace; the trace
// keeps its own copy.
func (t *Trace) InternStack(stack []StackEntry) uint32 {
	if len(stack) == 0 {
		return 0
	}
	b := t.buf[:0]
	for _, e := range stack {
		b = append(b, e.Livepatch...)
		b = append(b, 0)
		b = append(b, e.Module...)
		b = append(b, 0)
		b = append(b, e.New...)
		if e.Nop {
			b = append(b, 1)
		} else {
			b = append(b, 0)
		}
	}
	t.buf = b
	if id, ok := t.stackIDs[string(b)]; ok {
		return id
	}
	id := uint32(len(t.stacks))
	t.stacks = append(t.stacks, slices.Clone(stack))
	t.stackIDs[string(b)] = id
	return id
}

// Keys are the sorted keys of the functions a deployment's steps show
// (FuncKey), shared by its steps.
type Keys struct {
	list  []string
	index map[string]int
}

// NewKeys returns the keys, sorted, without duplicates.
func NewKeys(keys []string) *Keys {
	list := slices.Clone(keys)
	slices.Sort(list)
	list = slices.Compact(list)
	k := &Keys{list: list, index: make(map[string]int, len(list))}
	for i, key := range list {
		k.index[key] = i
	}
	return k
}

// Index returns the position of a key, and whether it is one.
func (k *Keys) Index(key string) (int, bool) {
	if k == nil {
		return 0, false
	}
	i, ok := k.index[key]
	return i, ok
}

// Functions is what every function of a deployment runs at one point of
// its trace, with its func_stack, top first. The zero value shows no
// function. Values share their keys and their trace: callers must not
// modify what the accessors return.
type Functions struct {
	keys  *Keys
	trace *Trace
	impl  []uint32
	stack []uint32
}

// NewFunctions returns the functions of keys, every one running the
// original code with an empty stack; Set fills them in.
func NewFunctions(t *Trace, keys *Keys) Functions {
	n := len(keys.list)
	return Functions{keys: keys, trace: t, impl: make([]uint32, n), stack: make([]uint32, n)}
}

// Set records what the function at position i of the keys runs and its
// stack, by their numbers in the trace (InternImpl, InternStack).
func (f Functions) Set(i int, impl, stack uint32) {
	f.impl[i], f.stack[i] = impl, stack
}

// FunctionsOf makes the functions of maps, as a hand-built trace has them:
// the keys are those of both maps, and a key only stacks has runs the
// original code.
func FunctionsOf(impls map[string]Impl, stacks map[string][]StackEntry) Functions {
	keys := slices.Collect(maps.Keys(impls))
	keys = slices.AppendSeq(keys, maps.Keys(stacks))
	t := NewTrace()
	f := NewFunctions(t, NewKeys(keys))
	for i, key := range f.keys.list {
		f.Set(i, t.InternImpl(impls[key]), t.InternStack(stacks[key]))
	}
	return f
}

// Len is the number of functions.
func (f Functions) Len() int { return len(f.impl) }

// Keys returns the functions' keys, sorted.
func (f Functions) Keys() []string {
	if f.keys == nil {
		return nil
	}
	return f.keys.list
}

// SharesKeys reports whether g has the same keys as f, at the same
// positions (steps of one deployment do).
func (f Functions) SharesKeys(g Functions) bool { return f.keys == g.keys }

// Key returns the key at position i.
func (f Functions) Key(i int) string { return f.keys.list[i] }

// ImplAt returns what the function at position i runs.
func (f Functions) ImplAt(i int) Impl { return f.trace.impls[f.impl[i]] }

// StackAt returns the func_stack of the function at position i.
func (f Functions) StackAt(i int) []StackEntry { return f.trace.stacks[f.stack[i]] }

// Get returns what a function runs, and whether the trace shows it.
func (f Functions) Get(key string) (Impl, bool) {
	i, ok := f.keys.Index(key)
	if !ok || i >= len(f.impl) {
		return Impl{}, false
	}
	return f.ImplAt(i), true
}

// Impl returns what a function runs: the original code when the trace
// does not show it.
func (f Functions) Impl(key string) Impl {
	i, _ := f.Get(key)
	return i
}

// Stack returns a function's func_stack, top first; nil when it is empty.
func (f Functions) Stack(key string) []StackEntry {
	i, ok := f.keys.Index(key)
	if !ok || i >= len(f.stack) {
		return nil
	}
	return f.StackAt(i)
}

// Map returns what every function runs, by key.
func (f Functions) Map() map[string]Impl {
	out := make(map[string]Impl, f.Len())
	for i := range f.impl {
		out[f.Key(i)] = f.ImplAt(i)
	}
	return out
}

// ChangeBetween says how a function's implementation changed, and false
// when it did not.
func ChangeBetween(from, to Impl) (ChangeKind, bool) {
	switch {
	case from == to:
		return "", false
	case from.Kind == Absent || to.Kind == Absent:
		if to.Kind == Replaced {
			return Patched, true
		}
		return Presence, true
	case to.Kind == Original:
		return Reverted, true
	case from.Kind == Original:
		return Patched, true
	}
	return Repatched, true
}

// ChangesFrom lists the functions whose implementation differs from
// before, in key order; a function before does not show ran the original
// code.
func (f Functions) ChangesFrom(before Functions) []*Change {
	out := []*Change{}
	same := f.keys == before.keys && f.trace == before.trace
	for i := range f.impl {
		if same && f.impl[i] == before.impl[i] {
			continue
		}
		var from Impl
		if same {
			from = before.ImplAt(i)
		} else {
			from = before.Impl(f.Key(i))
		}
		to := f.ImplAt(i)
		if kind, ok := ChangeBetween(from, to); ok {
			out = append(out, &Change{Kind: kind, Function: f.Key(i), From: from, To: to})
		}
	}
	return out
}
