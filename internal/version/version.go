// Package version tells which klpc this is: the module version the binary
// was built from, for `klpc version` and for the files klpc emits.
package version

import "runtime/debug"

// Override is set at build time with
// -ldflags "-X github.com/klpc/klpc/internal/version.Override=v1.2.3";
// it wins over the module version the Go toolchain records.
var Override = ""

// Module returns klpc's version: Override when set, else the version of
// the main module recorded in the binary (a tag such as v0.3.0 after `go
// install github.com/klpc/klpc/cmd/klpc@v0.3.0`, a pseudo-version or
// "(devel)" from a checkout), else "devel".
func Module() string {
	if Override != "" {
		return Override
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "devel"
}
