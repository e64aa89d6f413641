package cli

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclwrite"
	"github.com/spf13/cobra"

	"github.com/klpc/klpc/lang"
)

func newFmtCommand() *cobra.Command {
	var check bool
	cmd := &cobra.Command{
		Use:   "fmt [DIR]",
		Short: "Rewrite *.klp.hcl files in canonical format",
		Long: `fmt rewrites the *.klp.hcl files of a directory in HCL's canonical layout.
With --check it changes nothing, lists the files that are not formatted and
exits 1 if there are any (for CI).`,
		Args:              maxOneArg,
		ValidArgsFunction: completeDir,
		RunE: func(cmd *cobra.Command, args []string) error {
			dir := dirArg(args)
			entries, err := os.ReadDir(dir)
			if err != nil {
				return err
			}
			var names []string
			for _, e := range entries {
				if !e.IsDir() && strings.HasSuffix(e.Name(), lang.FileSuffix) {
					names = append(names, filepath.Join(dir, e.Name()))
				}
			}
			sort.Strings(names)
			files := map[string]*hcl.File{}
			var diags hcl.Diagnostics
			var unformatted []string
			for _, name := range names {
				src, err := os.ReadFile(name)
				if err != nil {
					return err
				}
				_, d := hclwrite.ParseConfig(src, name, hcl.InitialPos)
				files[name] = &hcl.File{Bytes: src}
				if d.HasErrors() {
					diags = append(diags, d...)
					continue
				}
				out := hclwrite.Format(src)
				if bytes.Equal(out, src) {
					continue
				}
				unformatted = append(unformatted, name)
				if !check {
					if err := writeFileAtomic(name, out); err != nil {
						return err
					}
				}
			}
			if len(diags) > 0 {
				dw := hcl.NewDiagnosticTextWriter(cmd.ErrOrStderr(), files, 100, isTerminal(cmd.ErrOrStderr()))
				_ = dw.WriteDiagnostics(diags)
				return errDiagnostics
			}
			for _, name := range unformatted {
				fmt.Fprintln(cmd.OutOrStdout(), name)
			}
			if check && len(unformatted) > 0 {
				fmt.Fprintf(cmd.ErrOrStderr(), "klpc fmt: %s not in canonical format; run klpc fmt %s\n", plural(len(unformatted), "file"), dir)
				return errDiagnostics
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&check, "check", false, "change nothing; exit 1 if any file is not formatted")
	return cmd
}

// writeFileAtomic replaces a file through a temporary file in its folder,
// keeping its mode, so that a crash never leaves half a file.
func writeFileAtomic(name string, data []byte) error {
	mode := os.FileMode(0o644)
	if st, err := os.Stat(name); err == nil {
		mode = st.Mode().Perm()
	}
	tmp, err := os.CreateTemp(filepath.Dir(name), ".klpc-fmt-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(mode); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), name)
}
