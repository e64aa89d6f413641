package plan

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
)

// ModuleVersionPrefix starts the MODULE_VERSION of every livepatch module
// klpc emits; /sys/module/<module>/version shows it on a running host.
const ModuleVersionPrefix = "klpc "

// ModuleVersion is the MODULE_VERSION klpc gives the module m of a release
// built for the kernel of that uname -r: "klpc <release> <hash>", where hash is the first 12
// hex digits of the SHA-256 of everything the plan says the module holds
// (kernel release, objects, functions with their sympos, symbols, callbacks,
// target srcversions, states, replace). A snapshot's version thus names the
// release and tells whether the loaded module was built from this plan.
func ModuleVersion(release, kernelRelease string, m *Module) string {
	var b strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&b, format, args...); b.WriteByte(0) }
	w("klpc-module-version 1")
	w("release %s", release)
	w("kernel %s", kernelRelease)
	w("module %s replace=%t", m.Name, m.Replace)
	for _, o := range m.Objects {
		w("object %s", o.Name)
		if o.Target != nil {
			w("target %s %s", o.Target.SrcVersion, o.Target.Vermagic)
		}
		for _, f := range o.Funcs {
			w("func %s %s %d", f.Name, f.New, f.Sympos)
		}
		for _, s := range o.Symbols {
			w("symbol %s %d %t", s.Name, s.Sympos, s.Exported)
		}
		c := o.Callbacks
		w("callbacks %s %s %s %s", c.PrePatch, c.PostPatch, c.PreUnpatch, c.PostUnpatch)
	}
	for _, s := range m.States {
		w("state %d %d", s.ID, s.Version)
	}
	sum := sha256.Sum256([]byte(b.String()))
	return ModuleVersionPrefix + release + " " + hex.EncodeToString(sum[:6])
}

// ReleaseOfVersion returns the release a MODULE_VERSION written by
// ModuleVersion names, or "" when version is not one.
func ReleaseOfVersion(version string) string {
	f := strings.Fields(version)
	if len(f) != 3 || f[0]+" " != ModuleVersionPrefix {
		return ""
	}
	return f[1]
}
