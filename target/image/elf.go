package image

import (
	"bytes"
	"debug/elf"
)

// segment is one PT_LOAD segment of the decompressed vmlinux.
type segment struct {
	vaddr uint64
	data  []byte // the file bytes of the segment (p_filesz)
}

// memory maps kernel virtual addresses to the bytes of the image.
type memory struct {
	segs []segment
	// rodata is the .rodata section, where scripts/kallsyms puts its
	// tables; the whole image when the section headers are missing.
	rodata segment
	// text reports whether an address lies in an executable segment.
	exec []segment
}

// openELF reads the program and section headers of the decompressed
// vmlinux. Only ELF64 little-endian x86-64 images are accepted.
func openELF(name string, data []byte) (*memory, error) {
	f, err := elf.NewFile(bytes.NewReader(data))
	if err != nil {
		return nil, errorf(name, "decompressed payload is not an ELF file: %v", err)
	}
	if f.Class != elf.ELFCLASS64 || f.Data != elf.ELFDATA2LSB || f.Machine != elf.EM_X86_64 {
		return nil, errorf(name, "vmlinux is %v %v %v; only 64-bit little-endian x86-64 is supported", f.Class, f.Data, f.Machine)
	}
	m := &memory{}
	for _, p := range f.Progs {
		if p.Type != elf.PT_LOAD || p.Filesz == 0 {
			continue
		}
		if p.Off > uint64(len(data)) || p.Filesz > uint64(len(data))-p.Off {
			return nil, errorf(name, "vmlinux segment at file offset %#x, %d bytes, lies outside the payload", p.Off, p.Filesz)
		}
		s := segment{vaddr: p.Vaddr, data: data[p.Off : p.Off+p.Filesz]}
		m.segs = append(m.segs, s)
		if p.Flags&elf.PF_X != 0 {
			m.exec = append(m.exec, s)
		}
	}
	if len(m.segs) == 0 {
		return nil, errorf(name, "vmlinux has no loadable segments")
	}
	if sec := f.Section(".rodata"); sec != nil && sec.Type == elf.SHT_PROGBITS {
		if b, ok := m.at(sec.Addr, sec.Size); ok {
			m.rodata = segment{vaddr: sec.Addr, data: b}
		}
	}
	return m, nil
}

// at returns the n bytes at vaddr, or false when they are not all inside
// one segment.
func (m *memory) at(vaddr, n uint64) ([]byte, bool) {
	for _, s := range m.segs {
		if vaddr >= s.vaddr && vaddr-s.vaddr <= uint64(len(s.data)) && n <= uint64(len(s.data))-(vaddr-s.vaddr) {
			off := vaddr - s.vaddr
			return s.data[off : off+n], true
		}
	}
	return nil, false
}

// searchRegions lists where the kallsyms tables may be: .rodata, or every
// non-executable segment when the image has no section headers.
func (m *memory) searchRegions() []segment {
	if m.rodata.data != nil {
		return []segment{m.rodata}
	}
	var out []segment
	for _, s := range m.segs {
		exec := false
		for _, e := range m.exec {
			if e.vaddr == s.vaddr {
				exec = true
			}
		}
		if !exec {
			out = append(out, s)
		}
	}
	return out
}
