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
		Args:  maxOneArg,
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
