package cli

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/klpc/klpc/target"
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
			"modules, Module.symvers, config, available_filter_functions), caches the index, and\n" +
			"prints what each build provides.",
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
	spec, err := target.Discover(dir)
	if err != nil {
		return err
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
	vm := "none"
	if b.Vmlinux != nil {
		vm = fmt.Sprintf("%d symbols from %s", len(b.Vmlinux.Symbols), b.Vmlinux.Source)
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
	fmt.Fprintf(stdout, "  exports:     %d\n", len(b.Exports))
	fmt.Fprintf(stdout, "  config:      %s\n", yesNo(b.Config != nil))
	fmt.Fprintf(stdout, "  input files: %d\n", len(b.Inputs))
	return nil
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
