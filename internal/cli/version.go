package cli

import (
	"fmt"

	"github.com/klpc/klpc/plan/planjson"
	"github.com/spf13/cobra"
)

func newVersionCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print klpc's version",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			fmt.Fprintf(cmd.OutOrStdout(), "klpc %s (plan format %s, models the Linux 6.1 livepatch core)\n", Version, planjson.FormatVersion)
			return nil
		},
	}
}
