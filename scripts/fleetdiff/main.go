// Command fleetdiff compares the vmlinux functions of two kernel builds
// (image roots, package folders, anything `klpc index` reads) and prints
// what a livepatch author must know per build: functions one build has and
// the other lacks (inlined, renamed or turned into a compiler clone such
// as name.isra.0), and names whose number of same-named symbols differs
// (the sympos of a duplicate moves).
//
//	go run ./scripts/fleetdiff A B
package main

import (
	"fmt"
	"os"
	"sort"
	"strings"

	"github.com/klpc/klpc/target"
)

func funcs(dir string) (map[string][]target.Symbol, error) {
	spec, err := target.Discover(dir)
	if err != nil {
		return nil, err
	}
	spec.Modules = "" // vmlinux only
	b, err := target.LoadCached(spec, target.Options{})
	if err != nil {
		return nil, err
	}
	if b.Vmlinux == nil {
		return nil, fmt.Errorf("%s: no vmlinux symbols", dir)
	}
	out := map[string][]target.Symbol{}
	for _, s := range b.Vmlinux.Load().Symbols {
		out[s.Name] = append(out[s.Name], s)
	}
	return out, nil
}

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: fleetdiff A B")
		os.Exit(2)
	}
	a, err := funcs(os.Args[1])
	if err == nil {
		var b map[string][]target.Symbol
		if b, err = funcs(os.Args[2]); err == nil {
			report(a, b)
		}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "fleetdiff:", err)
		os.Exit(1)
	}
}

func isFunc(ss []target.Symbol) bool { return len(ss) > 0 && ss[0].Func }

func traceable(ss []target.Symbol) int {
	n := 0
	for _, s := range ss {
		if s.Traceable == target.Yes {
			n++
		}
	}
	return n
}

func report(a, b map[string][]target.Symbol) {
	var onlyA, onlyB, moved []string
	for n, sa := range a {
		sb, ok := b[n]
		switch {
		case !ok && isFunc(sa):
			onlyA = append(onlyA, n)
		case ok && isFunc(sa) && len(sa) != len(sb):
			moved = append(moved, fmt.Sprintf("%s: %d vs %d (traceable %d vs %d)", n, len(sa), len(sb), traceable(sa), traceable(sb)))
		}
	}
	for n, sb := range b {
		if _, ok := a[n]; !ok && isFunc(sb) {
			onlyB = append(onlyB, n)
		}
	}
	for _, l := range [][]string{onlyA, onlyB, moved} {
		sort.Strings(l)
	}
	fmt.Printf("only in A (%d):\n  %s\n", len(onlyA), strings.Join(onlyA, "\n  "))
	fmt.Printf("only in B (%d):\n  %s\n", len(onlyB), strings.Join(onlyB, "\n  "))
	fmt.Printf("same name, another count (%d):\n  %s\n", len(moved), strings.Join(moved, "\n  "))
}
