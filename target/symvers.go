package target

import (
	"bytes"
	"strconv"
	"strings"
)

// Export is one line of Module.symvers: a symbol exported to modules.
type Export struct {
	Symbol string
	CRC    uint32
	// Module is "vmlinux" or the module's path in the build tree without
	// ".ko", e.g. "drivers/net/tun".
	Module string
	// Type is EXPORT_SYMBOL or EXPORT_SYMBOL_GPL.
	Type string
	// Namespace is the symbol namespace (EXPORT_SYMBOL_NS), or "".
	Namespace string
}

// ReadSymvers reads a Module.symvers file (plain or compressed).
func ReadSymvers(path string) ([]Export, error) {
	data, err := newReader(nil).readFile(KindSymvers, path)
	if err != nil {
		return nil, err
	}
	return parseSymvers(path, data)
}

// parseSymvers reads the five tab-separated columns modpost writes
// (write_dump in scripts/mod/modpost.c): crc, symbol, module, export type,
// namespace (possibly empty). Older four-column files are accepted.
func parseSymvers(path string, data []byte) ([]Export, error) {
	var out []Export
	err := lines(path, data, func(n int, line []byte) error {
		if len(bytes.TrimSpace(line)) == 0 {
			return nil
		}
		f := strings.Split(string(line), "\t")
		if len(f) != 4 && len(f) != 5 {
			return parseErr(path, n, "want 5 tab-separated fields (crc, symbol, module, export type, namespace), got %d", len(f))
		}
		crc, err := strconv.ParseUint(strings.TrimPrefix(strings.TrimPrefix(f[0], "0x"), "0X"), 16, 32)
		if err != nil || !strings.HasPrefix(strings.ToLower(f[0]), "0x") {
			return parseErr(path, n, "bad CRC %s", excerpt(f[0]))
		}
		if f[1] == "" || f[2] == "" {
			return parseErr(path, n, "empty symbol or module field")
		}
		if !strings.HasPrefix(f[3], "EXPORT_SYMBOL") {
			return parseErr(path, n, "bad export type %s", excerpt(f[3]))
		}
		if hasControl(f[1]) || hasControl(f[2]) || (len(f) == 5 && hasControl(f[4])) {
			return parseErr(path, n, "control characters in symbol %s, module %s or namespace", excerpt(f[1]), excerpt(f[2]))
		}
		e := Export{CRC: uint32(crc), Symbol: f[1], Module: f[2], Type: f[3]}
		if len(f) == 5 {
			e.Namespace = f[4]
		}
		out = append(out, e)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
