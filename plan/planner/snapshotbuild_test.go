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

// TestSnapshotModuleBuild starts a deployment from snapshots that show the
// real Debian virtio_pci module (srcversion 2526A0E335FCA2331138131, from
// .modinfo) loaded: the kernel's own build matches its srcversion, another
// srcversion is an error at the snapshot's field naming the builds known.
func TestSnapshotModuleBuild(t *testing.T) {
	kdir := mustAbs(t, "../../kernels/6.1.0-56-amd64")
	for _, c := range []struct {
		name, srcversion string
		code             diag.Code
		detail           string
	}{
		{"own", "2526A0E335FCA2331138131", "", ""},
		{"none", "", "", ""},
		{"other", "0123456789ABCDEF0123456", diag.SnapshotModuleBuild,
			"modules[0] (virtio_pci).srcversion: module virtio_pci has srcversion 0123456789ABCDEF0123456, which no build of the kernel has (the kernel's own 2526A0E335FCA2331138131, copy 2526A0E335FCA2331138131)"},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := writeDir(t, fmt.Sprintf(`
kernel "k" {
  release  = "6.1.0-56-amd64"
  arch     = "x86_64"
  kallsyms = "%[1]s/kallsyms.gz"
  ftrace   = "%[1]s/available_filter_functions.gz"
  symvers  = "%[1]s/Module.symvers.gz"
  modules  = "%[1]s/modules"
  module_build "copy" {
    module = "virtio_pci"
    path   = "%[1]s/modules/virtio_pci.ko.xz"
  }
}

fix "vq" {
  source = "f.c"
  object "virtio_pci" {
    func "setup_vq" {
      sympos = 1
      new    = "klpc_ssthresh"
    }
  }
}

livepatch "lp" {
  fixes   = [fix.vq]
  kernels = [kernel.k]
}

deploy "host" {
  kernel = kernel.k
  from   = "host.json"
  step "load" {
    livepatch = livepatch.lp
  }
}
`, kdir))
			mod := `{"name": "virtio_pci"}`
			if c.srcversion != "" {
				mod = fmt.Sprintf(`{"name": "virtio_pci", "srcversion": %q}`, c.srcversion)
			}
			snap := `{"format": 1, "kernel": "6.1.0-56-amd64", "livepatches": [], "modules": [` + mod + `]}`
			if err := os.WriteFile(filepath.Join(dir, "host.json"), []byte(snap), 0o644); err != nil {
				t.Fatal(err)
			}
			cfg, diags := lang.LoadDir(dir)
			p := Plan(cfg, diags, Options{})
			if c.code == "" {
				if p.HasErrors() {
					t.Fatalf("plan: %s", p.Diagnostics.String())
				}
				if got := p.Deployments[0].Steps[0].Functions.Impl("virtio_pci:setup_vq,1"); got.Livepatch != "lp" {
					t.Errorf("after load setup_vq runs %+v", got)
				}
				return
			}
			for _, d := range p.Diagnostics {
				if d.Code == c.code {
					if !strings.Contains(d.Detail, c.detail) {
						t.Errorf("detail %q, want %q", d.Detail, c.detail)
					}
					return
				}
			}
			t.Errorf("no %s in %s", c.code, p.Diagnostics.String())
		})
	}
}
