package planner

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/klpc/klpc/diag"
	"github.com/klpc/klpc/lang"
)

// TestModuleBuildsExample plans examples/module-builds: klpc_probe exists
// only as two module_builds (real .ko files), and lp-beta-b, restricted
// to the fixed build, uses its static klpc_probe_b through a klp
// relocation. The kernel refuses it on the first build with EINVAL, at
// the livepatch's load or at the module's, whichever comes second.
func TestModuleBuildsExample(t *testing.T) {
	p := planDir(t, "../../examples/module-builds")
	if p.HasErrors() {
		t.Fatal(p.Diagnostics.String())
	}
	type want struct {
		ok    bool
		errno string
		beta  string
	}
	cases := map[string][]want{
		"on-first-build":  {{true, "", "original"}, {true, "", "lp-beta:klpc_beta_log"}, {false, "EINVAL", "lp-beta:klpc_beta_log"}},
		"on-fixed":        {{true, "", "original"}, {true, "", "lp-beta:klpc_beta_log"}, {true, "", "lp-beta-b:klpc_beta_b"}},
		"livepatch-first": {{true, "", "absent"}, {false, "EINVAL", "absent"}, {true, "", "lp-beta-b:klpc_beta_b"}},
	}
	for _, d := range p.Deployments {
		w := cases[d.Name]
		if len(w) != len(d.Steps) {
			t.Fatalf("%s: %d steps, want %d", d.Name, len(d.Steps), len(w))
		}
		for i, s := range d.Steps {
			got := want{s.OK, s.Errno, s.Functions.Impl("klpc_probe:klpc_probe_beta").String()}
			if got != w[i] {
				t.Errorf("%s step %d: %+v, want %+v (%s)", d.Name, i+1, got, w[i], s.Reason)
			}
		}
	}
	b := p.Livepatch("lp-beta-b").Builds[0]
	if len(b.Modules[0].Objects[0].Symbols) != 1 || b.Modules[0].Objects[0].Symbols[0].Name != "klpc_probe_b" {
		t.Errorf("lp-beta-b's object: %+v", b.Modules[0].Objects[0])
	}
}

// TestModuleBuildsRestriction checks what a livepatch's module_builds
// may name, and that a release not restricted to the fixed build cannot
// use its klpc_probe_b.
func TestModuleBuildsRestriction(t *testing.T) {
	src, err := os.ReadFile("../../examples/module-builds/main.klp.hcl")
	if err != nil {
		t.Fatal(err)
	}
	abs := mustAbs(t, "../../examples/module-builds")
	text := strings.ReplaceAll(string(src), `"../../`, `"`+filepath.Dir(filepath.Dir(abs))+"/")
	text = strings.ReplaceAll(text, `"builds/`, `"`+abs+"/builds/")
	for _, c := range []struct {
		name, old, new string
		code           diag.Code
		detail         string
	}{
		{"unrestricted", `module_builds = ["probe-fixed"]`, ``, diag.SymbolNotFound, "klpc_probe_b"},
		{"unknown", `module_builds = ["probe-fixed"]`, `module_builds = ["probe-2.0"]`, diag.UnknownModuleBuild, `no module_build of that name`},
		{"two of one module", `module_builds = ["probe-fixed"]`, `module_builds = ["probe-fixed", "probe-1.0"]`, diag.ModuleBuildsConflict, `both builds of klpc_probe`},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, "main.klp.hcl"), []byte(strings.Replace(text, c.old, c.new, 1)), 0o644); err != nil {
				t.Fatal(err)
			}
			if err := os.CopyFS(filepath.Join(dir, "src"), os.DirFS(filepath.Join(abs, "src"))); err != nil {
				t.Fatal(err)
			}
			cfg, diags := lang.LoadDir(dir)
			p := Plan(cfg, diags, Options{NoCache: true})
			for _, d := range p.Diagnostics {
				if d.Code == c.code && d.Severity == diag.Error && strings.Contains(d.Detail, c.detail) && d.Subject != nil {
					return
				}
			}
			t.Errorf("no %s error naming %q:\n%s", c.code, c.detail, p.Diagnostics.String())
		})
	}
}

// TestModuleOnlyAsBuild loads a module that the kernel's modules folder
// lacks and only a module_build has: module_load finds it, by its build or
// without one (the first module_build of the module).
func TestModuleOnlyAsBuild(t *testing.T) {
	abs := mustAbs(t, "../../examples/module-builds")
	text := `kernel "k" {
  release = "6.1.0-56-amd64"
  modules = "` + filepath.Join(filepath.Dir(filepath.Dir(abs)), "kernels/6.1.0-56-amd64/modules") + `"
  module_build "one" {
    module = "klpc_probe"
    path   = "` + abs + `/builds/1.0"
  }
}
fix "f" {
  source = "f.c"
  object "klpc_probe" {
    func "klpc_probe_alpha" {
      new = "klpc_ssthresh"
    }
  }
}
livepatch "lp" {
  kernels = [kernel.k]
  fixes   = [fix.f]
}
deploy "by-build" {
  kernel = kernel.k
  step "module_load" {
    module = "klpc_probe"
    build  = "one"
  }
  step "load" {
    livepatch = livepatch.lp
  }
}
deploy "default" {
  kernel  = kernel.k
  modules = ["klpc_probe"]
  step "load" {
    livepatch = livepatch.lp
  }
  step "module_unload" {
    module = "klpc_probe"
  }
  step "module_load" {
    module = "klpc_probe"
  }
}
`
	c, diags := lang.LoadDir(writeDir(t, text))
	p := Plan(c, diags, Options{NoCache: true})
	if p.HasErrors() {
		t.Fatal(p.Diagnostics.String())
	}
	for _, d := range p.Deployments {
		for _, s := range d.Steps {
			if !s.OK {
				t.Errorf("%s step %d refused: %s", d.Name, s.Index, s.Reason)
			}
			if got := s.Functions.Impl("klpc_probe:klpc_probe_alpha").String(); got != "lp:klpc_ssthresh" && got != "absent" && got != "original" {
				t.Errorf("%s step %d: alpha runs %s", d.Name, s.Index, got)
			}
		}
	}
}

// TestUnreadableBuildReported: a module_build that cannot be read is an
// error at its declaration even when a lookup read it first (here the
// search for a module only module_builds have, which passes over it to
// the next build).
func TestUnreadableBuildReported(t *testing.T) {
	abs := mustAbs(t, "../../examples/module-builds")
	text := `kernel "k" {
  release = "6.1.0-56-amd64"
  modules = "` + filepath.Join(filepath.Dir(filepath.Dir(abs)), "kernels/6.1.0-56-amd64/modules") + `"
  module_build "gone" {
    module = "klpc_probe"
    path   = "` + abs + `/builds/none"
  }
  module_build "one" {
    module = "klpc_probe"
    path   = "` + abs + `/builds/1.0"
  }
}
fix "f" {
  source = "f.c"
  object "klpc_probe" {
    func "klpc_probe_alpha" {
      new = "klpc_ssthresh"
    }
  }
}
livepatch "lp" {
  kernels = [kernel.k]
  fixes   = [fix.f]
}
`
	c, diags := lang.LoadDir(writeDir(t, text))
	p := Plan(c, diags, Options{NoCache: true})
	n := 0
	for _, d := range p.Diagnostics {
		if d.Code == diag.ModuleBuildUnreadable {
			n++
			if !strings.Contains(d.Detail, `Module build "gone"`) {
				t.Errorf("detail %q", d.Detail)
			}
		}
	}
	if n != 1 {
		t.Errorf("%d module-build-unreadable errors, want 1:\n%s", n, p.Diagnostics.String())
	}
}
