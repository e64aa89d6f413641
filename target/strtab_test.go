package target

import (
	"bytes"
	"slices"
	"testing"
)

// controlInTableNaive is the byte-by-byte definition controlInTable must
// agree with.
func controlInTableNaive(b []byte) bool {
	for _, c := range bytes.Split(b, []byte{0}) {
		if hasControl(string(c)) {
			return true
		}
	}
	return false
}

// TestControlInTableEveryByte puts every byte value at every position of a
// word, among neighbours that are themselves borderline (NUL, 0x1f, 0x20,
// 0x7e, 0x7f, 0x80, 0xff), so a carry or borrow across bytes would show.
func TestControlInTableEveryByte(t *testing.T) {
	fill := []byte{0, 0x1f, 0x20, 'a', 0x7e, 0x80, 0xff}
	for _, f := range fill {
		for c := 0; c < 256; c++ {
			for pos := 0; pos < 19; pos++ {
				b := bytes.Repeat([]byte{f}, 19)
				b[pos] = byte(c)
				if got, want := controlInTable(b), controlInTableNaive(b); got != want {
					t.Fatalf("fill %#x, byte %#x at %d: got %v, want %v", f, c, pos, got, want)
				}
			}
		}
	}
}

func FuzzControlInTable(f *testing.F) {
	f.Add([]byte("\x00init_module\x00cleanup_module\x00"))
	f.Add([]byte("\x00a\x1fb\x00"))
	f.Add([]byte("abcdefg\x7f"))
	f.Add([]byte("\x00\x00\x00\x00\x00\x00\x00\x00\x80\xff\x20"))
	f.Fuzz(func(t *testing.T, b []byte) {
		if got, want := controlInTable(b), controlInTableNaive(b); got != want {
			t.Fatalf("%q: got %v, want %v", b, got, want)
		}
	})
}

func FuzzLowerBound(f *testing.F) {
	f.Add([]byte{1, 3, 3, 7, 200}, uint64(3), 2)
	f.Add([]byte{}, uint64(0), 0)
	f.Add([]byte{5}, uint64(9), 0)
	f.Add([]byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}, uint64(12), 0)
	f.Add([]byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}, uint64(0), 11)
	f.Fuzz(func(t *testing.T, b []byte, x uint64, hint int) {
		keys := make([]uint64, len(b))
		for i, c := range b {
			keys[i] = uint64(c)
		}
		slices.Sort(keys)
		x %= 260
		want, _ := slices.BinarySearch(keys, x)
		if got := lowerBound(keys, x); got != want {
			t.Fatalf("keys %v, x %d: got %d, want %d", keys, x, got, want)
		}
		// Any hint gives the same answer.
		hint = min(max(hint, 0), len(keys))
		if got := lowerBoundFrom(keys, x, hint); got != want {
			t.Fatalf("keys %v, x %d, hint %d: got %d, want %d", keys, x, hint, got, want)
		}
	})
}
