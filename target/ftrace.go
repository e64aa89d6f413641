package target

import (
	"bytes"
	"strings"
)

// FilterFunctions is a saved /sys/kernel/tracing/available_filter_functions:
// how many times each traceable function name appears, for vmlinux and
// per module.
type FilterFunctions struct {
	Vmlinux map[string]int
	Modules map[string]map[string]int
}

// ReadFilterFunctions reads a saved available_filter_functions (plain or
// compressed).
func ReadFilterFunctions(path string) (*FilterFunctions, error) {
	data, err := newReader(nil).readFile(KindFtrace, path)
	if err != nil {
		return nil, err
	}
	return parseFilterFunctions(path, data)
}

// parseFilterFunctions reads what t_show in kernel/trace/ftrace.c prints:
// one "%ps" per call-site record, which is "name" for vmlinux and
// "name [module]" for module functions.
func parseFilterFunctions(path string, data []byte) (*FilterFunctions, error) {
	ff := &FilterFunctions{Vmlinux: map[string]int{}, Modules: map[string]map[string]int{}}
	err := lines(path, data, func(n int, b []byte) error {
		line := strings.TrimSpace(string(b))
		if line == "" {
			return nil
		}
		f := fieldsN(line, 3)
		for _, field := range f {
			if hasControl(field) {
				return parseErr(path, n, "control characters in %s", excerpt(field))
			}
		}
		switch len(f) {
		case 1:
			if strings.ContainsAny(f[0], "[]") {
				return parseErr(path, n, "bad function name %s", excerpt(line))
			}
			ff.Vmlinux[f[0]]++
		case 2:
			m := f[1]
			if len(m) < 3 || m[0] != '[' || m[len(m)-1] != ']' {
				return parseErr(path, n, "want \"name\" or \"name [module]\", got module column %s", excerpt(m))
			}
			mod := ModuleName(m[1 : len(m)-1])
			if ff.Modules[mod] == nil {
				ff.Modules[mod] = map[string]int{}
			}
			ff.Modules[mod][f[0]]++
		default:
			return parseErr(path, n, "want \"name\" or \"name [module]\", got %s", fieldCount(len(f)))
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(ff.Vmlinux) == 0 && len(ff.Modules) == 0 && len(bytes.TrimSpace(data)) > 0 {
		return nil, parseErr(path, 0, "no function names")
	}
	return ff, nil
}
