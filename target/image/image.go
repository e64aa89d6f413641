package image

import (
	"bytes"
	"encoding/binary"
	"os"
)

// Kernel is what the image tells about vmlinux.
type Kernel struct {
	Header Header // zero when the input was a vmlinux ELF, not a bzImage
	Tables
	// Sites are the ftrace call sites of __mcount_loc in address order,
	// after the checks ftrace_process_locs makes.
	Sites []Site
	// IBT reports CONFIG_X86_KERNEL_IBT, seen as endbr64 before the call
	// sites; it allows a site 4 bytes into its function.
	IBT bool
	// InitText is [_sinittext, _einittext): the code freed after boot.
	InitText [2]uint64
}

// Site is one ftrace call site (a dyn_ftrace record).
type Site struct {
	IP uint64
	// Sym is the index into Symbols of the function kallsyms names for
	// the site (get_symbol_pos), or -1.
	Sym int
	// Init marks sites in init text: ftrace_free_init_mem drops their
	// records at the end of boot, so the running kernel does not list them.
	Init bool
	// Disabled marks sites that test_for_valid_rec (kernel/trace/ftrace.c,
	// 6.1 to 7.2) disables because kallsyms places them more than
	// FTRACE_MCOUNT_MAX_OFFSET bytes into a symbol: the left-over call site
	// of an overridden weak function. They are not listed in
	// available_filter_functions.
	Disabled bool
}

// Live reports whether the running kernel lists the site in
// available_filter_functions.
func (s Site) Live() bool { return !s.Init && !s.Disabled && s.Sym >= 0 }

// ReadFile reads a bzImage (vmlinuz) or an uncompressed vmlinux ELF.
func ReadFile(path string) (*Kernel, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if fi.Size() > int64(MaxVmlinux) {
		return nil, errorf(path, "%d bytes is larger than any kernel image (limit %d)", fi.Size(), MaxVmlinux)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return Read(path, data)
}

// Read decodes a bzImage or a vmlinux ELF held in data; name is used in
// error messages.
func Read(name string, data []byte) (*Kernel, error) {
	var k Kernel
	vmlinux := data
	if !bytes.HasPrefix(data, []byte("\x7fELF")) {
		h, err := ParseHeader(name, data)
		if err != nil {
			return nil, err
		}
		if vmlinux, err = Decompress(name, data, h); err != nil {
			return nil, err
		}
		k.Header = h
	}
	m, err := openELF(name, vmlinux)
	if err != nil {
		return nil, err
	}
	lastErr := errorf(name, "vmlinux has no .rodata section and no data segment to hold the kallsyms tables")
	for _, r := range m.searchRegions() {
		t, err := decodeTables(name, r)
		if err != nil {
			lastErr = err
			continue
		}
		k.Tables = *t
		if err := k.readSites(name, m); err != nil {
			return nil, err
		}
		return &k, nil
	}
	return nil, lastErr
}

// endbr64 is the IBT landing pad (ENDBR_INSN_SIZE, arch/x86/include/asm/ibt.h).
var endbr64 = []byte{0xf3, 0x0f, 0x1e, 0xfa}

// readSites reads __start_mcount_loc..__stop_mcount_loc and keeps what
// ftrace_process_locs keeps (kernel/trace/ftrace.c): non-zero entries
// (6.1) inside kernel text or init text (7.x also checks this, because
// sorttable zeroes overridden weak functions and KASLR then moves the
// zero). x86's ftrace_call_adjust returns the address unchanged.
func (k *Kernel) readSites(name string, m *memory) error {
	addr := func(sym string) (uint64, bool) {
		for _, s := range k.Symbols {
			if s.Name == sym {
				return s.Addr, true
			}
		}
		return 0, false
	}
	start, ok1 := addr("__start_mcount_loc")
	stop, ok2 := addr("__stop_mcount_loc")
	if !ok1 || !ok2 {
		return nil // CONFIG_DYNAMIC_FTRACE off: no call sites to read
	}
	if stop < start || (stop-start)%8 != 0 || stop-start > uint64(MaxVmlinux) {
		return errorf(name, "__start_mcount_loc %#x and __stop_mcount_loc %#x do not delimit a table", start, stop)
	}
	table, ok := m.at(start, stop-start)
	if !ok {
		return errorf(name, "__mcount_loc table at %#x (%d bytes) is not in the image", start, stop-start)
	}
	stext, _ := addr("_stext")
	etext, _ := addr("_etext")
	k.InitText[0], _ = addr("_sinittext")
	k.InitText[1], _ = addr("_einittext")
	inText := func(a uint64) bool { return a >= stext && a < etext }
	inInit := func(a uint64) bool { return a >= k.InitText[0] && a < k.InitText[1] }
	k.Sites = make([]Site, 0, len(table)/8)
	for off := 0; off < len(table); off += 8 {
		ip := binary.LittleEndian.Uint64(table[off:])
		if ip == 0 || !(inText(ip) || inInit(ip)) {
			continue
		}
		k.Sites = append(k.Sites, Site{IP: ip, Sym: lookup(k.Symbols, ip), Init: inInit(ip)})
	}
	// FTRACE_MCOUNT_MAX_OFFSET is ENDBR_INSN_SIZE: 4 with
	// CONFIG_X86_KERNEL_IBT, else 0 (arch/x86/include/asm/ftrace.h). Only
	// IBT builds compile endbr64 before the fentry call.
	for _, s := range k.Sites {
		if b, ok := m.at(s.IP-4, 4); ok && bytes.Equal(b, endbr64) {
			k.IBT = true
			break
		}
	}
	maxOff := uint64(0)
	if k.IBT {
		maxOff = 4
	}
	for i := range k.Sites {
		s := &k.Sites[i]
		s.Disabled = s.Sym < 0 || s.IP-k.Symbols[s.Sym].Addr > maxOff
	}
	return nil
}
