package cli

import (
	"fmt"
	"strings"

	"github.com/klpc/klpc/internal/version"
	"github.com/klpc/klpc/plan/klp"
	"github.com/klpc/klpc/plan/planjson"
	"github.com/spf13/cobra"
)

func newVersionCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print klpc's version and the kernel lines it models",
		Long: `version prints the version of the klpc module this binary was built from
(the tag 'go install github.com/klpc/klpc/cmd/klpc@TAG' installed, a
pseudo-version, or "devel" from a checkout), the plan JSON format it writes,
and the kernel lines whose livepatch core it models, each with the release
the model was verified on.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var lines []string
			for _, l := range klp.Lines() {
				lines = append(lines, fmt.Sprintf("%s (verified on %s)", l, l.Verified()))
			}
			fmt.Fprintf(cmd.OutOrStdout(), "klpc %s\nplan format %s\nkernel lines modelled: %s\n",
				version.Module(), planjson.FormatVersion, strings.Join(lines, ", "))
			return nil
		},
	}
}
