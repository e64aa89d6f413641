package hostsnap

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/klpc/klpc/internal/safeio"
)

// maxAttr caps one sysfs or procfs file read by Capture.
const maxAttr = 1 << 20

// Capture records the snapshot of the system whose /proc and /sys are
// mounted under root ("/" for the running machine). It reads what
// scripts/klpc-snapshot.sh reads, in the same order, and returns the
// snapshot in canonical order.
func Capture(root string) (*Snapshot, error) {
	p := func(rel string) string { return filepath.Join(root, rel) }
	rel, err := firstLine(p("proc/sys/kernel/osrelease"))
	if err != nil {
		return nil, err
	}
	s := &Snapshot{Format: Format, Kernel: rel}

	lpDir := p("sys/kernel/livepatch")
	patches, err := subdirs(lpDir)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	for _, name := range patches {
		d := filepath.Join(lpDir, name)
		e, err1 := firstLine(filepath.Join(d, "enabled"))
		t, err2 := firstLine(filepath.Join(d, "transition"))
		if err := errors.Join(err1, err2); err != nil {
			// The patch went away while we read it, as the script skips it.
			if errors.Is(err, fs.ErrNotExist) {
				continue
			}
			return nil, err
		}
		pt := Patch{Name: name, Enabled: e == "1", Transition: t == "1"}
		if v, err := firstLine(filepath.Join(d, "replace")); err == nil {
			r := v == "1"
			pt.Replace = &r
		}
		if v, err := firstLine(filepath.Join(d, "stack_order")); err == nil {
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 {
				return nil, fmt.Errorf("%s: stack_order %s is not a positive number", d, safeio.Excerpt(v))
			}
			pt.StackOrder = n
		}
		objs, err := subdirs(d)
		if err != nil {
			return nil, err
		}
		for _, o := range objs {
			od := filepath.Join(d, o)
			v, _ := firstLine(filepath.Join(od, "patched"))
			funcs, err := subdirs(od)
			if err != nil {
				return nil, err
			}
			pt.Objects = append(pt.Objects, Object{Name: o, Patched: v == "1", Funcs: funcs})
		}
		s.Livepatches = append(s.Livepatches, pt)
	}

	mods, err := safeio.ReadFile(p("proc/modules"), 16<<20)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	sc := bufio.NewScanner(bytes.NewReader(mods))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) == 0 {
			continue
		}
		m := Module{Name: f[0]}
		md := p("sys/module/" + f[0])
		m.Srcversion, _ = firstLine(filepath.Join(md, "srcversion"))
		m.Version, _ = firstLine(filepath.Join(md, "version"))
		m.Taint, _ = firstLine(filepath.Join(md, "taint"))
		s.Modules = append(s.Modules, m)
	}
	s.Canonical()
	return s, nil
}

// firstLine reads the first line of a small attribute file, without its
// newline and with control characters dropped (as the script's tr does).
func firstLine(path string) (string, error) {
	b, err := safeio.ReadFile(path, maxAttr)
	if err != nil {
		return "", err
	}
	if i := bytes.IndexByte(b, '\n'); i >= 0 {
		b = b[:i]
	}
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return -1
		}
		return r
	}, strings.Trim(string(b), " \t")), nil
}

// subdirs lists the directories in dir, sorted by name.
func subdirs(dir string) ([]string, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	out := []string{}
	for _, e := range ents {
		if e.IsDir() {
			out = append(out, e.Name())
		}
	}
	return out, nil
}
