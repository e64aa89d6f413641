package cli

import (
	"strings"

	"github.com/spf13/cobra"

	"github.com/klpc/klpc/lang"
)

// Shell completion: cobra's completion command writes the scripts (bash,
// zsh, fish, powershell); these functions give them values worth
// completing. They read the configuration only, never a kernel build, so
// a completion stays fast.

// completeDir completes the configuration folder argument with folders.
func completeDir(_ *cobra.Command, args []string, _ string) ([]string, cobra.ShellCompDirective) {
	if len(args) > 0 {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	return nil, cobra.ShellCompDirectiveFilterDirs
}

// completeValues completes a flag with fixed values.
func completeValues(values ...string) func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
	return func(_ *cobra.Command, _ []string, prefix string) ([]string, cobra.ShellCompDirective) {
		var out []string
		for _, v := range values {
			if strings.HasPrefix(v, prefix) {
				out = append(out, v)
			}
		}
		return out, cobra.ShellCompDirectiveNoFileComp
	}
}

// completeDeployments completes --deploy with the deploy blocks of the
// configuration folder given on the command line (or the current one).
func completeDeployments(_ *cobra.Command, args []string, prefix string) ([]string, cobra.ShellCompDirective) {
	cfg, _ := lang.LoadDir(dirArg(args))
	var out []string
	if cfg != nil {
		for _, d := range cfg.Deploys {
			if strings.HasPrefix(d.Name, prefix) {
				out = append(out, d.Name)
			}
		}
	}
	return out, cobra.ShellCompDirectiveNoFileComp
}
