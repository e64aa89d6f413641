// Package cli is klpc's command line: one file per command, each a thin
// layer over lang, plan and emit. Errors are printed in one place (Main);
// commands that have already printed diagnostics return errDiagnostics so
// that only the exit code is left to set.
package cli

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"golang.org/x/term"
)

// Exit codes, as the language reference defines them.
const (
	exitOK    = 0
	exitError = 1
	exitUsage = 2
)

// errDiagnostics says the command has printed its diagnostics and failed.
var errDiagnostics = errors.New("errors were reported")

// usageError is a command used wrongly.
type usageError struct{ err error }

func (u usageError) Error() string { return u.err.Error() }

// Main runs klpc with os.Args and returns the exit code.
func Main() int {
	return run(os.Args[1:], os.Stdout, os.Stderr)
}

func run(args []string, stdout, stderr io.Writer) int {
	root := newRootCommand(stdout, stderr)
	root.SetArgs(args)
	cmd, err := root.ExecuteC()
	switch {
	case err == nil:
		return exitOK
	case errors.Is(err, errDiagnostics):
		return exitError
	}
	var ue usageError
	if errors.As(err, &ue) || isCobraUsage(err) {
		help := "klpc --help"
		if cmd != nil && cmd != root {
			help = cmd.CommandPath() + " --help"
		}
		fmt.Fprintf(stderr, "klpc: %s\nRun '%s' for usage.\n", err, help)
		return exitUsage
	}
	fmt.Fprintf(stderr, "klpc: %s\n", err)
	return exitError
}

// isCobraUsage tells cobra's own argument and flag errors, which are all
// the command being used wrongly.
func isCobraUsage(err error) bool {
	var fe *flagError
	return errors.As(err, &fe) || strings.HasPrefix(err.Error(), "unknown command ")
}

// noArgs refuses positional arguments, as a usage error.
func noArgs(cmd *cobra.Command, args []string) error {
	if len(args) > 0 {
		return usageError{fmt.Errorf("%s takes no arguments, got %q", cmd.CommandPath(), args)}
	}
	return nil
}

type flagError struct{ err error }

func (f *flagError) Error() string { return f.err.Error() }

func newRootCommand(stdout, stderr io.Writer) *cobra.Command {
	root := &cobra.Command{
		Use:   "klpc",
		Short: "Compile Linux kernel livepatches described in HCL",
		Long: `klpc reads fixes, kernel builds, livepatch releases and deployments from the
*.klp.hcl files of a directory, checks them against the kernel builds they
target, simulates every deployment on a model of the kernel's livepatch core
and emits the inputs that build the livepatch modules.`,
		SilenceErrors: true,
		SilenceUsage:  true,
	}
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return &flagError{err} })
	root.AddCommand(
		newValidateCommand(),
		newPlanCommand(),
		newFmtCommand(),
		newVersionCommand(),
		newIndexCommand(),
	)
	for _, extra := range extraCommands {
		root.AddCommand(extra())
	}
	return root
}

// extraCommands lets commands in other files of this package register
// themselves.
var extraCommands []func() *cobra.Command

// dirArg returns the configuration directory argument, "." by default.
func dirArg(args []string) string {
	if len(args) == 0 {
		return "."
	}
	return args[0]
}

// maxOneArg accepts at most one positional argument, as a usage error.
func maxOneArg(cmd *cobra.Command, args []string) error {
	if len(args) > 1 {
		return usageError{fmt.Errorf("%s takes at most one directory, got %d arguments", cmd.CommandPath(), len(args))}
	}
	return nil
}

// isTerminal reports whether w is a terminal, for colour and progress.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}
