package emit

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/klpc/klpc/diag"
	"github.com/klpc/klpc/plan"
)

// Options tune Emit.
type Options struct {
	// Force replaces an existing output folder.
	Force bool
}

// Emit generates the output of a plan and writes it to the folder out. It
// writes nothing when the plan has errors, when a fix file is missing, or
// when out exists and opts.Force is not set.
func Emit(p *plan.Plan, out string, opts Options) (*Tree, diag.Diagnostics) {
	abs, diags := checkOutput(p, out, opts)
	if diags.HasErrors() {
		return nil, diags
	}
	t, diags := Generate(p)
	if diags.HasErrors() {
		return nil, diags
	}
	if err := Write(t, abs, opts.Force); err != nil {
		return nil, append(diags, diag.Errorf(diag.OutputUnwritable, nil, "Cannot write the output", "%s", err))
	}
	return t, diags
}

// checkOutput refuses an output folder that exists (without Force), whose
// parent does not exist, or that holds a file the plan reads: replacing
// it would delete the configuration itself.
func checkOutput(p *plan.Plan, out string, opts Options) (string, diag.Diagnostics) {
	fail := func(code diag.Code, summary, format string, args ...any) (string, diag.Diagnostics) {
		return "", diag.Diagnostics{diag.Errorf(code, nil, summary, format, args...)}
	}
	if out == "" {
		return fail(diag.OutputInvalid, "No output folder", "Give the folder to emit into with -o.")
	}
	abs, err := filepath.Abs(out)
	if err != nil {
		return fail(diag.OutputInvalid, "Invalid output folder", "%s: %s.", out, err)
	}
	if filepath.Dir(abs) == abs {
		return fail(diag.OutputInvalid, "Invalid output folder", "klpc does not emit into the root folder %s.", abs)
	}
	var inputs []string
	for name := range p.Sources {
		inputs = append(inputs, name)
	}
	for _, f := range p.Fixes {
		inputs = append(inputs, f.Source, f.Patch)
	}
	for _, k := range p.Kernels {
		inputs = append(inputs, k.Headers, k.Source, k.Config, k.Vmlinux)
	}
	for _, in := range inputs {
		if in == "" {
			continue
		}
		if a, err := filepath.Abs(in); err == nil && within(a, abs) {
			return fail(diag.OutputHoldsInput, "Output folder holds an input", "The output folder %s holds %s, which the plan reads; emitting there would replace it. Choose another folder.", abs, a)
		}
	}
	if st, err := os.Lstat(filepath.Dir(abs)); err != nil || !st.IsDir() {
		return fail(diag.OutputInvalid, "Output folder's parent missing", "The folder %s, where %s would be made, does not exist; klpc writes nothing outside the output folder, so create it first.", filepath.Dir(abs), filepath.Base(abs))
	}
	st, err := os.Lstat(abs)
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return fail(diag.OutputUnwritable, "Cannot use the output folder", "%s.", err)
	case !opts.Force:
		return fail(diag.OutputExists, "Output folder exists", "%s already exists; klpc replaces it only with --force.", abs)
	case !st.IsDir():
		return fail(diag.OutputInvalid, "Output is not a folder", "%s exists and is not a folder; klpc replaces only a folder it could have emitted, even with --force.", abs)
	}
	return abs, nil
}

// within reports whether path is dir or inside it.
func within(path, dir string) bool {
	rel, err := filepath.Rel(dir, path)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator))
}

// Write writes a tree to the folder out, atomically: into a temporary
// folder beside it (on the same file system), renamed into place at the
// end. With force an existing folder is swapped out and removed;
// otherwise an existing out is an error. Modes are fixed (0755 folders,
// the files' own modes), whatever the umask.
func Write(t *Tree, out string, force bool) (err error) {
	abs, err := filepath.Abs(out)
	if err != nil {
		return err
	}
	parent, base := filepath.Dir(abs), filepath.Base(abs)
	tmp, err := os.MkdirTemp(parent, "."+base+".klpc-")
	if err != nil {
		return fmt.Errorf("creating a temporary folder beside %s: %w", abs, err)
	}
	defer func() {
		if err != nil {
			os.RemoveAll(tmp)
		}
	}()
	if err := os.Chmod(tmp, 0o755); err != nil {
		return err
	}
	for _, f := range t.Files {
		if !fs.ValidPath(f.Path) || f.Path == "." {
			return fmt.Errorf("invalid output path %q", f.Path)
		}
		path := filepath.Join(tmp, filepath.FromSlash(f.Path))
		if err := mkdirs(tmp, filepath.Dir(path)); err != nil {
			return err
		}
		if err := os.WriteFile(path, f.Data, f.Mode); err != nil {
			return err
		}
		if err := os.Chmod(path, f.Mode); err != nil {
			return err
		}
	}
	_, statErr := os.Lstat(abs)
	switch {
	case statErr == nil && !force:
		return fmt.Errorf("%s already exists; klpc replaces it only with --force", abs)
	case statErr == nil:
		if err := exchange(tmp, abs); err != nil {
			return fmt.Errorf("replacing %s: %w", abs, err)
		}
		// tmp now holds the old output.
		if err := os.RemoveAll(tmp); err != nil {
			return fmt.Errorf("removing the previous output (now %s): %w", tmp, err)
		}
		return nil
	case !errors.Is(statErr, fs.ErrNotExist):
		return statErr
	}
	if err := os.Rename(tmp, abs); err != nil {
		return fmt.Errorf("moving the output into place: %w", err)
	}
	return nil
}

// mkdirs creates dir and its parents up to root with mode 0755.
func mkdirs(root, dir string) error {
	if dir == root {
		return nil
	}
	if st, err := os.Stat(dir); err == nil && st.IsDir() {
		return nil
	}
	if err := mkdirs(root, filepath.Dir(dir)); err != nil {
		return err
	}
	if err := os.Mkdir(dir, 0o755); err != nil && !errors.Is(err, fs.ErrExist) {
		return err
	}
	return os.Chmod(dir, 0o755)
}
