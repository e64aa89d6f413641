package emit

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/klpc/klpc/emit/klpelf"
)

// ConvertModule rewrites a livepatch module built from emitted sources into
// the livepatch ELF format its manifest describes (see package klpelf). The
// module is replaced atomically.
func ConvertModule(manifestPath, koPath string) (klpelf.Report, error) {
	var m struct {
		Module string `json:"module"`
		ELF    struct {
			Symbols []klpSymbol `json:"klp_symbols"`
		} `json:"elf"`
	}
	data, err := os.ReadFile(manifestPath)
	if err != nil {
		return klpelf.Report{}, err
	}
	if err := json.Unmarshal(data, &m); err != nil {
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
	ko, err := os.ReadFile(koPath)
	if err != nil {
		return klpelf.Report{}, err
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
