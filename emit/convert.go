package emit

import (
	"bytes"
	"debug/elf"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/klpc/klpc/emit/klpelf"
	"github.com/klpc/klpc/internal/safeio"
)

// ConvertModule rewrites a livepatch module built from emitted sources into
// the livepatch ELF format its manifest describes (see package klpelf). The
// module is replaced atomically.
func ConvertModule(manifestPath, koPath string) (klpelf.Report, error) {
	data, err := safeio.ReadFile(manifestPath, maxManifest)
	if err != nil {
		return klpelf.Report{}, err
	}
	var m manifest
	if err := json.Unmarshal(data, &m); err != nil || m.FormatVersion == "" || m.Module == "" {
		if err == nil {
			err = errors.New("no format_version or module")
		}
		return klpelf.Report{}, fmt.Errorf("%s: not a klpc manifest: %v", manifestPath, err)
	}
	var syms []klpelf.Symbol
	for _, s := range m.ELF.Symbols {
		sym := klpelf.Symbol{Object: s.Object, Name: s.Symbol, Sympos: s.Sympos}
		if sym.KlpName() != s.Name {
			return klpelf.Report{}, fmt.Errorf("%s: symbol %q does not match its object, name and sympos", manifestPath, s.Name)
		}
		syms = append(syms, sym)
	}
	ko, err := safeio.ReadFile(koPath, maxModule)
	if err != nil {
		return klpelf.Report{}, err
	}
	if err := belongs(&m, ko); err != nil {
		return klpelf.Report{}, fmt.Errorf("%s does not describe %s: %v; klp-convert rewrites a module only with its own manifest", manifestPath, koPath, err)
	}
	out, rep, err := klpelf.Convert(ko, syms)
	if err != nil {
		return rep, fmt.Errorf("%s: %v", koPath, err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(koPath), ".klp-convert-*")
	if err != nil {
		return rep, err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(out); err != nil {
		tmp.Close()
		return rep, err
	}
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return rep, err
	}
	if err := tmp.Close(); err != nil {
		return rep, err
	}
	return rep, os.Rename(tmp.Name(), koPath)
}

// Caps on what klp-convert reads.
const (
	maxManifest = 64 << 20
	maxModule   = 512 << 20
)

// belongs checks that a manifest describes a built module: the module's
// name and vermagic (.modinfo), hence its kernel release, and the
// functions it patches (each old_name a string of the module, each
// replacement one of its functions).
func belongs(m *manifest, ko []byte) error {
	f, err := elf.NewFile(bytes.NewReader(ko))
	if err != nil {
		return fmt.Errorf("not an ELF module: %v", err)
	}
	info := map[string]string{}
	if sec := f.Section(".modinfo"); sec != nil {
		data, err := sec.Data()
		if err != nil {
			return fmt.Errorf("reading .modinfo: %v", err)
		}
		for _, kv := range bytes.Split(data, []byte{0}) {
			if k, v, ok := strings.Cut(string(kv), "="); ok {
				info[k] = v
			}
		}
	}
	switch {
	case info["name"] != m.Module:
		return fmt.Errorf("the module is named %s, the manifest's is %s", safeio.Excerpt(info["name"]), safeio.Excerpt(m.Module))
	case info["vermagic"] != m.Vermagic:
		return fmt.Errorf("the module's vermagic is %s, the manifest's is %s (kernel %s)", safeio.Excerpt(info["vermagic"]), safeio.Excerpt(m.Vermagic), safeio.Excerpt(m.Kernel.Release))
	case !strings.HasPrefix(info["vermagic"], m.Kernel.Release+" "):
		return fmt.Errorf("the module's vermagic %s is not for kernel %s", safeio.Excerpt(info["vermagic"]), safeio.Excerpt(m.Kernel.Release))
	}
	defined := map[string]bool{}
	if symbols, err := f.Symbols(); err == nil {
		for _, s := range symbols {
			if elf.ST_TYPE(s.Info) == elf.STT_FUNC && s.Section != elf.SHN_UNDEF {
				defined[s.Name] = true
			}
		}
	}
	for _, o := range m.Objects {
		for _, fn := range o.Funcs {
			if !bytes.Contains(ko, append(append([]byte{0}, fn.OldName...), 0)) {
				return fmt.Errorf("it patches no function named %s", safeio.Excerpt(fn.OldName))
			}
			if !defined[fn.NewFunc] {
				return fmt.Errorf("it has no function %s to replace %s with", safeio.Excerpt(fn.NewFunc), fn.OldName)
			}
		}
	}
	return nil
}
