package plan

import (
	"slices"
	"testing"
)

// Steps recorded into one trace share keys and interned values, and their
// accessors and changes agree with the map form (FunctionsOf).
func TestFunctionsShared(t *testing.T) {
	tr := NewTrace()
	keys := NewKeys([]string{"vmlinux:b", "vmlinux:a", "nfsd:c", "vmlinux:a"})
	if got := keys.list; !slices.Equal(got, []string{"nfsd:c", "vmlinux:a", "vmlinux:b"}) {
		t.Fatalf("keys %v", got)
	}
	lp := Impl{Kind: Replaced, Livepatch: "lp-1", New: "a1"}
	stack := []StackEntry{{Livepatch: "lp-1", Module: "lp_1", New: "a1"}}
	before := NewFunctions(tr, keys)
	before.Set(0, tr.InternImpl(Impl{Kind: Absent}), 0)
	after := NewFunctions(tr, keys)
	after.Set(0, tr.InternImpl(Impl{}), 0)
	after.Set(1, tr.InternImpl(lp), tr.InternStack(stack))
	if tr.InternImpl(lp) != tr.InternImpl(Impl{Kind: Replaced, Livepatch: "lp-1", New: "a1"}) || tr.InternStack(slices.Clone(stack)) != after.stack[1] {
		t.Error("equal values interned twice")
	}
	stack[0].New = "changed" // the trace keeps its own copy
	if got := after.Stack("vmlinux:a"); len(got) != 1 || got[0].New != "a1" {
		t.Errorf("stack %v", got)
	}
	if i, ok := after.Get("vmlinux:a"); !ok || i != lp {
		t.Errorf("get %v %v", i, ok)
	}
	if _, ok := after.Get("vmlinux:zz"); ok {
		t.Error("unknown key found")
	}
	if after.Stack("vmlinux:b") != nil || after.Len() != 3 {
		t.Error("empty stack or length")
	}
	shared := after.ChangesFrom(before)
	viaMaps := FunctionsOf(after.Map(), nil).ChangesFrom(FunctionsOf(before.Map(), nil))
	if len(shared) != 2 || len(viaMaps) != 2 {
		t.Fatalf("changes %v, %v", shared, viaMaps)
	}
	for i := range shared {
		if *shared[i] != *viaMaps[i] {
			t.Errorf("change %d: %v, %v", i, *shared[i], *viaMaps[i])
		}
	}
	if shared[0].Kind != Presence || shared[0].Function != "nfsd:c" || shared[1].Kind != Patched {
		t.Errorf("changes %v %v", *shared[0], *shared[1])
	}
	var zero Functions
	if zero.Len() != 0 || zero.Stack("x") != nil || len(zero.ChangesFrom(Functions{})) != 0 {
		t.Error("zero value")
	}
	if _, ok := zero.Get("x"); ok {
		t.Error("zero value shows a function")
	}
}
