package e2e

import (
	"bytes"
	"context"
	"crypto/sha256"
	"debug/elf"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"

	"github.com/klpc/klpc/emit"
)

// BuildModule builds the kernel module whose sources (a Kbuild file and C
// sources) are in dir against env.Headers, on the host or inside env.Chroot,
// and returns the path of the .ko.
// dir must build exactly one module.
//
// Builds are cached under <cache>/e2e/build/ by a hash of the sources (every
// file under dir except build products and hidden files), the headers folder
// and the kernel release: building unchanged sources again returns at once.
// The build runs on a copy of the sources, so dir is never written to.
func BuildModule(ctx context.Context, env Env, dir string) (string, error) {
	files, sum, err := hashSources(dir)
	if err != nil {
		return "", err
	}
	h := sha256.New()
	fmt.Fprintf(h, "headers %s\nchroot %s\nrelease %s\nsources %s\n", env.Headers, env.Chroot, env.KernelRelease, sum)
	key := hex.EncodeToString(h.Sum(nil))[:24]
	buildRoot := filepath.Join(env.Cache, "e2e", "build")
	final := filepath.Join(buildRoot, key)
	if ko, err := singleKo(final); err == nil {
		return ko, nil
	}
	if err := os.MkdirAll(buildRoot, 0o755); err != nil {
		return "", err
	}
	// A chroot build works on a copy of the sources inside the chroot.
	workRoot := buildRoot
	if env.Chroot != "" {
		workRoot = filepath.Join(env.Chroot, "build")
		if err := os.MkdirAll(workRoot, 0o755); err != nil {
			return "", err
		}
	}
	tmp, err := os.MkdirTemp(workRoot, key+".tmp-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(tmp)
	for _, rel := range files {
		data, err := os.ReadFile(filepath.Join(dir, rel))
		if err != nil {
			return "", err
		}
		dst := filepath.Join(tmp, rel)
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return "", err
		}
		if err := os.WriteFile(dst, data, 0o644); err != nil {
			return "", err
		}
	}
	// A module emitted by klpc whose replacement code uses symbols the
	// module loader cannot resolve is built as its Makefile does: modpost
	// only warns about them, and klp-convert rewrites them afterwards.
	convert := needsKlpConvert(filepath.Join(tmp, "manifest.json"))
	cmd := makeCommand(ctx, env, tmp, convert)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("building module in %s for %s: %v\n%s", dir, env.KernelRelease, err, tail(out.String(), 40))
	}
	ko, err := singleKo(tmp)
	if err != nil {
		return "", fmt.Errorf("building module in %s: %v", dir, err)
	}
	if convert {
		if err := completeTestManifest(filepath.Join(tmp, "manifest.json"), ko, env.KernelRelease); err != nil {
			return "", fmt.Errorf("building module in %s: %v", dir, err)
		}
		if _, err := emit.ConvertModule(filepath.Join(tmp, "manifest.json"), ko); err != nil {
			return "", fmt.Errorf("building module in %s: %v", dir, err)
		}
	}
	if env.Chroot != "" {
		// Copy the build out of the chroot, to publish it like any other.
		out, err := os.MkdirTemp(buildRoot, key+".tmp-")
		if err != nil {
			return "", err
		}
		defer os.RemoveAll(out)
		if err := copyFiles(tmp, out); err != nil {
			return "", fmt.Errorf("copying the build of %s out of %s: %w", dir, env.Chroot, err)
		}
		tmp = out
	}
	// Publish the finished build; another build of the same sources may have
	// won the race, and its result is as good as ours.
	if err := os.Rename(tmp, final); err != nil {
		if _, statErr := os.Stat(final); statErr != nil {
			return "", err
		}
	}
	return singleKo(final)
}

// makeCommand returns the kbuild command that builds the module in dir: make
// on the host, or, with env.Chroot, make inside the chroot, run by chroot(8)
// in a private mount namespace where /proc is mounted (objtool reads it) and
// vanishes with the command.
func makeCommand(ctx context.Context, env Env, dir string, convert bool) *exec.Cmd {
	m := dir
	if env.Chroot != "" {
		m = "/build/" + filepath.Base(dir)
	}
	args := []string{"-C", env.Headers, "M=" + m, "modules"}
	if convert {
		args = append(args, "KBUILD_MODPOST_WARN=1")
	}
	if env.Chroot == "" {
		return exec.CommandContext(ctx, "make", args...)
	}
	script := "mount -t proc proc /proc && exec make"
	for _, a := range args {
		script += " '" + a + "'"
	}
	cmd := exec.CommandContext(ctx, "unshare", "-m", "--propagation", "private",
		"chroot", env.Chroot, "/bin/sh", "-c", script)
	cmd.Env = []string{"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "HOME=/root", "LC_ALL=C"}
	return cmd
}

// copyFiles copies the regular files of the folder src into dst (not
// recursively): a kbuild output folder is flat.
func copyFiles(src, dst string) error {
	ents, err := os.ReadDir(src)
	if err != nil {
		return err
	}
	for _, e := range ents {
		if !e.Type().IsRegular() {
			continue
		}
		data, err := os.ReadFile(filepath.Join(src, e.Name()))
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dst, e.Name()), data, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// hashSources lists the source files under dir (relative paths, sorted) and
// hashes their names and contents.
func hashSources(dir string) ([]string, string, error) {
	var files []string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := d.Name()
		if path != dir && strings.HasPrefix(name, ".") {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if d.IsDir() || !d.Type().IsRegular() || isBuildProduct(name) {
			return nil
		}
		rel, err := filepath.Rel(dir, path)
		if err != nil {
			return err
		}
		files = append(files, rel)
		return nil
	})
	if err != nil {
		return nil, "", fmt.Errorf("reading module sources: %w", err)
	}
	if len(files) == 0 {
		return nil, "", fmt.Errorf("no module sources in %s", dir)
	}
	sort.Strings(files)
	h := sha256.New()
	for _, rel := range files {
		data, err := os.ReadFile(filepath.Join(dir, rel))
		if err != nil {
			return nil, "", err
		}
		fmt.Fprintf(h, "%s\x00%d\x00", filepath.ToSlash(rel), len(data))
		h.Write(data)
	}
	return files, hex.EncodeToString(h.Sum(nil)), nil
}

// isBuildProduct reports whether a file name is something kbuild writes.
func isBuildProduct(name string) bool {
	switch name {
	case "modules.order", "Module.symvers":
		return true
	}
	for _, ext := range []string{".o", ".ko", ".mod", ".mod.c", ".mod.o", ".cmd", ".a"} {
		if strings.HasSuffix(name, ext) {
			return true
		}
	}
	return false
}

// singleKo returns the one .ko file in dir.
func singleKo(dir string) (string, error) {
	kos, err := filepath.Glob(filepath.Join(dir, "*.ko"))
	if err != nil {
		return "", err
	}
	switch len(kos) {
	case 1:
		return kos[0], nil
	case 0:
		return "", fmt.Errorf("no .ko in %s", dir)
	}
	sort.Strings(kos)
	return "", fmt.Errorf("more than one .ko in %s: %s", dir, strings.Join(kos, ", "))
}

// tail returns the last n lines of s.
func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// needsKlpConvert reports whether a klpc manifest lists symbols that
// klp-convert must rewrite.
func needsKlpConvert(manifest string) bool {
	data, err := os.ReadFile(manifest)
	if err != nil {
		return false
	}
	var m struct {
		ELF struct {
			Symbols []json.RawMessage `json:"klp_symbols"`
		} `json:"elf"`
	}
	return json.Unmarshal(data, &m) == nil && len(m.ELF.Symbols) > 0
}

// completeTestManifest fills in what a hand-written test module's manifest
// (one without format_version; klpc's own manifests carry everything from
// the plan) cannot know, because the same module is built for every kernel
// line: the kernel release it is built for and the vermagic that build
// gave it. klp-convert then checks the rest: the module's name and its
// functions.
func completeTestManifest(path, ko, release string) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		return fmt.Errorf("%s: %v", path, err)
	}
	if _, ok := m["format_version"]; ok {
		return nil
	}
	f, err := elf.Open(ko)
	if err != nil {
		return err
	}
	defer f.Close()
	sec := f.Section(".modinfo")
	if sec == nil {
		return fmt.Errorf("%s has no .modinfo", ko)
	}
	info, err := sec.Data()
	if err != nil {
		return err
	}
	for _, kv := range bytes.Split(info, []byte{0}) {
		if v, ok := bytes.CutPrefix(kv, []byte("vermagic=")); ok {
			m["vermagic"] = string(v)
		}
	}
	m["format_version"] = "1.0"
	m["kernel"] = map[string]any{"release": release}
	out, err := json.Marshal(m)
	if err != nil {
		return err
	}
	return os.WriteFile(path, out, 0o644)
}
