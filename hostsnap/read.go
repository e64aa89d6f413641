package hostsnap

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"
	"sync"

	"github.com/klpc/klpc/internal/safeio"
)

// Caps on what a snapshot may hold; a real host is far below them.
const (
	// MaxSize caps a snapshot file.
	MaxSize = 8 << 20
	// MaxEntries caps the patches, modules, objects of a patch and
	// functions of an object, each.
	MaxEntries = 1 << 14
)

// Error is a snapshot that cannot be used: Field names the place in the
// JSON, such as "livepatches[1].name", or is empty for the file as a whole.
type Error struct {
	File  string
	Line  int // 1-based, 0 when unknown
	Col   int
	Field string
	Msg   string
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d:%d", e.Line, e.Col)
	}
	b.WriteString(": ")
	if e.Field != "" {
		b.WriteString(e.Field + ": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// ReadFile reads and checks the snapshot at path.
func ReadFile(path string) (*Snapshot, error) {
	data, err := safeio.ReadFile(path, MaxSize)
	if err != nil {
		return nil, err
	}
	return Parse(path, data)
}

var (
	// module_name: what /proc/modules can list (kabi checks the stricter
	// rules of names klpc writes; here any name the kernel shows is fine).
	moduleRe  = &lazyRe{pat: `^[A-Za-z0-9_-]{1,55}$`}
	funcDirRe = &lazyRe{pat: `^[A-Za-z0-9_.$]{1,511},[0-9]{1,10}$`}
	releaseRe = &lazyRe{pat: `^[A-Za-z0-9._+~-]{1,64}$`}
	printable = &lazyRe{pat: `^[\x20-\x7e]{0,256}$`}
	taintRe   = &lazyRe{pat: `^[A-Z]{0,32}$`}
)

// lazyRe compiles its pattern on first use: every klpc command starts
// the process, and most never read a snapshot.
type lazyRe struct {
	once sync.Once
	pat  string
	re   *regexp.Regexp
}

func (l *lazyRe) MatchString(s string) bool {
	l.once.Do(func() { l.re = regexp.MustCompile(l.pat) })
	return l.re.MatchString(s)
}

// Parse checks a snapshot's text: strict JSON (no unknown fields, no
// trailing data), Format, names as the kernel shows them, no duplicates.
// The result is in canonical order.
func Parse(file string, data []byte) (*Snapshot, error) {
	if len(data) > MaxSize {
		return nil, &Error{File: file, Msg: fmt.Sprintf("larger than %s", safeio.Size(MaxSize))}
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var s Snapshot
	if err := dec.Decode(&s); err != nil {
		return nil, jsonError(file, data, dec, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		line, col := position(data, int(dec.InputOffset()))
		return nil, &Error{File: file, Line: line, Col: col, Msg: "data after the snapshot object"}
	}
	bad := func(field, format string, args ...any) error {
		return &Error{File: file, Field: field, Msg: fmt.Sprintf(format, args...)}
	}
	if s.Format != Format {
		return nil, bad("format", "%d is not a snapshot format klpc reads (%d)", s.Format, Format)
	}
	if !releaseRe.MatchString(s.Kernel) {
		return nil, bad("kernel", "%s is not a kernel release (uname -r)", safeio.Excerpt(s.Kernel))
	}
	if len(s.Livepatches) > MaxEntries || len(s.Modules) > MaxEntries {
		return nil, bad("", "more than %d livepatches or modules", MaxEntries)
	}
	seen := map[string]bool{}
	orders := map[int]bool{}
	for i, p := range s.Livepatches {
		f := fmt.Sprintf("livepatches[%d]", i)
		if !moduleRe.MatchString(p.Name) {
			return nil, bad(f+".name", "%s is not a module name", safeio.Excerpt(p.Name))
		}
		if seen[p.Name] {
			return nil, bad(f+".name", "livepatch %q listed twice", p.Name)
		}
		seen[p.Name] = true
		if p.StackOrder < 0 || p.StackOrder > MaxEntries {
			return nil, bad(f+".stack_order", "%d is out of range", p.StackOrder)
		}
		if p.StackOrder > 0 {
			if orders[p.StackOrder] {
				return nil, bad(f+".stack_order", "%d given to two livepatches", p.StackOrder)
			}
			orders[p.StackOrder] = true
		}
		if len(p.Objects) > MaxEntries {
			return nil, bad(f+".objects", "more than %d objects", MaxEntries)
		}
		objs := map[string]bool{}
		for j, o := range p.Objects {
			g := fmt.Sprintf("%s.objects[%d]", f, j)
			if o.Name != "vmlinux" && !moduleRe.MatchString(o.Name) {
				return nil, bad(g+".name", "%s is not vmlinux or a module name", safeio.Excerpt(o.Name))
			}
			if objs[o.Name] {
				return nil, bad(g+".name", "object %q listed twice", o.Name)
			}
			objs[o.Name] = true
			if len(o.Funcs) > MaxEntries {
				return nil, bad(g+".funcs", "more than %d functions", MaxEntries)
			}
			fns := map[string]bool{}
			for k, fn := range o.Funcs {
				if !funcDirRe.MatchString(fn) {
					return nil, bad(fmt.Sprintf("%s.funcs[%d]", g, k), "%s is not a \"function,sympos\" directory", safeio.Excerpt(fn))
				}
				if fns[fn] {
					return nil, bad(fmt.Sprintf("%s.funcs[%d]", g, k), "%q listed twice", fn)
				}
				fns[fn] = true
			}
		}
	}
	if len(orders) > 0 && len(orders) != len(s.Livepatches) {
		return nil, bad("livepatches", "stack_order given for some livepatches only")
	}
	mods := map[string]bool{}
	for i, m := range s.Modules {
		f := fmt.Sprintf("modules[%d]", i)
		if !moduleRe.MatchString(m.Name) {
			return nil, bad(f+".name", "%s is not a module name", safeio.Excerpt(m.Name))
		}
		if mods[m.Name] {
			return nil, bad(f+".name", "module %q listed twice", m.Name)
		}
		mods[m.Name] = true
		if !printable.MatchString(m.Srcversion) || !printable.MatchString(m.Version) {
			return nil, bad(f, "srcversion or version holds characters other than printable ASCII, or is too long")
		}
		if !taintRe.MatchString(m.Taint) {
			return nil, bad(f+".taint", "%s is not a set of taint letters", safeio.Excerpt(m.Taint))
		}
	}
	for _, p := range s.Livepatches {
		if !mods[p.Name] {
			return nil, bad("livepatches", "livepatch %q has no module in modules", p.Name)
		}
	}
	s.Canonical()
	return &s, nil
}

func jsonError(file string, data []byte, dec *json.Decoder, err error) error {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	off := int(dec.InputOffset())
	msg := err.Error()
	field := ""
	switch {
	case errors.As(err, &se):
		off = int(se.Offset)
	case errors.As(err, &te):
		off = int(te.Offset)
		field = te.Field
		msg = fmt.Sprintf("a JSON %s where %s is wanted", te.Value, te.Type)
	case errors.Is(err, io.EOF):
		msg = "empty: no snapshot object"
	case errors.Is(err, io.ErrUnexpectedEOF):
		msg = "ends in the middle of the snapshot"
	}
	msg = strings.TrimPrefix(msg, "json: ")
	line, col := position(data, off)
	return &Error{File: file, Line: line, Col: col, Field: field, Msg: msg}
}

// position turns a byte offset into a 1-based line and column.
func position(data []byte, off int) (int, int) {
	if off > len(data) {
		off = len(data)
	}
	if off < 0 {
		off = 0
	}
	line := 1 + bytes.Count(data[:off], []byte("\n"))
	col := off - bytes.LastIndexByte(data[:off], '\n')
	return line, col
}

// Marshal writes the snapshot as indented JSON, in canonical order.
func Marshal(s *Snapshot) ([]byte, error) {
	c := *s
	c.Canonical()
	b, err := json.MarshalIndent(&c, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}
