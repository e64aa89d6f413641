// Package safeio reads files that come from untrusted places, such as the
// kernel build inputs named in a pull request, without letting them hang
// or exhaust the process. It opens regular files only (a FIFO, device,
// socket or folder is refused before anything can block on it), caps how
// many bytes a file may hold, shares one decompression budget between all
// the files of a load, and turns input text into short, escaped excerpts
// for diagnostics.
//
// It imports only the standard library, and it never parses: decoders and
// parsers live with their callers and read through these guards.
package safeio

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strconv"
	"sync/atomic"
	"unicode/utf8"
)

// Sentinel errors, wrapped by *Error; test them with errors.Is.
var (
	// ErrNotRegular reports a path that is not a regular file.
	ErrNotRegular = errors.New("not a regular file")
	// ErrTooLarge reports a file, or decompressed data, over its cap.
	ErrTooLarge = errors.New("too large")
	// ErrBudget reports that a shared decompression budget is used up.
	ErrBudget = errors.New("decompression budget used up")
)

// Error is a failure to read one file safely. Its message starts with the
// file's path.
type Error struct {
	Path string
	Msg  string // what went wrong, in words
	Err  error  // one of the sentinel errors, or the underlying error
}

func (e *Error) Error() string { return e.Path + ": " + e.Msg }
func (e *Error) Unwrap() error { return e.Err }

// Open opens path for reading. Symlinks are followed, but what they lead to
// must be a regular file of at most max bytes. The type is checked before
// the open and again on the open descriptor, and the open itself never
// blocks, so a FIFO swapped in between is still refused without waiting
// for a writer.
func Open(path string, max int64) (*os.File, fs.FileInfo, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, nil, err
	}
	if err := checkInfo(path, st, max); err != nil {
		return nil, nil, err
	}
	fh, err := openNonblock(path)
	if err != nil {
		return nil, nil, err
	}
	st, err = fh.Stat()
	if err == nil {
		err = checkInfo(path, st, max)
	}
	if err != nil {
		fh.Close()
		return nil, nil, err
	}
	return fh, st, nil
}

// Check reports, without opening it, whether path (after symlinks) is a
// regular file of at most max bytes.
func Check(path string, max int64) (fs.FileInfo, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	return st, checkInfo(path, st, max)
}

func checkInfo(path string, st fs.FileInfo, max int64) error {
	if !st.Mode().IsRegular() {
		return &Error{Path: path, Msg: "is " + describeMode(st.Mode()) + ", want a regular file", Err: ErrNotRegular}
	}
	if st.Size() > max {
		return &Error{Path: path, Msg: fmt.Sprintf("is %s, more than the %s allowed for this kind of file", Size(st.Size()), Size(max)), Err: ErrTooLarge}
	}
	return nil
}

func describeMode(m fs.FileMode) string {
	switch {
	case m.IsDir():
		return "a folder"
	case m&fs.ModeNamedPipe != 0:
		return "a named pipe (FIFO)"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeCharDevice != 0:
		return "a character device"
	case m&fs.ModeDevice != 0:
		return "a block device"
	case m&fs.ModeSymlink != 0:
		return "a symbolic link"
	}
	return "not a regular file (mode " + m.String() + ")"
}

// ReadFile reads a whole regular file of at most max bytes (see Open).
func ReadFile(path string, max int64) ([]byte, error) {
	fh, st, err := Open(path, max)
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	data, err := readAll(fh, st.Size(), max)
	if err != nil {
		return nil, wrap(path, err, max)
	}
	return data, nil
}

// ReadAll reads r to its end, failing with ErrTooLarge instead of
// allocating more than max+1 bytes.
func ReadAll(r io.Reader, max int64) ([]byte, error) {
	return readAll(r, 0, max)
}

func readAll(r io.Reader, hint, limit int64) ([]byte, error) {
	size := min(max(hint+1, 512), limit+1)
	buf := make([]byte, 0, size)
	for {
		if len(buf) == cap(buf) {
			if int64(len(buf)) > limit {
				return nil, tooLarge(limit)
			}
			grow := min(max(int64(cap(buf)), 512), limit+1-int64(len(buf)))
			bigger := make([]byte, len(buf), int64(len(buf))+grow)
			copy(bigger, buf)
			buf = bigger
		}
		n, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if int64(len(buf)) > limit {
			return nil, tooLarge(limit)
		}
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			return nil, err
		}
	}
}

type tooLargeError struct{ max int64 }

func (e tooLargeError) Error() string {
	return "holds more than the " + Size(e.max) + " allowed for this kind of file"
}
func (e tooLargeError) Unwrap() error { return ErrTooLarge }

func tooLarge(max int64) error { return tooLargeError{max} }

func wrap(path string, err error, max int64) error {
	var e *Error
	if errors.As(err, &e) {
		return err
	}
	var tl tooLargeError
	if errors.As(err, &tl) {
		return &Error{Path: path, Msg: tl.Error(), Err: ErrTooLarge}
	}
	return &Error{Path: path, Msg: err.Error(), Err: err}
}

// DefaultBudget is the decompression budget of one load: every compressed
// file of a kernel build together may expand to at most this many bytes.
// A whole Debian module tree decompresses to well under 1 GiB.
const DefaultBudget = 4 << 30

// MaxFixFile bounds a fix's source or patch: lang checks it when it reads
// the configuration, emit when it copies the file into its output.
const MaxFixFile = 16 << 20

// Budget is a number of decompressed bytes shared by every file of one
// load. It is safe for concurrent use. Once used up it stays used up, so
// that a file decompressed later fails too rather than getting what a
// failed one left.
type Budget struct {
	total int64
	left  atomic.Int64
}

// NewBudget returns a budget of n bytes.
func NewBudget(n int64) *Budget {
	b := &Budget{total: n}
	b.left.Store(n)
	return b
}

// Used returns how many bytes readers have taken from the budget; it never
// exceeds the total, however many readers run at once.
func (b *Budget) Used() int64 { return b.total - b.left.Load() }

// Total returns the budget's size.
func (b *Budget) Total() int64 { return b.total }

// Reader returns a reader of the decompressed stream r of file path that
// fails with an *Error naming path once the file has given more than
// perFile bytes or the budget is used up.
func (b *Budget) Reader(path string, r io.Reader, perFile int64) io.Reader {
	return &budgetReader{r: r, b: b, path: path, left: perFile, perFile: perFile}
}

type budgetReader struct {
	r             io.Reader
	b             *Budget
	path          string
	left, perFile int64
	err           error
}

func (l *budgetReader) Read(p []byte) (int, error) {
	if l.err != nil {
		return 0, l.err
	}
	if l.left <= 0 {
		// At the cap: the stream is fine only if it ends here.
		var one [1]byte
		n, err := io.ReadFull(l.r, one[:])
		if n == 0 && (err == io.EOF || err == io.ErrUnexpectedEOF) {
			return 0, io.EOF
		}
		if n == 0 && err != nil {
			return 0, err
		}
		l.err = &Error{Path: l.path, Msg: "decompresses to more than the " + Size(l.perFile) + " allowed for one file", Err: ErrTooLarge}
		return 0, l.err
	}
	want := min(int64(len(p)), l.left)
	// Reserve what this read may use from the shared budget before
	// reading, so that readers running at once never take more than the
	// budget together, and give back what the read did not use.
	var got int64
	for {
		cur := l.b.left.Load()
		if cur <= 0 {
			got = 0
			break
		}
		got = min(want, cur)
		if l.b.left.CompareAndSwap(cur, cur-got) {
			break
		}
	}
	if got == 0 {
		// The budget is spent: the stream is fine only if it ends here.
		var one [1]byte
		if n, err := io.ReadFull(l.r, one[:]); n == 0 && (err == io.EOF || err == io.ErrUnexpectedEOF) {
			return 0, io.EOF
		}
		l.err = &Error{Path: l.path, Msg: "decompressing it would exceed the " + Size(l.b.total) +
			" decompression budget shared by all the files of this kernel build", Err: ErrBudget}
		return 0, l.err
	}
	n, err := l.r.Read(p[:got])
	l.left -= int64(n)
	l.b.left.Add(got - int64(n))
	return n, err
}

// maxExcerpt bounds the length of an excerpt, in output bytes, before the
// closing quote and the length note.
const maxExcerpt = 48

// Excerpt renders input text for a diagnostic: double-quoted, with control
// characters, invisible formatting characters and invalid UTF-8 escaped,
// and cut after a few dozen characters. A cut excerpt ends with the
// original length, e.g. "aaaa"... (600 bytes).
func Excerpt(s string) string {
	out := make([]byte, 0, maxExcerpt+24)
	out = append(out, '"')
	i := 0
	for i < len(s) && len(out) < maxExcerpt {
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			out = fmt.Appendf(out, `\x%02x`, s[i])
		} else {
			q := strconv.QuoteRune(r) // 'x' with escapes for non-printable runes
			q = q[1 : len(q)-1]
			if q == `\'` {
				q = "'"
			} else if q == `"` {
				q = `\"`
			}
			out = append(out, q...)
		}
		i += size
	}
	out = append(out, '"')
	if i < len(s) {
		out = fmt.Appendf(out, "... (%d bytes)", len(s))
	}
	return string(out)
}

// Size renders a byte count for messages: 4 GiB, 512 MiB, 1234 bytes.
func Size(n int64) string {
	for _, u := range []struct {
		shift uint
		name  string
	}{{30, "GiB"}, {20, "MiB"}, {10, "KiB"}} {
		if n >= 1<<u.shift && n%(1<<u.shift) == 0 {
			return strconv.FormatInt(n>>u.shift, 10) + " " + u.name
		}
	}
	return strconv.FormatInt(n, 10) + " bytes"
}
