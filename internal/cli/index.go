package cli

import (
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/klpc/klpc/target"
	"github.com/klpc/klpc/target/deb"
)

// progressDelay is how long indexing may run before a progress line is
// shown; cached builds load well within it and stay silent.
const progressDelay = 300 * time.Millisecond

// newIndexCommand returns `klpc index PATH...`: index the kernel builds in
// the given folders (see target.Discover), warm the cache, and print what
// was found per build.
func newIndexCommand() *cobra.Command {
	var noCache bool
	cmd := &cobra.Command{
		Use:   "index PATH...",
		Short: "Index kernel builds and cache their symbols",
		Long: "Index reads the kernel build files found in each PATH (kallsyms, System.map, vmlinux,\n" +
			"vmlinuz, modules, Module.symvers, config, available_filter_functions), caches the index,\n" +
			"and prints what each build provides. PATH is a folder (a build folder, an unpacked\n" +
			"package root or a modules folder lib/modules/REL), a kernel image (vmlinuz), or a\n" +
			"Debian kernel package (.deb), whose kernel files are read without dpkg.",
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			for i, dir := range args {
				if i > 0 {
					fmt.Fprintln(cmd.OutOrStdout())
				}
				if err := indexOne(cmd.OutOrStdout(), cmd.ErrOrStderr(), dir, noCache); err != nil {
					return err
				}
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&noCache, "no-cache", false, "read every input again and do not use or update the index cache")
	return cmd
}

func indexOne(stdout, stderr io.Writer, dir string, noCache bool) error {
	spec, pkg, cleanup, err := indexSpec(dir)
	if err != nil {
		return err
	}
	defer cleanup()
	if pkg != "" {
		// The files live in a temporary folder: caching them is useless.
		noCache = true
	}
	stop := startProgress(stderr, "indexing "+dir+" ...")
	b, err := target.LoadCached(spec, target.Options{NoCache: noCache})
	stop()
	if err != nil {
		return err
	}
	c := b.Counts()
	traceable := "unknown"
	if c.Traceable >= 0 {
		traceable = fmt.Sprint(c.Traceable)
	}
	fmt.Fprintf(stdout, "%s\n", dir)
	if pkg != "" {
		fmt.Fprintf(stdout, "  package:     %s\n", pkg)
	}
	vm := "none"
	if b.Vmlinux != nil {
		vm = fmt.Sprintf("%d symbols from %s", b.Vmlinux.Len(), b.Vmlinux.Source)
	}
	fmt.Fprintf(stdout, "  vmlinux:     %s\n", vm)
	if b.Vmlinux == nil {
		// Say why when the only vmlinux source is Debian's placeholder.
		for _, p := range placeholderCandidates(dir) {
			if _, err := target.ReadSystemMap(p); err != nil {
				fmt.Fprintf(stdout, "               (%v)\n", err)
				break
			}
		}
	}
	fmt.Fprintf(stdout, "  symbols:     %d\n", c.Symbols)
	fmt.Fprintf(stdout, "  functions:   %d\n", c.Functions)
	fmt.Fprintf(stdout, "  traceable:   %s\n", traceable)
	fmt.Fprintf(stdout, "  modules:     %d\n", len(b.Modules))
	if len(b.Damaged) > 0 {
		fmt.Fprintf(stdout, "  damaged:     %d (releases that patch them fail; the rest is indexed)\n", len(b.Damaged))
		for _, name := range slices.Sorted(maps.Keys(b.Damaged)) {
			fmt.Fprintf(stdout, "               %s: %v\n", name, b.Damaged[name])
		}
	}
	fmt.Fprintf(stdout, "  exports:     %d\n", len(b.Exports))
	fmt.Fprintf(stdout, "  config:      %s\n", yesNo(b.Config != nil))
	fmt.Fprintf(stdout, "  input files: %d (%s)\n", len(b.Inputs), inputKinds(b.Inputs))
	return nil
}

// indexSpec turns a PATH argument into a Spec: a folder is searched
// (target.Discover), a Debian package has its kernel files extracted to a
// temporary folder first (pkg then says what it held), any other file is
// read as a kernel image.
func indexSpec(path string) (spec target.Spec, pkg string, cleanup func(), err error) {
	cleanup = func() {}
	st, err := os.Stat(path)
	if err != nil {
		return spec, "", cleanup, err
	}
	if st.IsDir() {
		spec, err = target.Discover(path)
		return spec, "", cleanup, err
	}
	if !isDebianPackage(path) {
		return target.Spec{Vmlinuz: path}, "", cleanup, nil
	}
	tmp, err := os.MkdirTemp("", "klpc-deb-")
	if err != nil {
		return spec, "", cleanup, err
	}
	cleanup = func() { os.RemoveAll(tmp) }
	files, err := deb.ExtractKernel(path, tmp, deb.DefaultLimits)
	if err != nil {
		return spec, "", cleanup, err
	}
	kinds := map[string]int{}
	rels := map[string]bool{}
	for _, f := range files {
		kinds[f.Kind]++
		rels[f.Release] = true
	}
	if len(files) == 0 {
		return spec, "", cleanup, fmt.Errorf("%s: no kernel files (boot/vmlinuz-*, lib/modules/*) in this package", path)
	}
	if len(rels) > 1 {
		return spec, "", cleanup, fmt.Errorf("%s: kernel files of %d releases; index one at a time", path, len(rels))
	}
	var parts []string
	for _, k := range sortedKeys(kinds) {
		parts = append(parts, fmt.Sprintf("%s %d", k, kinds[k]))
	}
	spec, err = target.Discover(tmp)
	if err == nil && spec.Modules == "" && kinds[deb.KindModule] == 0 && spec.Vmlinuz == "" {
		err = fmt.Errorf("%s: nothing to index", path)
	}
	return spec, fmt.Sprintf("%d kernel files (%s) of %s", len(files), strings.Join(parts, ", "), firstKey(rels)), cleanup, err
}

// isDebianPackage reports whether the file starts as a .deb does.
func isDebianPackage(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	buf := make([]byte, 8+16)
	n, _ := io.ReadFull(f, buf)
	return n == len(buf) && string(buf[:8]) == "!<arch>\n" && strings.HasPrefix(string(buf[8:]), "debian-binary")
}

// inputKinds summarises the files a build was read from, by kind.
func inputKinds(ins []target.Input) string {
	n := map[string]int{}
	for _, in := range ins {
		n[in.Kind]++
	}
	var parts []string
	for _, k := range sortedKeys(n) {
		if n[k] == 1 {
			parts = append(parts, k)
		} else {
			parts = append(parts, fmt.Sprintf("%d %ss", n[k], k))
		}
	}
	return strings.Join(parts, ", ")
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func firstKey(m map[string]bool) string {
	for _, k := range sortedKeys(m) {
		return k
	}
	return ""
}

func placeholderCandidates(dir string) []string {
	var out []string
	for _, pat := range []string{"System.map*", "boot/System.map*"} {
		m, _ := filepath.Glob(filepath.Join(dir, pat))
		out = append(out, m...)
	}
	return out
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// startProgress prints msg on w after progressDelay, only when w is a
// terminal, and erases it when the returned stop function is called.
func startProgress(w io.Writer, msg string) (stop func()) {
	f, ok := w.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return func() {}
	}
	var mu sync.Mutex
	shown, done := false, false
	t := time.AfterFunc(progressDelay, func() {
		mu.Lock()
		defer mu.Unlock()
		if !done {
			fmt.Fprint(f, msg)
			shown = true
		}
	})
	return func() {
		t.Stop()
		mu.Lock()
		defer mu.Unlock()
		done = true
		if shown {
			fmt.Fprint(f, "\r\033[K")
		}
	}
}
