package e2e

import (
	"bytes"
	"context"
	"crypto/sha256"
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
// sources) are in dir against env.Headers, and returns the path of the .ko.
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
	fmt.Fprintf(h, "headers %s\nrelease %s\nsources %s\n", env.Headers, env.KernelRelease, sum)
	key := hex.EncodeToString(h.Sum(nil))[:24]
	buildRoot := filepath.Join(env.Cache, "e2e", "build")
	final := filepath.Join(buildRoot, key)
	if ko, err := singleKo(final); err == nil {
		return ko, nil
	}
	if err := os.MkdirAll(buildRoot, 0o755); err != nil {
		return "", err
	}
	tmp, err := os.MkdirTemp(buildRoot, key+".tmp-")
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
	args := []string{"-C", env.Headers, "M=" + tmp, "modules"}
	if convert {
		args = append(args, "KBUILD_MODPOST_WARN=1")
	}
	cmd := exec.CommandContext(ctx, "make", args...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("building module in %s: %v\n%s", dir, err, tail(out.String(), 40))
	}
	ko, err := singleKo(tmp)
	if err != nil {
		return "", fmt.Errorf("building module in %s: %v", dir, err)
	}
	if convert {
		if _, err := emit.ConvertModule(filepath.Join(tmp, "manifest.json"), ko); err != nil {
			return "", fmt.Errorf("building module in %s: %v", dir, err)
		}
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
