package cli

import (
	"fmt"

	"github.com/klpc/klpc/plan/planjson"
	"github.com/klpc/klpc/plan/planner"
	"github.com/spf13/cobra"
)

func newPlanCommand() *cobra.Command {
	var output, deploy, hosts, step string
	var noCache bool
	cmd := &cobra.Command{
		Use:   "plan [DIR]",
		Short: "Show what every patched function runs after every deployment step",
		Long: `plan resolves every release against its kernel builds and simulates each
deployment on a model of the kernel's livepatch core. For every step it shows
the functions that changed: '+' newly patched, '~' now another replacement,
'-' back to the original code, '*' its module came or went.

With -o json the plan is printed as JSON on standard output, errors or not.`,
		Args: maxOneArg,
		RunE: func(cmd *cobra.Command, args []string) error {
			if output != "text" && output != "json" {
				return usageError{fmt.Errorf("-o must be text or json, not %q", output)}
			}
			if hosts != "" || step != "" {
				if hosts == "" || step == "" {
					return usageError{fmt.Errorf("--hosts and --step go together")}
				}
				failed, err := planHosts(cmd.OutOrStdout(), cmd.ErrOrStderr(), dirArg(args), hosts, step, planner.Options{NoCache: noCache})
				if err == nil && failed {
					err = errDiagnostics
				}
				return err
			}
			p := loadAndPlan(cmd.ErrOrStderr(), dirArg(args), planner.Options{Deploy: deploy, NoCache: noCache})
			out := cmd.OutOrStdout()
			if output == "json" {
				data, err := planjson.Marshal(p)
				if err != nil {
					return err
				}
				if _, err := out.Write(data); err != nil {
					return err
				}
				writeDiagnostics(cmd.ErrOrStderr(), p.Diagnostics, p.Sources)
			} else {
				writePlanText(out, p, isTerminal(out))
				writeDiagnostics(cmd.ErrOrStderr(), p.Diagnostics, p.Sources)
			}
			if p.HasErrors() {
				return errDiagnostics
			}
			return nil
		},
	}
	cmd.Flags().StringVarP(&output, "output", "o", "text", "output format: text or json")
	cmd.Flags().StringVar(&deploy, "deploy", "", "simulate only the deploy block of this name")
	cmd.Flags().StringVar(&hosts, "hosts", "", "plan --step from every host snapshot (*.json) of this folder and print a table")
	cmd.Flags().StringVar(&step, "step", "", `with --hosts: the step, "load RELEASE", "unload RELEASE", "module_load MODULE", ...`)
	cmd.Flags().BoolVar(&noCache, "no-cache", false, "read kernel builds afresh instead of from the index cache")
	return cmd
}
