package planner

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/klpc/klpc/diag"
	"github.com/klpc/klpc/lang"
	"github.com/klpc/klpc/plan"
)

// planFiles writes a configuration and the C files it names into a new
// folder and plans it.
func planFiles(t *testing.T, src string, cfiles ...string) *plan.Plan {
	t.Helper()
	dir := t.TempDir()
	for _, name := range cfiles {
		if err := os.WriteFile(filepath.Join(dir, name), []byte("/* replacement */\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	main := filepath.Join(dir, "main.klp.hcl")
	cfg, diags := lang.NewParser().LoadSources(dir, map[string][]byte{main: []byte(src)})
	if diags.HasErrors() {
		t.Fatalf("configuration: %s", diags.String())
	}
	return Plan(cfg, diags, Options{})
}

const probeFixes = `
kernel "k" {
  release = "6.1.0-56-amd64"
}
fix "sleep" {
  source = "sleep.c"
  object "klpc_probe" {
    func "klpc_probe_sleep" { new = "lp_sleep" }
    pre_patch  = "cb_pre_patch"
    post_patch = "cb_post_patch"
  }
}
livepatch "lp-a" {
  kernels = [kernel.k]
  fixes   = [fix.sleep]
}
livepatch "lp-b" {
  kernels = [kernel.k]
  fixes   = [fix.sleep]
}
`

// TestPendingTransition: a task sleeping in a patched function keeps the
// transition pending; another load is refused with EBUSY meanwhile, and
// releasing the task completes it. A task sleeping in the replacement
// keeps the unpatching pending; writing enabled reverses it; force
// completes it and the module can never be removed.
func TestPendingTransition(t *testing.T) {
	p := planFiles(t, probeFixes+`
deploy "pending" {
  kernel  = kernel.k
  modules = ["klpc_probe"]
  step "block" {
    task     = "t1"
    function = "klpc_probe:klpc_probe_sleep"
  }
  step "load" { livepatch = livepatch.lp-a }
  step "load" {
    livepatch = livepatch.lp-b
    expect    = "refused"
  }
  step "release" { task = "t1" }
  step "block" {
    task     = "t2"
    function = "klpc_probe:klpc_probe_sleep"
  }
  step "disable" { livepatch = livepatch.lp-a }
  step "enable" { livepatch = livepatch.lp-a }
  step "disable" { livepatch = livepatch.lp-a }
  step "force" { livepatch = livepatch.lp-a }
  step "unload" {
    livepatch = livepatch.lp-a
    expect    = "refused"
  }
}
`, "sleep.c")
	if p.HasErrors() {
		t.Fatalf("errors: %s", p.Diagnostics.String())
	}
	steps := p.Deployments[0].Steps
	key := "klpc_probe:klpc_probe_sleep"
	if tr := steps[1].Transition; tr == nil || tr.Target != "patched" || !slices.Equal(tr.Stuck, []string{"t1"}) || tr.Unswitched[key].Kind != plan.Original {
		t.Errorf("after load: transition %+v", tr)
	}
	if got := steps[1].Functions.Impl(key).String(); got != "lp-a:lp_sleep" {
		t.Errorf("after load, switched tasks run %s", got)
	}
	if steps[2].OK || steps[2].Errno != "EBUSY" {
		t.Errorf("second load: ok=%v errno=%s", steps[2].OK, steps[2].Errno)
	}
	if steps[3].Transition != nil || steps[3].Functions.Impl(key).String() != "lp-a:lp_sleep" {
		t.Errorf("release: transition %+v, runs %s", steps[3].Transition, steps[3].Functions.Impl(key))
	}
	if tr := steps[5].Transition; tr == nil || tr.Target != "unpatched" || !slices.Equal(tr.Stuck, []string{"t2"}) {
		t.Errorf("disable with t2 in the replacement: %+v", tr)
	}
	if steps[6].Transition != nil || steps[6].Functions.Impl(key).String() != "lp-a:lp_sleep" {
		t.Errorf("enable does not reverse the unpatching: %+v", steps[6].Transition)
	}
	if steps[7].Transition == nil || steps[8].Transition != nil || steps[8].Functions.Impl(key).String() != "original" {
		t.Errorf("force: before %+v, after %+v", steps[7].Transition, steps[8].Transition)
	}
	if steps[9].OK || steps[9].Errno != "EAGAIN" {
		t.Errorf("unload of a forced module: ok=%v errno=%s", steps[9].OK, steps[9].Errno)
	}
	if !slices.Contains(steps[1].Callbacks, "lp_a: pre_patch klpc_probe (MODULE_STATE_LIVE)") {
		t.Errorf("callbacks of the load: %v", steps[1].Callbacks)
	}
	if !slices.Contains(steps[3].Callbacks, "lp_a: post_patch klpc_probe (MODULE_STATE_LIVE)") {
		t.Errorf("callbacks when the transition completes: %v", steps[3].Callbacks)
	}
}

// TestPrePatchFailure: pre_patch returning an error refuses the load, and
// a module load while a loaded release's pre_patch fails.
func TestPrePatchFailure(t *testing.T) {
	p := planFiles(t, probeFixes+`
deploy "pre-patch" {
  kernel  = kernel.k
  modules = ["klpc_probe"]
  step "load" {
    livepatch         = livepatch.lp-a
    pre_patch_returns = "ENODEV"
  }
}
deploy "coming" {
  kernel = kernel.k
  step "load" { livepatch = livepatch.lp-a }
  step "module_load" {
    module            = "klpc_probe"
    pre_patch_returns = "ENODEV"
  }
}
`, "sleep.c")
	var errs []diag.Code
	for _, d := range p.Diagnostics {
		if d.Severity == diag.Error {
			errs = append(errs, d.Code)
		}
	}
	if len(errs) != 2 || errs[0] != diag.StepRefused || errs[1] != diag.StepRefused {
		t.Fatalf("want two refusals, got:\n%s", p.Diagnostics.String())
	}
	load := p.Deployments[0].Steps[0]
	if load.OK || load.Errno != "ENODEV" {
		t.Errorf("load with a failing pre_patch: ok=%v errno=%s", load.OK, load.Errno)
	}
	coming := p.Deployments[1].Steps[1]
	if coming.OK || !strings.Contains(strings.Join(coming.Callbacks, ";"), "pre_patch klpc_probe") {
		t.Errorf("module load with a failing pre_patch: ok=%v callbacks=%v", coming.OK, coming.Callbacks)
	}
}

// TestInitFunction: a patch on a module's __init function resolves only
// in the module's full symbol table: it applies when the module loads
// after the livepatch and is refused while the module is loaded.
func TestInitFunction(t *testing.T) {
	fixture, _ := filepath.Abs(filepath.Join("..", "..", "kernels", "6.1.0-56-amd64"))
	p := planFiles(t, `
kernel "k" {
  release  = "6.1.0-56-amd64"
  kallsyms = "`+fixture+`/kallsyms.gz"
  modules  = "`+fixture+`/modules"
}
fix "init" {
  source = "init.c"
  object "tcp_scalable" {
    func "tcp_scalable_register" { new = "klpc_register" }
  }
}
livepatch "lp" {
  kernels = [kernel.k]
  fixes   = [fix.init]
}
deploy "module-later" {
  kernel = kernel.k
  step "load" { livepatch = livepatch.lp }
  step "module_load" { module = "tcp_scalable" }
}
deploy "module-first" {
  kernel  = kernel.k
  modules = ["tcp_scalable"]
  step "load" {
    livepatch = livepatch.lp
    expect    = "refused"
  }
}
`, "init.c")
	if got := p.Diagnostics.Codes(); !slices.Equal(got, []diag.Code{diag.InitFunction}) {
		t.Fatalf("want one init-function warning, got:\n%s", p.Diagnostics.String())
	}
	later := p.Deployments[0].Steps[1]
	if !later.OK || later.Functions.Impl("tcp_scalable:tcp_scalable_register").String() != "lp:klpc_register" {
		t.Errorf("module loaded after the patch: ok=%v runs %s", later.OK, later.Functions.Impl("tcp_scalable:tcp_scalable_register"))
	}
	if first := p.Deployments[1].Steps[0]; first.OK || first.Errno != "EINVAL" {
		t.Errorf("patch loaded after the module: ok=%v errno=%s", first.OK, first.Errno)
	}
}

// TestLivepatchModuleObject: a fix may patch a replacement function of
// another release's livepatch module; it applies when that module loads,
// and the code that runs is the end of the chain.
func TestLivepatchModuleObject(t *testing.T) {
	p := planFiles(t, `
kernel "k" {
  release = "6.1.0-56-amd64"
}
fix "base" {
  source = "base.c"
  object "vmlinux" {
    func "cmdline_proc_show" { new = "base_cmdline" }
  }
}
fix "on-base" {
  source = "on.c"
  object "lp_base" {
    func "base_cmdline" { new = "better_cmdline" }
  }
}
livepatch "lp-base" {
  replace = false
  kernels = [kernel.k]
  fixes   = [fix.base]
}
livepatch "lp-on" {
  replace = false
  kernels = [kernel.k]
  fixes   = [fix.on-base]
}
deploy "chain" {
  kernel = kernel.k
  step "load" { livepatch = livepatch.lp-on }
  step "load" { livepatch = livepatch.lp-base }
  step "disable" { livepatch = livepatch.lp-on }
}
`, "base.c", "on.c")
	if p.HasErrors() {
		t.Fatalf("errors: %s", p.Diagnostics.String())
	}
	if got := p.Diagnostics.Codes(); !slices.Contains(got, diag.LivepatchModuleObject) {
		t.Errorf("no livepatch-module-object warning: %v", got)
	}
	steps := p.Deployments[0].Steps
	key := "vmlinux:cmdline_proc_show"
	if got := steps[0].Functions.Impl("lp_base:base_cmdline").String(); got != "absent" {
		t.Errorf("before lp-base loads its function is %s, want absent", got)
	}
	if got := steps[1].Functions.Impl(key).String(); got != "lp-on:better_cmdline" {
		t.Errorf("with both loaded %s runs %s, want the end of the chain", key, got)
	}
	if got := steps[2].Functions.Impl(key).String(); got != "lp-base:base_cmdline" {
		t.Errorf("after disabling lp-on %s runs %s", key, got)
	}
}

// TestSysfsNameCollision: two fixes spelling one function with sympos 0
// and 1 give the release two klp_funcs with one sysfs name; the module
// does not load: EEXIST on 6.1 and 6.12, EBUSY on 7.x.
func TestSysfsNameCollision(t *testing.T) {
	for line, errno := range map[string]string{"6.1": "EEXIST", "6.12": "EEXIST", "7.x": "EBUSY"} {
		p := planFiles(t, `
kernel "k" {
  release = "6.1.0-56-amd64"
  line    = "`+line+`"
}
fix "a" {
  source = "a.c"
  object "vmlinux" {
    func "cmdline_proc_show" { new = "klpc_cmdline" }
  }
}
fix "b" {
  source = "a.c"
  object "vmlinux" {
    func "cmdline_proc_show" {
      new    = "klpc_cmdline"
      sympos = 1
    }
  }
}
livepatch "lp" {
  kernels = [kernel.k]
  fixes   = [fix.a, fix.b]
}
deploy "d" {
  kernel = kernel.k
  step "load" {
    livepatch = livepatch.lp
    expect    = "refused"
  }
}
`, "a.c")
		if got := p.Diagnostics.Codes(); !slices.Contains(got, diag.DuplicateSysfsName) || p.HasErrors() {
			t.Errorf("%s: diagnostics:\n%s", line, p.Diagnostics.String())
		}
		if s := p.Deployments[0].Steps[0]; s.OK || s.Errno != errno {
			t.Errorf("%s: load ok=%v errno=%s, want %s", line, s.OK, s.Errno, errno)
		}
		if n := len(p.Livepatches[0].Builds[0].Modules[0].Objects[0].Funcs); n != 2 {
			t.Errorf("%s: %d klp_funcs, want 2", line, n)
		}
	}
}
