package image

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"fmt"
	"os/exec"
	"sort"
	"strings"
	"testing"

	"github.com/klauspost/compress/zstd"
	"github.com/ulikunitz/xz"
	"github.com/ulikunitz/xz/lzma"
)

// This file builds small kernel images the way the kernel's build does
// (scripts/kallsyms.c write_src for each layout, a one-segment ELF, an x86
// boot setup header with a compressed payload and the appended size) so
// the decoder can be tested without downloads.

const synthBase uint64 = 0xffffffff81000000

// synthTokens is a token table: printable characters stand for
// themselves, the other byte values for multi-character tokens, as
// scripts/kallsyms' optimize_token_table leaves them.
func synthTokens() [256]string {
	multi := []string{"__", "sys_", "init", "_text", "func", "T_", "t_", "D_", "per", "cpu", "_start", "_end", "ftrace", "kallsyms"}
	var t [256]string
	k := 0
	for c := 0; c < 256; c++ {
		if c > 0x20 && c < 0x7f {
			t[c] = string(rune(c))
		} else {
			t[c] = multi[k%len(multi)]
			k++
		}
	}
	return t
}

// encodeName compresses "type+name" greedily with the token table.
func encodeName(s string, tokens *[256]string) []byte {
	var out []byte
	for len(s) > 0 {
		best, bestLen := -1, 0
		for c, tok := range tokens {
			if len(tok) > bestLen && strings.HasPrefix(s, tok) {
				best, bestLen = c, len(tok)
			}
		}
		out = append(out, byte(best))
		s = s[bestLen:]
	}
	return out
}

type synthBuf struct {
	b     []byte
	align int
}

func (w *synthBuf) label() int {
	for len(w.b)%w.align != 0 {
		w.b = append(w.b, 0)
	}
	return len(w.b)
}
func (w *synthBuf) u16(v uint16) { w.b = binary.LittleEndian.AppendUint16(w.b, v) }
func (w *synthBuf) u32(v uint32) { w.b = binary.LittleEndian.AppendUint32(w.b, v) }
func (w *synthBuf) u64(v uint64) { w.b = binary.LittleEndian.AppendUint64(w.b, v) }

// buildTables writes the kallsyms tables of syms (in kallsyms order) in
// one layout, as .rodata at vaddr, mirroring write_src of 6.1, 6.12 and
// 7.2.
func buildTables(syms []Symbol, layout Layout, vaddr uint64) []byte {
	tokens := synthTokens()
	w := &synthBuf{align: 8}
	if layout == LayoutPCRelative {
		w.align = 4
	}
	n := len(syms)
	var relBase uint64 = ^uint64(0)
	var text uint64
	for _, s := range syms {
		if s.Type != 'A' && s.Addr < relBase {
			relBase = s.Addr
		}
		if s.Name == "_text" {
			text = s.Addr
		}
	}
	offsets := func() {
		o := w.label()
		for i, s := range syms {
			switch {
			case layout == LayoutPCRelative:
				w.u32(uint32(int32(int64(s.Addr-text) + int64(text) - int64(vaddr+uint64(o+4*i)))))
			case s.Type == 'A': // absolute per-cpu
				w.u32(uint32(s.Addr))
			default:
				w.u32(uint32(int32(int64(relBase) - int64(s.Addr) - 1)))
			}
		}
		if layout != LayoutPCRelative {
			w.label()
			w.u64(relBase)
		}
	}
	seqs := func() {
		w.label()
		idx := make([]int, n)
		for i := range idx {
			idx[i] = i
		}
		sort.SliceStable(idx, func(a, b int) bool { return syms[idx[a]].Name < syms[idx[b]].Name })
		for _, i := range idx {
			w.b = append(w.b, byte(i>>16), byte(i>>8), byte(i))
		}
	}
	if layout == LayoutBaseRelativeFirst {
		offsets()
	}
	w.label()
	w.u32(uint32(n))
	names := w.label()
	var markers []uint32
	for i, s := range syms {
		if i%256 == 0 {
			markers = append(markers, uint32(len(w.b)-names))
		}
		enc := encodeName(string(s.Type)+s.Name, &tokens)
		if len(enc) > 0x7f {
			w.b = append(w.b, byte(len(enc)&0x7f|0x80), byte(len(enc)>>7))
		} else {
			w.b = append(w.b, byte(len(enc)))
		}
		w.b = append(w.b, enc...)
	}
	w.label()
	for _, m := range markers {
		w.u32(m)
	}
	if layout == LayoutBaseRelativeFirst {
		seqs()
	}
	w.label()
	var idx []uint16
	off := 0
	for _, t := range tokens {
		idx = append(idx, uint16(off))
		w.b = append(w.b, t...)
		w.b = append(w.b, 0)
		off += len(t) + 1
	}
	w.label()
	for _, v := range idx {
		w.u16(v)
	}
	if layout != LayoutBaseRelativeFirst {
		offsets()
		seqs()
	}
	return w.b
}

// synthKernel is a small kernel: symbols, text and a __mcount_loc table.
type synthKernel struct {
	syms  []Symbol
	sites []uint64
	// want lists, per site, Live/Init/Disabled as the decoder should see it.
	live, init, disabled int
}

// newSynthKernel makes n functions of 32 bytes (every third without a
// call site, one in init text, one with a weak left-over site 8 bytes in),
// per-cpu symbols, an alias and a name longer than 127 bytes.
func newSynthKernel(n int, ibt bool) *synthKernel {
	k := &synthKernel{}
	add := func(name string, typ byte, addr uint64) {
		k.syms = append(k.syms, Symbol{Name: name, Type: typ, Addr: addr})
	}
	add("fixed_percpu_data", 'A', 0)
	add("__per_cpu_start", 'A', 0)
	add("cpu_debug_store", 'A', 0x1000)
	add("__per_cpu_end", 'A', 0x2000)
	add("_stext", 'T', synthBase)
	add("_text", 'T', synthBase)
	site := uint64(0)
	if ibt {
		site = 4
	}
	for i := 0; i < n; i++ {
		a := synthBase + uint64(32*i)
		name := fmt.Sprintf("func_%04d", i)
		typ := byte('t')
		if i%2 == 0 {
			typ = 'T'
		}
		if i == 7 {
			name = "long_" + strings.Repeat("x", 150)
		}
		if i == n-2 {
			add("_sinittext", 'T', a)
			name = "init_func"
		}
		add(name, typ, a)
		if i == 5 {
			add("func_0005_alias", 't', a)
		}
		switch {
		case i == n-2 || i == n-1 && i%3 != 0: // init text runs to the end
			k.sites = append(k.sites, a+site)
			k.init++
		case i == 9:
			k.sites = append(k.sites, a+8) // overridden weak function's site
			k.disabled++
		case i%3 != 0:
			k.sites = append(k.sites, a+site)
			k.live++
		}
	}
	end := synthBase + uint64(32*n)
	add("_einittext", 'T', end)
	add("_etext", 'T', end)
	// A zero entry, as linker padding leaves, is skipped.
	k.sites = append(k.sites, 0)
	return k
}

// image lays out one segment at synthBase: text, the __mcount_loc table,
// then .rodata with the kallsyms tables; it returns the ELF.
func (k *synthKernel) image(layout Layout, ibt bool) []byte {
	textLen := 32 * len(k.syms)
	mcount := synthBase + uint64(textLen)
	syms := append([]Symbol(nil), k.syms...)
	syms = append(syms,
		Symbol{Name: "__start_mcount_loc", Type: 'D', Addr: mcount},
		Symbol{Name: "__stop_mcount_loc", Type: 'D', Addr: mcount + uint64(8*len(k.sites))})
	seg := make([]byte, textLen)
	for i := range seg {
		seg[i] = 0x90 // nop
	}
	if ibt {
		for _, s := range k.syms {
			if s.Type == 't' || s.Type == 'T' {
				copy(seg[s.Addr-synthBase:], endbr64)
			}
		}
	}
	// A "call __fentry__" at each site, so that the x86 BCJ filter of a
	// kernel xz payload has calls to convert.
	for _, s := range k.sites {
		if s != 0 {
			off := s - synthBase
			seg[off] = 0xe8
			binary.LittleEndian.PutUint32(seg[off+1:], uint32(-int32(off)-5))
		}
	}
	for _, s := range k.sites {
		seg = binary.LittleEndian.AppendUint64(seg, s)
	}
	for len(seg)%64 != 0 {
		seg = append(seg, 0)
	}
	rodataOff := len(seg)
	seg = append(seg, buildTables(syms, layout, synthBase+uint64(rodataOff))...)
	return buildELF(seg, rodataOff)
}

// buildELF wraps seg (loaded at synthBase) in an ELF64 x86-64 executable
// with one PT_LOAD and section headers naming .rodata from rodataOff.
func buildELF(seg []byte, rodataOff int) []byte {
	const ehsize, phsize, shsize = 64, 56, 64
	shstr := []byte("\x00.rodata\x00.shstrtab\x00")
	segOff := ehsize + phsize
	shstrOff := segOff + len(seg)
	shOff := (shstrOff + len(shstr) + 7) &^ 7
	var b bytes.Buffer
	le := binary.LittleEndian
	b.Write([]byte{0x7f, 'E', 'L', 'F', 2, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0})
	binary.Write(&b, le, uint16(2))  // ET_EXEC
	binary.Write(&b, le, uint16(62)) // EM_X86_64
	binary.Write(&b, le, uint32(1))
	binary.Write(&b, le, uint64(synthBase))
	binary.Write(&b, le, uint64(ehsize))
	binary.Write(&b, le, uint64(shOff))
	binary.Write(&b, le, uint32(0))
	for _, v := range []uint16{ehsize, phsize, 1, shsize, 3, 2} {
		binary.Write(&b, le, v)
	}
	// PT_LOAD, R+X
	binary.Write(&b, le, uint32(1))
	binary.Write(&b, le, uint32(5))
	for _, v := range []uint64{uint64(segOff), synthBase, synthBase, uint64(len(seg)), uint64(len(seg)), 0x1000} {
		binary.Write(&b, le, v)
	}
	b.Write(seg)
	b.Write(shstr)
	for b.Len() < shOff {
		b.WriteByte(0)
	}
	sh := func(name, typ uint32, flags, addr, off, size uint64) {
		binary.Write(&b, le, name)
		binary.Write(&b, le, typ)
		for _, v := range []uint64{flags, addr, off, size} {
			binary.Write(&b, le, v)
		}
		binary.Write(&b, le, uint32(0))
		binary.Write(&b, le, uint32(0))
		binary.Write(&b, le, uint64(1))
		binary.Write(&b, le, uint64(0))
	}
	sh(0, 0, 0, 0, 0, 0)
	sh(1, 1, 2, synthBase+uint64(rodataOff), uint64(segOff+rodataOff), uint64(len(seg)-rodataOff))
	sh(9, 3, 0, 0, uint64(shstrOff), uint64(len(shstr)))
	return b.Bytes()
}

// buildBzImage puts vmlinux into a bzImage: a setup header (boot protocol
// 2.15, setup_sects 3) and the compressed payload with its size appended.
func buildBzImage(t testing.TB, vmlinux []byte, compression string) []byte {
	var z bytes.Buffer
	switch compression {
	case "gzip":
		w := gzip.NewWriter(&z)
		w.Write(vmlinux)
		w.Close()
	case "xz":
		w, err := xz.NewWriter(&z)
		if err != nil {
			t.Fatal(err)
		}
		w.Write(vmlinux)
		w.Close()
		z.Write(binary.LittleEndian.AppendUint32(nil, uint32(len(vmlinux))))
	case "zstd":
		w, _ := zstd.NewWriter(&z)
		w.Write(vmlinux)
		w.Close()
		z.Write(binary.LittleEndian.AppendUint32(nil, uint32(len(vmlinux))))
	case "lzma":
		// As `lzma -9` writes to a pipe: a 64 MiB dictionary, no size in
		// the header, an end marker.
		w, err := lzma.WriterConfig{DictCap: 64 << 20, EOSMarker: true}.NewWriter(&z)
		if err != nil {
			t.Fatal(err)
		}
		w.Write(vmlinux)
		w.Close()
		z.Write(binary.LittleEndian.AppendUint32(nil, uint32(len(vmlinux))))
	}
	return bzImageWith(z.Bytes())
}

// bzImageWith puts a compressed payload into a bzImage.
func bzImageWith(payload []byte) []byte {
	img := make([]byte, 4*512+0x100)
	img[hdrSetupSects] = 3
	copy(img[hdrMagic:], "HdrS")
	binary.LittleEndian.PutUint16(img[hdrVersion:], 0x20f)
	binary.LittleEndian.PutUint16(img[hdrKernelVersion:], 0x300)
	copy(img[0x500:], "6.1.0-synthetic (test) #1 SMP\x00")
	binary.LittleEndian.PutUint32(img[hdrPayloadOffset:], 0x100)
	binary.LittleEndian.PutUint32(img[hdrPayloadLength:], uint32(len(payload)))
	img = append(img, payload...)
	return append(img, make([]byte, 16)...) // trailing setup data
}

func TestSyntheticLayouts(t *testing.T) {
	for _, ibt := range []bool{false, true} {
		k := newSynthKernel(700, ibt)
		for _, layout := range []Layout{LayoutBaseRelativeFirst, LayoutBaseRelativeLast, LayoutPCRelative} {
			for _, comp := range []string{"gzip", "xz", "zstd", "lzma"} {
				name := fmt.Sprintf("%s/%s/ibt=%v", layout, comp, ibt)
				img := buildBzImage(t, k.image(layout, ibt), comp)
				got, err := Read(name, img)
				if err != nil {
					t.Fatalf("%s: %v", name, err)
				}
				checkSynth(t, name, k, got, layout, ibt)
				if got.Header.Compression != comp || got.Header.Version != "6.1.0-synthetic (test) #1 SMP" {
					t.Errorf("%s: header %+v", name, got.Header)
				}
			}
		}
	}
}

func checkSynth(t *testing.T, name string, k *synthKernel, got *Kernel, layout Layout, ibt bool) {
	t.Helper()
	if got.Layout != layout {
		t.Errorf("%s: layout %q", name, got.Layout)
	}
	if want := layout != LayoutPCRelative; got.AbsolutePercpu != want {
		t.Errorf("%s: AbsolutePercpu %v", name, got.AbsolutePercpu)
	}
	want := k.syms
	if len(got.Symbols) != len(want)+2 {
		t.Fatalf("%s: %d symbols, want %d", name, len(got.Symbols), len(want)+2)
	}
	for i, s := range want {
		if got.Symbols[i] != s {
			t.Fatalf("%s: symbol %d is %+v, want %+v", name, i, got.Symbols[i], s)
		}
	}
	var live, init, disabled int
	for _, s := range got.Sites {
		switch {
		case s.Live():
			live++
		case s.Init:
			init++
		case s.Disabled:
			disabled++
		}
	}
	if live != k.live || init != k.init || disabled != k.disabled || got.IBT != ibt {
		t.Errorf("%s: sites live %d init %d disabled %d ibt %v, want %d %d %d %v", name, live, init, disabled, got.IBT, k.live, k.init, k.disabled, ibt)
	}
}

// TestCompressorPrograms builds payloads with the programs and options
// the kernel's build uses (scripts/Makefile.lib, scripts/xz_wrap.sh for
// x86: the BCJ filter), when they are installed: Go has no bzip2 or
// BCJ-filtering xz compressor.
func TestCompressorPrograms(t *testing.T) {
	k := newSynthKernel(300, true)
	elf := k.image(LayoutPCRelative, true)
	for _, tt := range []struct {
		comp string
		argv []string
	}{
		{"bzip2", []string{"bzip2", "-9"}},
		{"lzma", []string{"lzma", "-9"}},
		{"xz", []string{"xz", "--check=crc32", "--x86", "--lzma2=,dict=32MiB"}},
		{"gzip", []string{"gzip", "-n", "-9"}},
		{"zstd", []string{"zstd", "-22", "--ultra"}},
	} {
		if _, err := exec.LookPath(tt.argv[0]); err != nil {
			t.Logf("no %s program", tt.argv[0])
			continue
		}
		cmd := exec.Command(tt.argv[0], tt.argv[1:]...)
		cmd.Stdin = bytes.NewReader(elf)
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("%v: %v", tt.argv, err)
		}
		if tt.comp != "gzip" { // size_append; gzip's own trailer is the size
			out = binary.LittleEndian.AppendUint32(out, uint32(len(elf)))
		}
		got, err := Read(tt.comp, bzImageWith(out))
		if err != nil {
			t.Fatalf("%v: %v", tt.argv, err)
		}
		checkSynth(t, tt.comp, k, got, LayoutPCRelative, true)
	}
}

func TestLookupAliases(t *testing.T) {
	syms := []Symbol{{"a", 't', 10}, {"b", 't', 20}, {"b_alias", 't', 20}, {"c", 't', 30}}
	for _, tt := range []struct {
		addr uint64
		want int
	}{{5, -1}, {10, 0}, {19, 0}, {20, 1}, {25, 1}, {30, 3}, {99, 3}} {
		if got := lookup(syms, tt.addr); got != tt.want {
			t.Errorf("lookup(%d) = %d, want %d", tt.addr, got, tt.want)
		}
	}
}

func TestDamagedImages(t *testing.T) {
	k := newSynthKernel(300, false)
	elf := k.image(LayoutBaseRelativeFirst, false)
	good := buildBzImage(t, elf, "zstd")
	for _, tt := range []struct {
		name string
		data []byte
		want string
	}{
		{"short", good[:100], "too short"},
		{"no magic", append([]byte{}, make([]byte, 4096)...), "no \"HdrS\""},
		{"truncated payload", good[:len(good)/2], "lies outside"},
		{"not elf", buildBzImage(t, []byte("hello, world, this is not an ELF file at all"), "gzip"), "not an ELF"},
		{"no kallsyms", buildBzImage(t, buildELF(make([]byte, 4096), 0), "gzip"), "no kallsyms_token_table"},
	} {
		_, err := Read(tt.name, tt.data)
		if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.HasPrefix(err.Error(), tt.name+": ") {
			t.Errorf("%s: error %v, want one naming the file and saying %q", tt.name, err, tt.want)
		}
	}
	// A size field beyond the limit is refused before anything is
	// allocated.
	bad := append([]byte(nil), good...)
	h, _ := ParseHeader("x", bad)
	binary.LittleEndian.PutUint32(bad[h.PayloadOffset+h.PayloadLength-4:], 0xffffffff)
	if _, err := Read("huge", bad); err == nil || !strings.Contains(err.Error(), "decompressed bytes") {
		t.Errorf("huge: %v", err)
	}
}
