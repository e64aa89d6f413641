// Package klpelf turns a livepatch module that kbuild built into the
// livepatch ELF format the kernel expects (Documentation/livepatch/
// module-elf-format.rst): relocations against the non-exported symbols the
// module's manifest names move from the ordinary .rela sections into
// .klp.rela.<object>.<section> sections (SHF_ALLOC | SHF_RELA_LIVEPATCH),
// and those symbols become .klp.sym.<object>.<symbol>,<sympos> symbols with
// st_shndx SHN_LIVEPATCH, which the livepatch core resolves itself
// (klp_resolve_symbols in kernel/livepatch/core.c).
//
// It works on 64-bit little-endian relocatable objects (x86_64 .ko files),
// leaves every byte it does not need to change as it was, and writes nothing
// itself: Convert returns the new file.
package klpelf

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/klpc/klpc/kabi"
)

const (
	symSize  = 24 // sizeof(Elf64_Sym)
	relaSize = 24 // sizeof(Elf64_Rela)
	shdrSize = 64 // sizeof(Elf64_Shdr)
)

// Symbol is a non-exported symbol of a patched object that the replacement
// code refers to.
type Symbol struct {
	Object string // "vmlinux" or a module name
	Name   string
	Sympos int
}

// KlpName is the symbol's name in the livepatch ELF format.
func (s Symbol) KlpName() string {
	return fmt.Sprintf(".klp.sym.%s.%s,%d", s.Object, s.Name, s.Sympos)
}

// Report says what Convert did.
type Report struct {
	// Converted lists the .klp.sym symbols written.
	Converted []string
	// Sections lists the .klp.rela sections written, with their number of
	// relocations.
	Sections map[string]int
	// Unreferenced lists symbols of the manifest the module does not use.
	Unreferenced []string
}

// Convert rewrites the module in ko so that every reference to one of syms
// goes through the livepatch core.
func Convert(ko []byte, syms []Symbol) ([]byte, Report, error) {
	rep := Report{Sections: map[string]int{}}
	f, err := elf.NewFile(bytes.NewReader(ko))
	if err != nil {
		return nil, rep, fmt.Errorf("not an ELF file: %w", err)
	}
	if f.Class != elf.ELFCLASS64 || f.Data != elf.ELFDATA2LSB || f.Type != elf.ET_REL {
		return nil, rep, errors.New("not a 64-bit little-endian relocatable object (a .ko)")
	}
	hdr := binary.LittleEndian
	shoff := hdr.Uint64(ko[0x28:])
	shnum := int(hdr.Uint16(ko[0x3c:]))
	shstrndx := int(hdr.Uint16(ko[0x3e:]))
	if shnum != len(f.Sections) || shoff+uint64(shnum)*shdrSize > uint64(len(ko)) || shstrndx >= shnum {
		return nil, rep, errors.New("section header table out of bounds")
	}
	out := bytes.Clone(ko)
	symtabIdx := -1
	for i, s := range f.Sections {
		if s.Type == elf.SHT_SYMTAB {
			symtabIdx = i
		}
	}
	if symtabIdx < 0 {
		return nil, rep, errors.New("no symbol table")
	}
	symtab := f.Sections[symtabIdx]
	strtabIdx := int(symtab.Link)
	if strtabIdx >= shnum || symtab.Offset+symtab.Size > uint64(len(ko)) {
		return nil, rep, errors.New("symbol table out of bounds")
	}
	strtab := f.Sections[strtabIdx]
	if strtab.Offset+strtab.Size > uint64(len(ko)) {
		return nil, rep, errors.New("string table out of bounds")
	}
	strs := ko[strtab.Offset : strtab.Offset+strtab.Size]
	nsyms := int(symtab.Size / symSize)

	// Find each symbol among the module's undefined ones.
	want := map[string]Symbol{}
	for _, s := range syms {
		want[s.Name] = s
	}
	converted := map[uint32]Symbol{} // symbol index -> symbol
	newStrs := bytes.Clone(strs)
	for i := 1; i < nsyms; i++ {
		off := symtab.Offset + uint64(i)*symSize
		name := cString(strs, hdr.Uint32(ko[off:]))
		s, ok := want[name]
		if !ok {
			continue
		}
		shndx := hdr.Uint16(ko[off+6:])
		if shndx != uint16(elf.SHN_UNDEF) {
			return nil, rep, fmt.Errorf("the module defines %s itself; only symbols of the patched object can become .klp.sym symbols", name)
		}
		converted[uint32(i)] = s
		delete(want, name)
		// st_name, st_shndx, st_value: the livepatch core fills the value.
		hdr.PutUint32(out[off:], uint32(len(newStrs)))
		newStrs = append(append(newStrs, s.KlpName()...), 0)
		hdr.PutUint16(out[off+6:], kabi.SHNLivepatch)
		hdr.PutUint64(out[off+8:], 0)
		rep.Converted = append(rep.Converted, s.KlpName())
	}
	for name := range want {
		rep.Unreferenced = append(rep.Unreferenced, name)
	}
	sort.Strings(rep.Unreferenced)
	sort.Strings(rep.Converted)
	if len(converted) == 0 {
		return out, rep, nil
	}

	// Move the relocations that use them.
	type klpSec struct {
		name   string
		target int
		data   []byte
	}
	var klps []*klpSec
	byName := map[string]*klpSec{}
	for i, s := range f.Sections {
		if s.Type != elf.SHT_RELA || int(s.Link) != symtabIdx || strings.HasPrefix(s.Name, ".klp.rela.") {
			continue
		}
		target := int(s.Info)
		if target <= 0 || target >= shnum || s.Offset+s.Size > uint64(len(ko)) {
			return nil, rep, fmt.Errorf("relocation section %s is out of bounds", s.Name)
		}
		if f.Sections[target].Flags&elf.SHF_ALLOC == 0 {
			continue // never applied by the module loader
		}
		var kept []byte
		moved := false
		for off := s.Offset; off+relaSize <= s.Offset+s.Size; off += relaSize {
			entry := ko[off : off+relaSize]
			sym, ok := converted[uint32(hdr.Uint64(entry[8:])>>32)]
			if !ok {
				kept = append(kept, entry...)
				continue
			}
			moved = true
			name := ".klp.rela." + sym.Object + f.Sections[target].Name
			ks := byName[name]
			if ks == nil {
				ks = &klpSec{name: name, target: target}
				byName[name] = ks
				klps = append(klps, ks)
			}
			ks.data = append(ks.data, entry...)
			rep.Sections[name]++
		}
		if moved {
			copy(out[s.Offset:], kept)
			clear(out[s.Offset+uint64(len(kept)) : s.Offset+s.Size])
			hdr.PutUint64(out[shoff+uint64(i)*shdrSize+0x20:], uint64(len(kept))) // sh_size
		}
	}
	sort.Slice(klps, func(a, b int) bool { return klps[a].name < klps[b].name })

	// Append the new string tables, the new sections and a new section
	// header table; point the old headers of .strtab and .shstrtab at the
	// new tables.
	shstr := f.Sections[shstrndx]
	if shstr.Offset+shstr.Size > uint64(len(ko)) {
		return nil, rep, errors.New("section name table out of bounds")
	}
	newShstr := bytes.Clone(ko[shstr.Offset : shstr.Offset+shstr.Size])
	nameOff := make([]uint32, len(klps))
	for i, ks := range klps {
		nameOff[i] = uint32(len(newShstr))
		newShstr = append(append(newShstr, ks.name...), 0)
	}
	put := func(data []byte, align int) uint64 {
		for len(out)%align != 0 {
			out = append(out, 0)
		}
		off := uint64(len(out))
		out = append(out, data...)
		return off
	}
	strOff := put(newStrs, 1)
	shstrOff := put(newShstr, 1)
	dataOff := make([]uint64, len(klps))
	for i, ks := range klps {
		dataOff[i] = put(ks.data, 8)
	}
	// The old table in out already holds the new sh_size of every .rela
	// section that lost entries.
	headers := bytes.Clone(out[shoff : shoff+uint64(shnum)*shdrSize])
	setOffSize := func(idx int, off uint64, size int) {
		h := headers[idx*shdrSize:]
		hdr.PutUint64(h[0x18:], off)
		hdr.PutUint64(h[0x20:], uint64(size))
	}
	setOffSize(strtabIdx, strOff, len(newStrs))
	setOffSize(shstrndx, shstrOff, len(newShstr))
	for i, ks := range klps {
		var h [shdrSize]byte
		hdr.PutUint32(h[0x00:], nameOff[i])
		hdr.PutUint32(h[0x04:], uint32(elf.SHT_RELA))
		hdr.PutUint64(h[0x08:], uint64(elf.SHF_ALLOC)|kabi.SHFRelaLivepatch)
		hdr.PutUint64(h[0x18:], dataOff[i])
		hdr.PutUint64(h[0x20:], uint64(len(ks.data)))
		hdr.PutUint32(h[0x28:], uint32(symtabIdx))
		hdr.PutUint32(h[0x2c:], uint32(ks.target))
		hdr.PutUint64(h[0x30:], 8)
		hdr.PutUint64(h[0x38:], relaSize)
		headers = append(headers, h[:]...)
	}
	newShoff := put(headers, 8)
	hdr.PutUint64(out[0x28:], newShoff)
	hdr.PutUint16(out[0x3c:], uint16(shnum+len(klps)))
	return out, rep, nil
}

func cString(b []byte, off uint32) string {
	if int(off) >= len(b) {
		return ""
	}
	end := bytes.IndexByte(b[off:], 0)
	if end < 0 {
		return string(b[off:])
	}
	return string(b[off : int(off)+end])
}
