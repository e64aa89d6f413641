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

// TestModuleBuilds resolves a release against a module_build, with real
// Debian .ko files from kernels/: the kernel's own tcp_scalable build
// named again resolves as the kernel's own
// does, and without a srcversion (Debian builds without
// CONFIG_MODULE_SRCVERSION_ALL) it is known by its SHA-256; a file of another module is refused with the build's place.
func TestModuleBuilds(t *testing.T) {
	mods := mustAbs(t, "../../kernels/6.1.0-56-amd64/modules")
	cfg := func(path string) string {
		return fmt.Sprintf(`kernel "k" {
  release = "6.1.0-56-amd64"
  modules = %q
  module_build "scalable-copy" {
    module = "tcp_scalable"
    path   = %q
  }
}
fix "f" {
  source = "f.c"
  object "tcp_scalable" {
    func "tcp_scalable_ssthresh" {
      new = "klpc_ssthresh"
    }
  }
}
livepatch "lp" {
  kernels = [kernel.k]
  fixes   = [fix.f]
}
`, mods, path)
	}
	plan := func(text string) ([]byte, *diag.Diagnostics, *lang.Config) {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "main.klp.hcl"), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "f.c"), []byte("int klpc_ssthresh(void) { return 0; }\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		c, d := lang.LoadDir(dir)
		p := Plan(c, d, Options{NoCache: true})
		return nil, &p.Diagnostics, c
	}

	c, diags := lang.LoadDir(writeDir(t, cfg(filepath.Join(mods, "tcp_scalable.ko"))))
	p := Plan(c, diags, Options{NoCache: true})
	if p.HasErrors() {
		t.Fatal(p.Diagnostics.String())
	}
	mbs := p.Livepatches[0].Builds[0].ModuleBuilds
	if len(mbs) != 1 || !strings.HasPrefix(mbs[0].ID, "sha256:") || len(mbs[0].Funcs) != 1 ||
		mbs[0].Funcs[0].Problem != "" || mbs[0].Funcs[0].Key != "tcp_scalable:tcp_scalable_ssthresh" {
		t.Fatalf("module builds: %+v %+v", mbs, mbs[0].Funcs[0])
	}
	for _, d := range p.Diagnostics {
		if d.Code == diag.ModuleBuildDiffers {
			t.Errorf("the same build differs: %s", d.Detail)
		}
	}

	_, ds, _ := plan(cfg(filepath.Join(mods, "virtio_pci.ko.xz")))
	found := false
	for _, d := range *ds {
		if d.Code == diag.ModuleBuildUnreadable && strings.Contains(d.Detail, "is module virtio_pci, not tcp_scalable") && d.Subject != nil {
			found = true
		}
	}
	if !found {
		t.Errorf("another module's file as a build: %s", ds.String())
	}
}

func writeDir(t *testing.T, text string) string {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "main.klp.hcl"), []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "f.c"), []byte("int klpc_ssthresh(void) { return 0; }\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestModuleLoadBuild loads a module_build in a deployment: the release's
// lookups then go to that build; an unknown or unreadable build is an
// error at the step's build.
func TestModuleLoadBuild(t *testing.T) {
	mods := mustAbs(t, "../../kernels/6.1.0-56-amd64/modules")
	text := fmt.Sprintf(`kernel "k" {
  release = "6.1.0-56-amd64"
  modules = %q
  module_build "copy" {
    module = "tcp_scalable"
    path   = %q
  }
  module_build "wrong" {
    module = "tcp_scalable"
    path   = %q
  }
}
fix "f" {
  source = "f.c"
  object "tcp_scalable" {
    func "tcp_scalable_ssthresh" {
      new = "klpc_ssthresh"
    }
  }
}
livepatch "lp" {
  kernels = [kernel.k]
  fixes   = [fix.f]
}
deploy "d" {
  kernel = kernel.k
  step "module_load" {
    module = "tcp_scalable"
    build  = "copy"
  }
  step "load" {
    livepatch = livepatch.lp
  }
}
deploy "bad" {
  kernel = kernel.k
  step "module_load" {
    module = "tcp_scalable"
    build  = "nope"
  }
}
`, mods, filepath.Join(mods, "tcp_scalable.ko"), filepath.Join(mods, "virtio_pci.ko.xz"))
	c, diags := lang.LoadDir(writeDir(t, text))
	p := Plan(c, diags, Options{NoCache: true})
	d := p.Deployments[0]
	if !d.Steps[0].OK || !d.Steps[1].OK || d.Steps[1].Functions.Impl("tcp_scalable:tcp_scalable_ssthresh").Livepatch != "lp" {
		t.Fatalf("steps: %+v %+v", d.Steps[0], d.Steps[1])
	}
	var codes []string
	for _, dg := range p.Diagnostics {
		codes = append(codes, string(dg.Code))
	}
	got := strings.Join(codes, " ")
	if !strings.Contains(got, string(diag.UnknownModuleBuild)) || !strings.Contains(got, string(diag.ModuleBuildUnreadable)) {
		t.Errorf("diagnostics: %s", p.Diagnostics.String())
	}

	bad := strings.Replace(text, `livepatch = livepatch.lp
  }
}`, `livepatch = livepatch.lp
    build     = "copy"
  }
}`, 1)
	_, diags = lang.LoadDir(writeDir(t, bad))
	if !diags.HasErrors() || !strings.Contains(diags.String(), "takes no build argument") {
		t.Errorf("build on a load step: %s", diags.String())
	}
}
