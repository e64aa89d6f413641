package planner

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/klpc/klpc/diag"
	"github.com/klpc/klpc/lang"
)

// debianModules returns the netfilter module folder of a Debian kernel
// package unpacked by scripts/fetch-kernels.sh, skipping the test when it
// is absent (failing instead when KLPC_INTEGRATION=1).
func debianModules(t *testing.T, abi string) string {
	t.Helper()
	dir, _ := filepath.Abs(filepath.Join("..", "..", ".cache", "kernels", abi+"-amd64", "lib", "modules", abi+"-amd64", "kernel", "net", "netfilter"))
	if _, err := os.Stat(dir); err != nil {
		if os.Getenv("KLPC_INTEGRATION") == "1" {
			t.Fatalf("%v: run scripts/fetch-kernels.sh %s", err, abi)
		}
		t.Skipf("%s not unpacked (scripts/fetch-kernels.sh %s)", dir, abi)
	}
	return dir
}

// TestSameFixOnTwoDebianBuilds plans one release for two real Debian
// builds: xt_AUDIT's audit_ip4 is a function of its own in 6.1.0-47 and
// is inlined away in 6.1.0-56, so the release is fine on one build and an
// error, naming that kernel, on the other.
func TestSameFixOnTwoDebianBuilds(t *testing.T) {
	old, cur := debianModules(t, "6.1.0-47"), debianModules(t, "6.1.0-56")
	src := fmt.Sprintf(`
kernel "deb12-47" {
  release = "6.1.0-47-amd64"
  modules = %q
}
kernel "deb12-56" {
  release = "6.1.0-56-amd64"
  modules = %q
}
fix "audit" {
  object "xt_AUDIT" {
    func "audit_ip4" {
      new = "klpc_audit_ip4"
    }
  }
}
livepatch "lp" {
  kernels = [kernel.deb12-47, kernel.deb12-56]
  fixes   = [fix.audit]
}
`, old, cur)
	cfg, diags := lang.NewParser().LoadSources(".", map[string][]byte{"two.klp.hcl": []byte(src)})
	p := Plan(cfg, diags, Options{})
	var errs []string
	for _, d := range p.Diagnostics {
		if d.Severity == diag.Error {
			errs = append(errs, d.Summary+": "+d.Detail)
		}
	}
	if len(errs) != 1 || !strings.Contains(errs[0], `kernel "deb12-56"`) || !strings.Contains(errs[0], "audit_ip4") {
		t.Fatalf("want one error about audit_ip4 on deb12-56, got %q", errs)
	}
	lp := p.Livepatch("lp")
	b := lp.Build("deb12-47")
	obj := b.Modules[0].Objects[0]
	// xt_AUDIT has no MODULE_VERSION, so no srcversion: vermagic pins it.
	if obj.Target == nil || !strings.HasPrefix(obj.Target.Vermagic, "6.1.0-47-amd64 ") {
		t.Errorf("the 6.1.0-47 build does not pin xt_AUDIT's build: %+v", obj.Target)
	}
	if t56 := lp.Build("deb12-56").Modules[0].Objects[0].Target; t56 == nil || !strings.HasPrefix(t56.Vermagic, "6.1.0-56-amd64 ") {
		t.Errorf("the 6.1.0-56 build does not pin xt_AUDIT's build: %+v", t56)
	}
}
