package target

import (
	"errors"

	"github.com/klpc/klpc/target/image"
)

// ReadVmlinuz reads vmlinux's symbols, in kallsyms order, and its ftrace
// call sites from a kernel image (a bzImage such as Debian's
// boot/vmlinuz-REL, or an uncompressed vmlinux ELF) by decoding the
// kallsyms tables compiled into it: no System.map, debug package or
// booted kernel is needed. Addresses are link-time ones (a KASLR kernel
// adds one offset to all of them at boot).
func ReadVmlinuz(path string) (*Object, error) {
	k, err := image.ReadFile(path)
	return convertVmlinuz(path, k, err)
}

// parseVmlinuz decodes an image already read; the Object does not keep
// data.
func parseVmlinuz(path string, data []byte) (*Object, error) {
	k, err := image.Read(path, data)
	return convertVmlinuz(path, k, err)
}

func convertVmlinuz(path string, k *image.Kernel, err error) (*Object, error) {
	if err != nil {
		var ie *image.Error
		if errors.As(err, &ie) {
			return nil, &ParseError{File: ie.File, Msg: ie.Msg}
		}
		return nil, err
	}
	return vmlinuzObject(path, k), nil
}

// vmlinuzObject converts a decoded image. A function is traceable when the
// running kernel has an ftrace record for it, which is what
// klp_patch_func needs: ftrace_location (kernel/trace/ftrace.c, 6.1 to
// 7.2) maps sym+0 to a record within the symbol. Records of init text are
// freed at the end of boot and the call sites of overridden weak functions
// are disabled, so neither counts (see image.Site).
func vmlinuzObject(path string, k *image.Kernel) *Object {
	owners := make(map[uint64]bool, len(k.Sites))
	for _, s := range k.Sites {
		if s.Live() {
			owners[k.Symbols[s.Sym].Addr] = true
		}
	}
	haveSites := len(k.Sites) > 0
	o := &Object{Name: VmlinuxName, Path: path, Source: KindVmlinuz, RealAddrs: true, Symbols: make([]Symbol, len(k.Symbols))}
	for i, s := range k.Symbols {
		sym := Symbol{Name: s.Name, Addr: s.Addr, Type: s.Type, Func: isTextType(s.Type)}
		if sym.Func && haveSites {
			sym.Traceable = No
			if owners[s.Addr] {
				sym.Traceable = Yes
			}
		}
		o.Symbols[i] = sym
	}
	return o
}

// KindVmlinuz is the Input kind and Object source of a kernel image.
const KindVmlinuz = "vmlinuz"
