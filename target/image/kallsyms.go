package image

import (
	"encoding/binary"
	"sort"
	"strings"
)

// Symbol is one kallsyms entry of vmlinux.
type Symbol struct {
	Name string
	Type byte   // the nm-style letter /proc/kallsyms shows
	Addr uint64 // link-time address (the running kernel adds the KASLR offset)
}

// Layout names the way a kernel line lays out and encodes kallsyms_offsets
// (scripts/kallsyms.c write_src, kernel/kallsyms.c kallsyms_sym_address).
type Layout string

// The layouts seen in the supported lines.
const (
	// LayoutBaseRelativeFirst (6.1): kallsyms_offsets and
	// kallsyms_relative_base come first, before kallsyms_num_syms; 32-bit
	// offsets from kallsyms_relative_base.
	LayoutBaseRelativeFirst Layout = "base-relative, offsets first (6.1)"
	// LayoutBaseRelativeLast (6.12): the same encoding, with
	// kallsyms_offsets and kallsyms_relative_base after
	// kallsyms_token_index.
	LayoutBaseRelativeLast Layout = "base-relative, offsets after token index (6.12)"
	// LayoutPCRelative (7.x): kallsyms_offsets after kallsyms_token_index,
	// each entry relative to its own address (--pc-relative,
	// offset_to_ptr), and no kallsyms_relative_base.
	LayoutPCRelative Layout = "pc-relative (7.x)"
)

// Tables is the decoded kallsyms of an image.
type Tables struct {
	Symbols []Symbol // kallsyms order (the kernel's iteration order)
	Layout  Layout
	// AbsolutePercpu reports CONFIG_KALLSYMS_ABSOLUTE_PERCPU (x86_64 SMP
	// up to 6.14): per-cpu symbols are stored as absolute 0-based values.
	AbsolutePercpu bool
	// Addresses of the tables in the image, for diagnostics.
	NumSymsAddr, NamesAddr, MarkersAddr, TokenTableAddr, TokenIndexAddr, OffsetsAddr uint64
}

// ksymNameLen mirrors KSYM_NAME_LEN (512 in 6.1, 6.12 and 7.2): the kernel
// never expands a longer name.
const ksymNameLen = 512

// maxSyms bounds kallsyms_num_syms: kallsyms_seqs_of_names stores indexes
// in 3 bytes (scripts/kallsyms.c write_src, 6.1 to 7.2).
const maxSyms = 1 << 24

func le16(b []byte, off int) int    { return int(binary.LittleEndian.Uint16(b[off:])) }
func le32(b []byte, off int) uint32 { return binary.LittleEndian.Uint32(b[off:]) }
func le64(b []byte, off int) uint64 { return binary.LittleEndian.Uint64(b[off:]) }

// tokenTable is kallsyms_token_table with kallsyms_token_index.
type tokenTable struct {
	tt, ti int // offsets in the region
	tokens [256]string
}

// findTokenTables finds kallsyms_token_index by its structure: 256 u16
// offsets starting at 0, each token (at least one byte and a NUL) directly
// following the previous one, and kallsyms_token_table right before it,
// ending at most 8 bytes (label alignment, ALGN or .balign 4) before it.
func findTokenTables(b []byte) []tokenTable {
	var out []tokenTable
	for p := 0; p+512 <= len(b); p += 4 {
		if b[p] != 0 || b[p+1] != 0 {
			continue
		}
		if d := le16(b, p+2); d < 2 || d > 128 {
			continue
		}
		var idx [256]int
		ok := true
		for i := 1; i < 256 && ok; i++ {
			idx[i] = le16(b, p+2*i)
			ok = idx[i] >= idx[i-1]+2
		}
		if !ok {
			continue
		}
		// The last token ends with a NUL followed by at most 7 padding
		// zeros before p.
		e := p - 1
		for e >= 0 && p-e <= 8 && b[e] == 0 {
			e--
		}
		if e < 0 || b[e] == 0 {
			continue
		}
		s := e
		for s > 0 && e-s < ksymNameLen && b[s-1] != 0 {
			s--
		}
		t := s - idx[255]
		if t < 0 || t%4 != 0 {
			continue
		}
		var tab tokenTable
		tab.tt, tab.ti = t, p
		for i := 0; i < 256 && ok; i++ {
			start := t + idx[i]
			end := e + 1
			if i < 255 {
				end = t + idx[i+1] - 1
			}
			if end <= start || b[end] != 0 {
				ok = false
				break
			}
			tok := b[start:end]
			for _, c := range tok {
				if c == 0 {
					ok = false
				}
			}
			tab.tokens[i] = string(tok)
		}
		if ok {
			out = append(out, tab)
		}
	}
	return out
}

// isTypeLetter reports the letters scripts/kallsyms stores as a symbol's
// first character (nm's letters; kallsyms never keeps U, N, a or w).
func isTypeLetter(c byte) bool {
	return c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z'
}

// walkNames checks that kallsyms_names at nm holds n entries whose lengths
// follow kallsyms_expand_symbol's one- or two-byte encoding and whose
// first character is a type letter, and that kallsyms_markers (aligned to
// align after the names) holds the offset of every 256th entry. It returns
// the offset of the markers, or -1.
func walkNames(b []byte, nm, n, align int, tab *tokenTable, budget *int) int {
	off := nm
	var markers []uint32
	for i := 0; i < n; i++ {
		if *budget--; *budget < 0 {
			return -1
		}
		if i&0xff == 0 {
			markers = append(markers, uint32(off-nm))
		}
		if off >= len(b) {
			return -1
		}
		l := int(b[off])
		off++
		if l&0x80 != 0 {
			if off >= len(b) {
				return -1
			}
			l = l&0x7f | int(b[off])<<7
			off++
		}
		// Names lie before the token table in every layout.
		if l == 0 || off+l > tab.tt || !isTypeLetter(tab.tokens[b[off]][0]) {
			return -1
		}
		off += l
	}
	mk := (off + align - 1) / align * align
	if mk+4*len(markers) > len(b) {
		return -1
	}
	for i, m := range markers {
		if le32(b, mk+4*i) != m {
			return -1
		}
	}
	return mk
}

// expandNames decodes n entries of kallsyms_names, mirroring
// kallsyms_expand_symbol in kernel/kallsyms.c (6.1 to 7.2): each byte is
// replaced by its token, the first character is the type.
func expandNames(b []byte, nm, n int, tab *tokenTable) ([]Symbol, bool) {
	syms := make([]Symbol, n)
	var sb strings.Builder
	off := nm
	for i := range syms {
		l := int(b[off])
		off++
		if l&0x80 != 0 {
			l = l&0x7f | int(b[off])<<7
			off++
		}
		sb.Reset()
		for _, c := range b[off : off+l] {
			sb.WriteString(tab.tokens[c])
		}
		off += l
		s := sb.String()
		if len(s) < 2 || len(s) > ksymNameLen {
			return nil, false
		}
		syms[i] = Symbol{Type: s[0], Name: s[1:]}
	}
	return syms, true
}

// walkBudget bounds the name entries locate may walk over all candidate
// tables, so that a crafted image cannot make the search quadratic. Debian's
// 6.1, 6.12 and 7.2 images need 157,000 to 360,000.
var walkBudget = 1 << 26

// locate finds kallsyms_num_syms, kallsyms_names and kallsyms_markers,
// which every line from 6.1 to 7.2 emits in this order, each label aligned
// (8 bytes up to 6.x, 4 in 7.x), and checks them against each other.
func locate(b []byte, tab *tokenTable, budget *int) (ns, nm, mk, n int, ok bool) {
	for p := 0; p+8 <= tab.tt && *budget > 0; p += 4 {
		v := int(le32(b, p))
		if v == 0 || v >= maxSyms {
			continue
		}
		// With 8-byte labels the word after num_syms is padding.
		start := p + 4
		align := 4
		if le32(b, start) == 0 {
			start, align = p+8, 8
		}
		if 2*v > tab.tt-start {
			continue // each entry takes at least two bytes
		}
		m := walkNames(b, start, v, align, tab, budget)
		if m < 0 {
			continue
		}
		// The markers end where the token table starts (6.12, 7.x) or
		// where kallsyms_seqs_of_names, 3 bytes a symbol, ends before it
		// (6.1, where the backported table sits before the tokens).
		up := func(x int) int { return (x + align - 1) / align * align }
		end := up(m + 4*((v+255)/256))
		if end == tab.tt || up(end+3*v) == tab.tt {
			return p, start, m, v, true
		}
	}
	return 0, 0, 0, 0, false
}

// decodeTables decodes the kallsyms tables found in region.
func decodeTables(name string, region segment) (*Tables, error) {
	b := region.data
	tabs := findTokenTables(b)
	if len(tabs) == 0 {
		return nil, errorf(name, "no kallsyms_token_table/kallsyms_token_index found in %d bytes of .rodata (kernel built without CONFIG_KALLSYMS?)", len(b))
	}
	budget := walkBudget
	for i := range tabs {
		tab := &tabs[i]
		ns, nm, mk, n, ok := locate(b, tab, &budget)
		if !ok {
			continue
		}
		syms, ok := expandNames(b, nm, n, tab)
		if !ok {
			continue
		}
		t := &Tables{
			Symbols:        syms,
			NumSymsAddr:    region.vaddr + uint64(ns),
			NamesAddr:      region.vaddr + uint64(nm),
			MarkersAddr:    region.vaddr + uint64(mk),
			TokenTableAddr: region.vaddr + uint64(tab.tt),
			TokenIndexAddr: region.vaddr + uint64(tab.ti),
		}
		if decodeAddresses(b, region.vaddr, ns, tab.ti+512, t) {
			return t, nil
		}
		return nil, errorf(name, "found %d kallsyms names at %#x but no kallsyms_offsets layout (6.1, 6.12 or 7.x) gives sorted addresses", n, t.NamesAddr)
	}
	if budget <= 0 {
		return nil, errorf(name, "gave up looking for kallsyms_names after %d steps: the image is damaged or not a Linux kernel", walkBudget)
	}
	return nil, errorf(name, "found kallsyms_token_table at %#x but no kallsyms_num_syms, kallsyms_names and kallsyms_markers that agree", region.vaddr+uint64(tabs[0].tt))
}

// decodeAddresses tries each known kallsyms_offsets layout and keeps the
// first whose addresses are sorted, as scripts/kallsyms sorts them
// (sort_symbols). ns is the offset of kallsyms_num_syms, after the offset
// right after kallsyms_token_index.
func decodeAddresses(b []byte, base uint64, ns, after int, t *Tables) bool {
	n := len(t.Symbols)
	try := func(off int, layout Layout, addr func(i int, v int32) uint64) bool {
		if off < 0 || off+4*n > len(b) {
			return false
		}
		prev := uint64(0)
		for i := range t.Symbols {
			a := addr(i, int32(le32(b, off+4*i)))
			if a < prev {
				return false
			}
			prev = a
		}
		for i := range t.Symbols {
			t.Symbols[i].Addr = addr(i, int32(le32(b, off+4*i)))
		}
		t.Layout, t.OffsetsAddr = layout, base+uint64(off)
		return true
	}
	// baseRelative mirrors kallsyms_sym_address of 6.1 and 6.12: with
	// CONFIG_KALLSYMS_ABSOLUTE_PERCPU, non-negative entries are absolute
	// values and negative ones count down from relative_base - 1; without
	// it they are unsigned offsets from relative_base. An x86_64 kernel
	// spans far less than 2 GiB, so a negative entry means the former.
	baseRelative := func(off int, rb uint64, layout Layout) bool {
		if off < 0 || off+4*n > len(b) || rb < 0xffff800000000000 {
			return false
		}
		abs := false
		for i := 0; i < n; i++ {
			if int32(le32(b, off+4*i)) < 0 {
				abs = true
				break
			}
		}
		ok := try(off, layout, func(_ int, v int32) uint64 {
			if !abs {
				return rb + uint64(uint32(v))
			}
			if v >= 0 {
				return uint64(v)
			}
			return rb - 1 - uint64(int64(v))
		})
		t.AbsolutePercpu = ok && abs
		return ok
	}
	// 6.1: [offsets][pad][relative_base] right before num_syms, 8-aligned.
	if ns >= 8 && ns%8 == 0 {
		rbOff := ns - 8
		if baseRelative(rbOff-(4*n+7)/8*8, le64(b, rbOff), LayoutBaseRelativeFirst) {
			return true
		}
	}
	// 6.12: offsets right after token_index, relative_base after them.
	if after%8 == 0 {
		rbOff := (after + 4*n + 7) / 8 * 8
		if rbOff+8 <= len(b) && baseRelative(after, le64(b, rbOff), LayoutBaseRelativeLast) {
			return true
		}
	}
	// 7.x: each entry is "_text - . + (off)" (scripts/kallsyms.c
	// --pc-relative), read back with offset_to_ptr.
	return try(after, LayoutPCRelative, func(i int, v int32) uint64 {
		return base + uint64(after+4*i) + uint64(int64(v))
	})
}

// lookup mirrors get_symbol_pos in kernel/kallsyms.c: the last symbol
// whose address is at most addr, and of several at that address the first.
// It returns -1 when addr is below every symbol.
func lookup(syms []Symbol, addr uint64) int {
	i := sort.Search(len(syms), func(i int) bool { return syms[i].Addr > addr }) - 1
	for i > 0 && syms[i-1].Addr == syms[i].Addr {
		i--
	}
	return i
}
