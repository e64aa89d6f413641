package target

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// Fuzz targets: every parser must return an error, never panic, on any
// input. Seeds are real fixture data where it is small enough, plus the
// hostile shapes: huge lines and fields, deep nesting, size fields that
// claim more than the data holds, and compression bombs.

// hugeLine is one line far longer than any real one.
var hugeLine = bytes.Repeat([]byte("a"), 1<<20)

// elfHeader returns a 64-byte ELF64 header with the given section header
// offset, count and string table index, for seeds that lie about sizes.
func elfHeader(typ uint16, shoff uint64, shnum, shstrndx uint16) []byte {
	h := make([]byte, 64)
	copy(h, "\x7fELF\x02\x01\x01")
	le.PutUint16(h[16:], typ)
	le.PutUint64(h[40:], shoff)
	le.PutUint16(h[58:], shdrSize)
	le.PutUint16(h[60:], shnum)
	le.PutUint16(h[62:], shstrndx)
	return h
}

// extendedELF claims, through section header 0, 2^32-1 sections.
func extendedELF(typ uint16) []byte {
	h := elfHeader(typ, 64, 0, shnXindex)
	sh0 := make([]byte, shdrSize)
	le.PutUint64(sh0[32:], 1<<32-1)
	le.PutUint32(sh0[40:], 1<<31)
	return append(h, sh0...)
}

// hugeSectionELF has one section that claims 2^62 bytes.
func hugeSectionELF(typ uint16) []byte {
	h := elfHeader(typ, 64, 2, 1)
	sh := make([]byte, 2*shdrSize)
	le.PutUint32(sh[shdrSize+4:], shtStrtab)
	le.PutUint64(sh[shdrSize+24:], 0)
	le.PutUint64(sh[shdrSize+32:], 1<<62)
	return append(h, sh...)
}

func FuzzKallsyms(f *testing.F) {
	f.Add([]byte("ffffffff81000000 T _text\nffffffffc0000000 t foo\t[mod]\n0000000000000000 t bpf_x\t[bpf]\n"))
	f.Add([]byte("0 A x\n\n\r\n"))
	f.Add(hugeLine)
	f.Add(append([]byte("ffffffff81000000 T "), hugeLine...))
	f.Add(bytes.Repeat([]byte("0 t a\t[m]\n"), 100000))
	f.Add(bytes.Repeat([]byte("[[[[ "), 10000))
	f.Add([]byte("0 t a\t[\x1b[2J]\n0 t \xff\xfe\t[\u202e]\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		ks, err := parseKallsyms("kallsyms", data)
		if err == nil {
			ks.Vmlinux.Resolve("foo", 0, "")
			ks.Vmlinux.Resolve("foo", 2, "x.c")
		}
	})
}

func FuzzSystemMap(f *testing.F) {
	f.Add([]byte("ffffffff81000000 T _text\nffffffff81000000 W w\nffffffff81000000 T __start_x\n"))
	f.Add([]byte("ffffffffffffffff B The real System.map is in the linux-image-<version>-dbg package\n"))
	f.Add(hugeLine)
	f.Add(bytes.Repeat([]byte("ffffffff81000000 T x\n"), 100000))
	f.Fuzz(func(t *testing.T, data []byte) {
		if o, err := parseSystemMap("System.map", data); err == nil {
			o.Resolve("_text", 0, "")
		}
	})
}

// addModuleSeeds adds the module fuzz targets' seeds: real modules, plain
// and compressed, and ELF headers that promise more than they hold.
func addModuleSeeds(f *testing.F) {
	for _, name := range []string{"tcp_scalable.ko", "ttpci-eeprom.ko.zst"} {
		if data, err := os.ReadFile(filepath.Join(fixtureMods, name)); err == nil {
			f.Add(data)
		}
	}
	f.Add([]byte("\x7fELF\x02\x01\x01"))
	f.Add(extendedELF(etRel))
	f.Add(hugeSectionELF(etRel))
	f.Add(elfHeader(etRel, 1<<63, 0xffff, 0xfffe))
}

// FuzzModule feeds bytes to the ELF module reader (plain, or any of the
// compressed formats by magic number).
func FuzzModule(f *testing.F) {
	// A few mutated bytes can describe a gigabyte of zstd or xz output;
	// keep each run small.
	old := decompressedLimits[KindModule]
	decompressedLimits[KindModule] = 1 << 20
	f.Cleanup(func() { decompressedLimits[KindModule] = old })
	addModuleSeeds(f)
	// Compression bombs and nesting: 8 MiB of zeros in each format, over
	// the 1 MiB cap; gzip inside gzip inside gzip; an xz header asking
	// for a 3 GiB dictionary.
	for _, format := range []string{"gz", "xz", "zst"} {
		f.Add(bomb(f, format, 8<<20))
	}
	f.Add(gzipped(gzipped(gzipped(realModuleTB(f)))))
	f.Add(hugeDictXZ(f, 39))
	f.Fuzz(func(t *testing.T, data []byte) {
		o, err := newReader(nil).parseModuleBytes("x.ko", data, defaultModuleRules, nil)
		if err == nil {
			o.Resolve("foo", 0, "")
			o.Counts()
		}
	})
}

// FuzzVmlinux runs the linked-ELF path (kallsyms ordering, STT_FILE).
func FuzzVmlinux(f *testing.F) {
	if data, err := os.ReadFile(filepath.Join(fixtureMods, "tcp_scalable.ko")); err == nil {
		// Turn the module into an ET_EXEC so the vmlinux path runs.
		exec := append([]byte(nil), data...)
		exec[16] = 2
		f.Add(exec)
	}
	f.Add(extendedELF(2))
	f.Add(hugeSectionELF(2))
	f.Fuzz(func(t *testing.T, data []byte) {
		if o, err := parseVmlinux("vmlinux", &bytesReaderAt{data}, int64(len(data))); err == nil {
			o.Resolve("foo", 1, "a.c")
		}
	})
}

func FuzzSymvers(f *testing.F) {
	f.Add([]byte("0x4c9d28b0\tphys_base\tvmlinux\tEXPORT_SYMBOL\t\n0x1\tx\tdrivers/x\tEXPORT_SYMBOL_GPL\tNS\n"))
	f.Add(hugeLine)
	f.Add(bytes.Repeat([]byte("\t"), 1<<16))
	f.Fuzz(func(t *testing.T, data []byte) { parseSymvers("Module.symvers", data) })
}

func FuzzConfig(f *testing.F) {
	f.Add([]byte("CONFIG_A=y\n# CONFIG_B is not set\nCONFIG_C=\"s\\\"x\"\n"))
	f.Add(append(append([]byte("CONFIG_A=\""), bytes.Repeat([]byte("\\\\"), 1<<18)...), '"'))
	f.Add(append([]byte("CONFIG_"), hugeLine...))
	f.Fuzz(func(t *testing.T, data []byte) { parseConfig("config", data) })
}

func FuzzFilterFunctions(f *testing.F) {
	f.Add([]byte("cmdline_proc_show\nfoo [mod]\n__ftrace_invalid_address___64\n"))
	f.Add(hugeLine)
	f.Add(bytes.Repeat([]byte("f ["), 1<<16))
	f.Fuzz(func(t *testing.T, data []byte) { parseFilterFunctions("available_filter_functions", data) })
}

// FuzzCacheEntry checks that a damaged cache payload is rejected, never
// trusted into a panic.
func FuzzCacheEntry(f *testing.F) {
	b, err := Load(Spec{Modules: fixtureMods})
	if err == nil {
		head, blobs := splitIndex(encodeIndex(b))
		f.Add(head, blobs)
	}
	// Counts that claim far more entries than the payload holds, and a
	// damaged-module list with an entry of no errors.
	f.Add(binary.AppendUvarint(nil, 1<<62), []byte{})
	var e encoder
	e.inputs(nil)
	e.byte(0)
	e.uvarint(0)
	e.byte(0)
	e.uvarint(0)
	e.uvarint(1 << 40)
	f.Add(e.buf, []byte{})
	f.Add(append(bytes.Clone(e.buf[:len(e.buf)-6]), 1, 1, 'x', 0), []byte{})
	// A small vmlinux, for its chunks and name table.
	ks := filepath.Join(f.TempDir(), "kallsyms")
	var text []byte
	for i := 0; i < 600; i++ {
		text = fmt.Appendf(text, "%016x t fn_%d\n", uint64(0xffffffff81000000)+16*uint64(i), i%250)
	}
	if err := os.WriteFile(ks, text, 0o644); err != nil {
		f.Fatal(err)
	}
	if b, err := Load(Spec{Kallsyms: ks, Modules: fixtureMods}); err == nil {
		head, blobs := splitIndex(encodeIndex(b))
		f.Add(head, blobs)
	}
	f.Fuzz(func(t *testing.T, head, blobs []byte) {
		// Lookups through vmlinux's name table first, then everything
		// decoded whole.
		if b, err := decodeHead(string(head), uint64(len(blobs)), &indexSource{data: blobs}); err == nil && b.Vmlinux != nil {
			for _, name := range []string{"fn_1", "fn_249", "x"} {
				for _, i := range b.Vmlinux.Lookup(name) {
					b.Vmlinux.Symbol(i)
				}
			}
			b.Vmlinux.Resolve("fn_7", 2, "")
		}
		if b, err := decodeIndexBytes(head, blobs); err == nil {
			for _, n := range b.ModuleNames() {
				b.Modules[n].Resolve("x", 0, "")
			}
		}
	})
}

func realModuleTB(t testing.TB) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(fixtureMods, "tcp_scalable.ko"))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// FuzzXZContainer checks the xz container walk: any input gives a size or
// an error, and a file it accepts with a small dictionary decodes without
// the reader asking for more.
func FuzzXZContainer(f *testing.F) {
	f.Add(bomb(f, "xz", 1<<16))
	f.Add(multiBlockXZ(f, 16))
	f.Add(hugeDictXZ(f, 39))
	f.Add(append(bytes.Clone(xzMagic), make([]byte, 64)...))
	f.Fuzz(func(t *testing.T, data []byte) {
		dict, err := xzMaxDict(data)
		if err == nil && (dict < 0 || dict > 0xffffffff) {
			t.Fatalf("dict %d", dict)
		}
	})
}

// FuzzModuleFile reads module bytes from a file the way an index of a
// module tree does (a few preads of the parts it needs, with read-ahead
// sizes shrunk so that every path runs) and checks it against parsing the
// bytes whole: same object or both fail.
func FuzzModuleFile(f *testing.F) {
	old := readAhead
	readAhead.whole, readAhead.head, readAhead.tailBefore, readAhead.mergeGap = 256, 128, 512, 64
	f.Cleanup(func() { readAhead = old })
	addModuleSeeds(f)
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		p := filepath.Join(dir, "x.ko")
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		got, in, err := newReader(nil).readModuleFile(inputFile{kind: KindModule, path: p, listed: true}, defaultModuleRules, true)
		want, werr := newReader(nil).parseModuleBytes(p, data, defaultModuleRules, nil)
		if (err == nil) != (werr == nil) {
			t.Fatalf("read from the file: %v; parsed whole: %v", err, werr)
		}
		if err != nil {
			return
		}
		if in.Size != int64(len(data)) || len(in.SHA256) != 64 {
			t.Errorf("input %+v", in)
		}
		// A tree load keeps the symbols compact: their encoding must be
		// what the index writes for the symbols parsed whole, with the
		// same counts.
		var e encoder
		e.symbols(want.Symbols)
		if blob := got.compactBlob(); !bytes.Equal(blob, e.buf) {
			t.Errorf("compact symbols: %d bytes, want the %d bytes of their encoding", len(blob), len(e.buf))
		}
		if got.Counts() != want.Counts() {
			t.Errorf("counts %+v, want %+v", got.Counts(), want.Counts())
		}
		if !sameObject(got, want) {
			t.Error("reading from the file and parsing the bytes whole differ")
		}
	})
}
