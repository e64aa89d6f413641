package image

import (
	"testing"
)

// The fuzz targets run on small inputs with small limits: any input must
// give a result or an error naming the file, never a panic or a hang.

func FuzzRead(f *testing.F) {
	k := newSynthKernel(40, false)
	for _, comp := range []string{"gzip", "zstd", "xz", "lzma"} {
		f.Add(buildBzImage(f, k.image(LayoutBaseRelativeFirst, false), comp))
	}
	f.Add(k.image(LayoutPCRelative, false))
	old := MaxVmlinux
	MaxVmlinux = 1 << 20
	defer func() { MaxVmlinux = old }()
	f.Fuzz(func(t *testing.T, data []byte) {
		k, err := Read("img", data)
		if err == nil && len(k.Symbols) == 0 {
			t.Fatal("no error and no symbols")
		}
	})
}

func FuzzParseHeader(f *testing.F) {
	k := newSynthKernel(10, false)
	f.Add(buildBzImage(f, k.image(LayoutBaseRelativeLast, false), "gzip")[:0x300])
	f.Fuzz(func(t *testing.T, data []byte) {
		h, err := ParseHeader("img", data)
		if err == nil && h.PayloadOffset+h.PayloadLength > int64(len(data)) {
			t.Fatalf("payload %+v outside %d bytes", h, len(data))
		}
	})
}

func FuzzDecodeTables(f *testing.F) {
	for _, layout := range []Layout{LayoutBaseRelativeFirst, LayoutBaseRelativeLast, LayoutPCRelative} {
		k := newSynthKernel(30, false)
		f.Add(buildTables(k.syms, layout, synthBase+0x10000))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		tab, err := decodeTables("img", segment{vaddr: synthBase + 0x10000, data: data})
		if err == nil {
			for i := 1; i < len(tab.Symbols); i++ {
				if tab.Symbols[i].Addr < tab.Symbols[i-1].Addr {
					t.Fatal("unsorted addresses accepted")
				}
			}
		}
	})
}
