package cli

import (
	"bufio"
	"fmt"
	"slices"
	"strings"

	"github.com/klpc/klpc/plan/planhtml"
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

With -o json the plan is printed as JSON on standard output, errors or not;
with -o html as one self-contained HTML page (a timeline per deployment,
the release x kernel matrix and the diagnostics), errors or not:

  klpc plan examples/cumulative -o html > plan.html`,
		Args:              maxOneArg,
		ValidArgsFunction: completeDir,
		RunE: func(cmd *cobra.Command, args []string) error {
			if !slices.Contains(outputFormats, output) {
				return usageError{fmt.Errorf("-o must be one of %s, not %q", strings.Join(outputFormats, ", "), output)}
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
			switch output {
			case "html":
				if err := planhtml.Write(out, p, planhtml.Options{}); err != nil {
					return err
				}
				writeDiagnostics(cmd.ErrOrStderr(), p.Diagnostics, p.Sources)
			case "json":
				bw := bufio.NewWriterSize(out, 64<<10)
				if err := planjson.Write(bw, p); err != nil {
					return err
				}
				if err := bw.Flush(); err != nil {
					return err
				}
				writeDiagnostics(cmd.ErrOrStderr(), p.Diagnostics, p.Sources)
			default:
				// One write per line is a system call per line: a fleet's
				// plan has hundreds of thousands.
				bw := bufio.NewWriterSize(out, 64<<10)
				writePlanText(bw, p, isTerminal(out))
				if err := bw.Flush(); err != nil {
					return err
				}
				writeDiagnostics(cmd.ErrOrStderr(), p.Diagnostics, p.Sources)
			}
			if p.HasErrors() {
				return errDiagnostics
			}
			return nil
		},
	}
	cmd.Flags().StringVarP(&output, "output", "o", "text", "output format: text, json or html")
	cmd.Flags().StringVar(&deploy, "deploy", "", "simulate only the deploy block of this name")
	cmd.Flags().StringVar(&hosts, "hosts", "", "plan --step from every host snapshot (*.json) of this folder and print a table")
	cmd.Flags().StringVar(&step, "step", "", `with --hosts: the step, "load RELEASE", "unload RELEASE", "module_load MODULE", ...`)
	cmd.Flags().BoolVar(&noCache, "no-cache", false, "read kernel builds afresh instead of from the index cache")
	_ = cmd.RegisterFlagCompletionFunc("output", completeValues(outputFormats...))
	_ = cmd.RegisterFlagCompletionFunc("deploy", completeDeployments)
	return cmd
}

// outputFormats are the values of plan -o.
var outputFormats = []string{"text", "json", "html"}
