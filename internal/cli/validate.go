package cli

import (
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/klpc/klpc/lang"
	"github.com/klpc/klpc/plan"
	"github.com/klpc/klpc/plan/planner"
)

func newValidateCommand() *cobra.Command {
	var noCache bool
	cmd := &cobra.Command{
		Use:   "validate [DIR]",
		Short: "Check a configuration and every deployment without printing the plan",
		Long: `validate reads every *.klp.hcl file of DIR (the current folder by default),
resolves every release against the real symbols of its kernel builds and
simulates every deployment on the model of the kernel's livepatch core, as
plan does, but prints only the diagnostics: each with file:line:column, the
source line and what to do. It exits 0 when there is no error (warnings
allowed), 1 when there are errors, 2 when it is used wrongly.

Among the checks: the functions exist, are unique or have a valid sympos
and can be traced; a replacement that calls a kernel function or uses a
kernel variable vmlinux does not export needs a symbol block; state
compatibility, atomic replace, late module patching, and cumulative
releases that silently drop a fix.

Kernel builds are read once and kept in an index cache; --no-cache reads
them afresh.`,
		Args:              maxOneArg,
		ValidArgsFunction: completeDir,
		RunE: func(cmd *cobra.Command, args []string) error {
			p := loadAndPlan(cmd.ErrOrStderr(), dirArg(args), planner.Options{NoCache: noCache})
			writeDiagnostics(cmd.ErrOrStderr(), p.Diagnostics, p.Sources)
			if p.HasErrors() {
				return errDiagnostics
			}
			fmt.Fprintf(cmd.OutOrStdout(), "The configuration is valid: %s.\n", summary(p))
			return nil
		},
	}
	cmd.Flags().BoolVar(&noCache, "no-cache", false, "read kernel builds afresh instead of from the index cache")
	return cmd
}

// loadAndPlan reads a configuration directory and plans it, with a
// progress line on a terminal when reading the kernel builds takes a while.
func loadAndPlan(stderr io.Writer, dir string, opts planner.Options) *plan.Plan {
	stop := startProgress(stderr, "planning "+dir+" (reading kernel builds) ...")
	defer stop()
	cfg, diags := lang.LoadDir(dir)
	return planner.Plan(cfg, diags, opts)
}
