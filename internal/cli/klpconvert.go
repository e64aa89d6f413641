package cli

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/klpc/klpc/emit"
)

func init() { extraCommands = append(extraCommands, newKlpConvertCommand) }

func newKlpConvertCommand() *cobra.Command {
	var manifest string
	cmd := &cobra.Command{
		Use:   "klp-convert --manifest manifest.json MODULE.ko",
		Short: "Rewrite a built livepatch module into the livepatch ELF format",
		Long: `klp-convert rewrites a livepatch module that kbuild built from klpc's output:
relocations against the non-exported symbols its manifest lists move into
.klp.rela.<object>.<section> sections (SHF_ALLOC | SHF_RELA_LIVEPATCH) and the
symbols become .klp.sym.<object>.<symbol>,<sympos> (SHN_LIVEPATCH), which the
kernel's livepatch core resolves when the patch loads. The emitted Makefile
runs it after the build.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 {
				return usageError{fmt.Errorf("klp-convert takes one module, got %d arguments", len(args))}
			}
			if manifest == "" {
				return usageError{fmt.Errorf("klp-convert needs --manifest")}
			}
			rep, err := emit.ConvertModule(manifest, args[0])
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			for _, name := range sortedSectionNames(rep.Sections) {
				fmt.Fprintf(out, "%s: %d relocations\n", name, rep.Sections[name])
			}
			if len(rep.Converted) > 0 {
				fmt.Fprintf(out, "livepatch symbols: %s\n", strings.Join(rep.Converted, " "))
			}
			if len(rep.Unreferenced) > 0 {
				fmt.Fprintf(cmd.ErrOrStderr(), "klpc klp-convert: warning: %s does not refer to %s\n", args[0], strings.Join(rep.Unreferenced, ", "))
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&manifest, "manifest", "", "the manifest.json klpc emitted beside the module's sources")
	return cmd
}

func sortedSectionNames(m map[string]int) []string {
	return slices.Sorted(maps.Keys(m))
}
