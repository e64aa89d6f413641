package emit

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"

	"github.com/klpc/klpc/diag"
	"github.com/klpc/klpc/internal/safeio"
	"github.com/klpc/klpc/plan"
)

// Options tune Emit.
type Options struct {
	// Force replaces an existing output folder.
	Force bool
}

// Marker is the file klpc writes at the top of every output folder (and
// of its temporary folders). --force replaces only a folder that carries
// it: klpc never deletes what it did not write.
const Marker = ".klpc-output"

// markerText is the marker's content; a temporary folder's marker adds the
// process id of the klpc that writes it.
const markerText = "written by klpc emit; klpc emit --force replaces this folder\n"

// Emit generates the output of a plan and writes it to the folder out. It
// writes nothing when the plan has errors, when a fix file is missing, or
// when out exists and opts.Force is not set. ctx stops the writing (on
// SIGINT or SIGTERM): the temporary folder is removed and out is untouched.
func Emit(ctx context.Context, p *plan.Plan, out string, opts Options) (*Tree, diag.Diagnostics) {
	abs, diags := checkOutput(p, out, opts)
	if diags.HasErrors() {
		return nil, diags
	}
	// Files are written as they are generated and then dropped, keeping
	// their hash for build.json: a fleet's output does not fit in memory.
	// Two writers overlap the file system's work with the generator's;
	// the queue between them bounds what is held.
	o, err := begin(abs)
	if err != nil {
		return nil, diag.Diagnostics{diag.Errorf(diag.OutputUnwritable, nil, "Cannot write the output", "%s", err)}
	}
	var (
		mu       sync.Mutex
		writeErr error
		wg       sync.WaitGroup
	)
	fail := func(err error) {
		mu.Lock()
		if writeErr == nil {
			writeErr = err
		}
		mu.Unlock()
	}
	failed := func() bool {
		mu.Lock()
		defer mu.Unlock()
		return writeErr != nil
	}
	queue := make(chan *File, 64)
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for f := range queue {
				if failed() {
					continue
				}
				if err := ctx.Err(); err != nil {
					fail(fmt.Errorf("interrupted: %w", context.Cause(ctx)))
					continue
				}
				if err := o.writeFile(f); err != nil {
					fail(err)
				}
				f.Data = nil
			}
		}()
	}
	t, diags := generateTo(p, func(f *File) { queue <- f })
	close(queue)
	wg.Wait()
	if diags.HasErrors() {
		o.abort()
		return nil, diags
	}
	if writeErr == nil {
		writeErr = o.finish(opts.Force)
	}
	if writeErr != nil {
		o.abort()
		return nil, append(diags, diag.Errorf(diag.OutputUnwritable, nil, "Cannot write the output", "%s", writeErr))
	}
	return t, diags
}

// resolve makes a path absolute with every symbolic link resolved; for a
// path that does not exist, the deepest existing folder is resolved.
func resolve(path string) string {
	abs, err := filepath.Abs(path)
	if err != nil {
		return filepath.Clean(path)
	}
	if r, err := filepath.EvalSymlinks(abs); err == nil {
		return r
	}
	parent := filepath.Dir(abs)
	if parent == abs {
		return abs
	}
	return filepath.Join(resolve(parent), filepath.Base(abs))
}

// protected lists what an output folder may never be or hold, resolved:
// the configuration's files and folders, every input the plan reads, and
// the working folder.
func protected(p *plan.Plan) []string {
	var paths []string
	for name := range p.Sources {
		paths = append(paths, name, filepath.Dir(name))
	}
	for _, f := range p.Fixes {
		paths = append(paths, f.Source, f.Patch)
	}
	for _, k := range p.Kernels {
		paths = append(paths, k.Headers, k.Source, k.Config, k.Vmlinux)
		paths = append(paths, k.Inputs...)
	}
	if wd, err := os.Getwd(); err == nil {
		paths = append(paths, wd)
	}
	var out []string
	for _, p := range paths {
		if p != "" {
			out = append(out, resolve(p))
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// checkOutput refuses an output folder that exists (without Force, or
// without klpc's marker), whose parent does not exist, or that is or
// holds the configuration, an input or the working folder, symbolic links
// resolved: replacing it would delete them.
func checkOutput(p *plan.Plan, out string, opts Options) (string, diag.Diagnostics) {
	fail := func(code diag.Code, summary, format string, args ...any) (string, diag.Diagnostics) {
		return "", diag.Diagnostics{diag.Errorf(code, nil, summary, format, args...)}
	}
	if out == "" {
		return fail(diag.OutputInvalid, "No output folder", "Give the folder to emit into with -o.")
	}
	if strings.ContainsFunc(out, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		return fail(diag.OutputInvalid, "Invalid output folder", "The output folder %q holds control characters.", out)
	}
	abs := resolve(out)
	if filepath.Dir(abs) == abs {
		return fail(diag.OutputInvalid, "Invalid output folder", "klpc does not emit into the root folder %s.", abs)
	}
	for _, in := range protected(p) {
		if within(in, abs) {
			what := "holds"
			if in == abs {
				what = "is"
			}
			return fail(diag.OutputHoldsInput, "Output folder holds an input", "The output folder %s %s %s, which the plan reads or klpc runs in; emitting there would replace it. Choose another folder.", abs, what, in)
		}
	}
	if st, err := os.Stat(filepath.Dir(abs)); err != nil || !st.IsDir() {
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
	case !hasMarker(abs):
		return fail(diag.OutputExists, "Output folder not written by klpc", "%s exists and has no %s file, so klpc did not write it; klpc replaces only a folder it emitted, even with --force. Choose another folder or remove it yourself.", abs, Marker)
	}
	return abs, nil
}

// hasMarker reports whether dir carries klpc's marker as a regular file.
func hasMarker(dir string) bool {
	st, err := os.Lstat(filepath.Join(dir, Marker))
	return err == nil && st.Mode().IsRegular()
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
// the files' own modes), whatever the umask. Temporary folders that killed
// runs left beside out are removed first; when ctx is done the writing
// stops and the temporary folder is removed.
func Write(ctx context.Context, t *Tree, out string, force bool) (err error) {
	o, err := begin(out)
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			o.abort()
		}
	}()
	for _, f := range t.Files {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("interrupted: %w", context.Cause(ctx))
		}
		if err := o.writeFile(f); err != nil {
			return err
		}
	}
	return o.finish(force)
}

// outDir is an output being written: the temporary folder beside out.
type outDir struct {
	abs, tmp string
	// umask is the process's file mode creation mask, when known: a file
	// whose mode it leaves alone needs no chmod.
	umask fs.FileMode
	known bool
	// dirs are the folders made in tmp; writers share them.
	mu   sync.Mutex
	dirs map[string]bool
	// written maps the content (hash and mode) of each file written
	// whole to its path, so that a file with the same content becomes a
	// hard link to it (see link); noLinks is set once the file system
	// refuses links.
	written map[contentKey]string
	noLinks bool
}

// contentKey identifies a file's content and mode.
type contentKey struct {
	sum  string
	mode fs.FileMode
}

// linkKey returns the content key of a file that may be linked: one
// whose hash is known and whose content is held, not streamed.
func linkKey(f *File) (contentKey, bool) {
	return contentKey{f.sum, f.Mode}, f.sum != "" && f.write == nil
}

// begin creates the temporary folder beside out, with the marker of a
// run in progress; temporary folders killed runs left are removed first.
func begin(out string) (*outDir, error) {
	abs, err := filepath.Abs(out)
	if err != nil {
		return nil, err
	}
	parent, base := filepath.Dir(abs), filepath.Base(abs)
	removeStale(parent, base)
	tmp, err := os.MkdirTemp(parent, "."+base+".klpc-")
	if err != nil {
		return nil, fmt.Errorf("creating a temporary folder beside %s: %w", abs, err)
	}
	o := &outDir{abs: abs, tmp: tmp, dirs: map[string]bool{tmp: true}, written: map[contentKey]string{}}
	o.umask, o.known = readUmask()
	if err := os.Chmod(tmp, 0o755); err != nil {
		o.abort()
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(tmp, Marker), []byte(fmt.Sprintf("%spid %d\n", markerText, os.Getpid())), 0o644); err != nil {
		o.abort()
		return nil, err
	}
	return o, nil
}

// abort removes the temporary folder.
func (o *outDir) abort() { os.RemoveAll(o.tmp) }

// writeFile writes one file into the temporary folder.
func (o *outDir) writeFile(f *File) error {
	if !fs.ValidPath(f.Path) || f.Path == "." || f.Path == Marker {
		return fmt.Errorf("invalid output path %q", f.Path)
	}
	path := filepath.Join(o.tmp, filepath.FromSlash(f.Path))
	if err := o.mkdirs(filepath.Dir(path)); err != nil {
		return err
	}
	if o.link(f, path) {
		return nil
	}
	if f.write != nil {
		if err := writeStreamed(path, f); err != nil {
			return err
		}
	} else if err := os.WriteFile(path, f.Data, f.Mode); err != nil {
		return err
	}
	if !o.known || f.Mode&o.umask != 0 {
		if err := os.Chmod(path, f.Mode); err != nil {
			return err
		}
	}
	o.wrote(f, path)
	return nil
}

// Files with the same content and mode are written once and hard-linked:
// every module folder carries the patches of every fix its release
// holds, so a fleet's output repeats each patch in hundreds of folders.
// A link costs a folder entry where a copy costs an inode too, and
// creating tens of thousands of inodes (more so right after --force
// removed as many) is most of the time a file system spends on such an
// output. Only files whose hash is known (those Emit writes as they are
// made) are linked. Where the file system has no hard links, the file is
// written as a copy.

// link makes path a hard link to an earlier file with f's content and
// mode, and reports whether it did.
func (o *outDir) link(f *File, path string) bool {
	k, ok := linkKey(f)
	if !ok {
		return false
	}
	o.mu.Lock()
	first, ok := o.written[k]
	no := o.noLinks
	o.mu.Unlock()
	if !ok || no {
		return false
	}
	if err := os.Link(first, path); err != nil {
		o.mu.Lock()
		switch {
		case errors.Is(err, syscall.EMLINK):
			// The first file has all the links it may have: the copy
			// written instead takes its place.
			delete(o.written, k)
		case !errors.Is(err, fs.ErrExist):
			o.noLinks = true
		}
		o.mu.Unlock()
		return false
	}
	return true
}

// wrote records a file written whole, for later files with its content.
func (o *outDir) wrote(f *File, path string) {
	k, ok := linkKey(f)
	if !ok {
		return
	}
	o.mu.Lock()
	if _, ok := o.written[k]; !ok {
		o.written[k] = path
	}
	o.mu.Unlock()
}

// mkdirs makes a folder in tmp and its parents, each once.
func (o *outDir) mkdirs(dir string) error {
	o.mu.Lock()
	done := o.dirs[dir]
	o.mu.Unlock()
	if done {
		return nil
	}
	if err := mkdirs(o.tmp, dir); err != nil {
		return err
	}
	o.mu.Lock()
	for d := dir; d != o.tmp && len(d) > len(o.tmp); d = filepath.Dir(d) {
		o.dirs[d] = true
	}
	o.mu.Unlock()
	return nil
}

// readUmask reads the process's umask from /proc/self/status (Linux 4.7
// on), without changing it; false when it cannot.
func readUmask() (fs.FileMode, bool) {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0, false
	}
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "Umask:"); ok {
			m, err := strconv.ParseUint(strings.TrimSpace(v), 8, 32)
			if err != nil {
				return 0, false
			}
			return fs.FileMode(m), true
		}
	}
	return 0, false
}

// finish marks the temporary folder complete and moves it into place,
// swapping out (with force) an existing output, which is then removed.
// On an error the caller removes the temporary folder (abort).
func (o *outDir) finish(force bool) error {
	abs, tmp := o.abs, o.tmp
	if err := os.WriteFile(filepath.Join(tmp, Marker), []byte(markerText), 0o644); err != nil {
		return err
	}
	_, statErr := os.Lstat(abs)
	switch {
	case statErr == nil && !force:
		return fmt.Errorf("%s already exists; klpc replaces it only with --force", abs)
	case statErr == nil && !hasMarker(abs):
		return fmt.Errorf("%s has no %s file; klpc replaces only a folder it emitted", abs, Marker)
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

// writeStreamed writes a file whose content is written as it is made.
func writeStreamed(path string, f *File) error {
	out, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, f.Mode)
	if err != nil {
		return err
	}
	bw := bufio.NewWriterSize(out, 256<<10)
	if err := f.write(bw); err != nil {
		out.Close()
		return err
	}
	if err := bw.Flush(); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// removeStale removes the temporary folders that runs of klpc killed
// before they finished left beside out: those that carry the marker of a
// process that no longer runs.
func removeStale(parent, base string) {
	dirs, _ := filepath.Glob(filepath.Join(parent, "."+base+".klpc-*"))
	for _, d := range dirs {
		st, err := os.Lstat(d)
		if err != nil || !st.IsDir() {
			continue
		}
		data, err := safeio.ReadFile(filepath.Join(d, Marker), 4096)
		if err != nil || !strings.HasPrefix(string(data), markerText) {
			continue // not klpc's
		}
		var pid int
		if _, err := fmt.Sscanf(strings.TrimPrefix(string(data), markerText), "pid %d", &pid); err == nil && pid > 0 && processRuns(pid) {
			continue // another klpc is writing it now
		}
		os.RemoveAll(d)
	}
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
