package target

import (
	"bytes"
	"strconv"
	"strings"
)

// Config is a kernel .config: option name (with the CONFIG_ prefix) to
// value. Options written as "# CONFIG_X is not set" have the value "n";
// string values are unquoted.
type Config map[string]string

// Enabled reports whether the option is built in or modular (y or m).
func (c Config) Enabled(name string) bool {
	v := c[name]
	return v == "y" || v == "m"
}

// ReadConfig reads a kernel .config (plain or compressed, e.g. a saved
// /proc/config.gz).
func ReadConfig(path string) (Config, error) {
	data, err := newReader(nil).readFile(KindConfig, path)
	if err != nil {
		return nil, err
	}
	return parseConfig(path, data)
}

// parseConfig reads the format scripts/kconfig/confdata.c writes.
func parseConfig(path string, data []byte) (Config, error) {
	c := Config{}
	err := lines(path, data, func(n int, b []byte) error {
		line := strings.TrimSpace(string(b))
		if line == "" {
			return nil
		}
		if strings.HasPrefix(line, "#") {
			if name, ok := strings.CutSuffix(strings.TrimSpace(line[1:]), " is not set"); ok && strings.HasPrefix(name, "CONFIG_") {
				c[name] = "n"
			}
			return nil
		}
		name, val, ok := strings.Cut(line, "=")
		if !ok {
			return parseErr(path, n, "want CONFIG_NAME=value, got a line without \"=\"")
		}
		if !strings.HasPrefix(name, "CONFIG_") || !validConfigName(name) {
			return parseErr(path, n, "want CONFIG_NAME=value, got the name %s", excerpt(name))
		}
		if strings.HasPrefix(val, `"`) {
			s, err := strconv.Unquote(val)
			if err != nil {
				return parseErr(path, n, "bad string value for %s: %s", name, excerpt(val))
			}
			val = s
		}
		c[name] = val
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(c) == 0 && len(bytes.TrimSpace(data)) > 0 {
		return nil, parseErr(path, 0, "no CONFIG_ options: not a kernel .config")
	}
	return c, nil
}

func validConfigName(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c == '_' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}
