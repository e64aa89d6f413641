package cli

import (
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/klpc/klpc/emit"
	"github.com/klpc/klpc/plan/planner"
)

func init() { extraCommands = append(extraCommands, newEmitCommand) }

func newEmitCommand() *cobra.Command {
	var output string
	var force, noCache bool
	cmd := &cobra.Command{
		Use:   "emit [DIR] -o OUT",
		Short: "Write the inputs that build every livepatch module",
		Long: `emit plans a configuration and, when the plan has no errors, writes into OUT
one folder per kernel and module (OUT/<kernel>/<module>/) with:

  manifest.json      the module's ELF section manifest: modinfo, vermagic,
                     klp tables, .klp.sym symbols and .klp.rela sections
  <module>.klp.c     the klp tables in C, with the fixes' sources, Kbuild
  Kbuild, Makefile   and a Makefile (when the kernel names its headers)
  kpatch-build.sh    the kpatch-build command and patches/ (when every fix
                     has a patch file)

Per-object releases also get OUT/<kernel>/<release>/ with their modprobe
configuration and the upgrade procedures the planner verified. At the top,
a Makefile, build.json (every module with its inputs' sha256) and
matrix.json (a CI matrix), and plan.html (the plan as a page: a timeline per
deployment, the release x kernel matrix).

OUT is written atomically and replaced only with --force. With errors,
nothing is written.`,
		Args:              maxOneArg,
		ValidArgsFunction: completeDir,
		RunE: func(cmd *cobra.Command, args []string) error {
			if output == "" {
				return usageError{fmt.Errorf("emit needs the output folder: -o OUT")}
			}
			p := loadAndPlan(cmd.ErrOrStderr(), dirArg(args), planner.Options{NoCache: noCache})
			writeDiagnostics(cmd.ErrOrStderr(), p.Diagnostics, p.Sources)
			if p.HasErrors() {
				return errDiagnostics
			}
			// SIGINT and SIGTERM stop the writing; Emit then removes its
			// temporary folder and leaves the output as it was.
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			t, diags := emit.Emit(ctx, p, output, emit.Options{Force: force})
			if diags.HasErrors() {
				writeDiagnostics(cmd.ErrOrStderr(), diags, p.Sources)
				return errDiagnostics
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Emitted %d files into %s.\n", len(t.Files), output)
			return nil
		},
	}
	cmd.Flags().StringVarP(&output, "output", "o", "", "folder to write into (required)")
	cmd.Flags().BoolVar(&force, "force", false, "replace the output folder if it exists")
	cmd.Flags().BoolVar(&noCache, "no-cache", false, "read kernel builds afresh instead of from the index cache")
	_ = cmd.MarkFlagDirname("output")
	return cmd
}
