# Two builds of one module, klpc_probe (the probe module of klpc's
# real-kernel tests, an out-of-tree module: it is not in the kernel's
# modules folder, only in its module builds). builds/1.0 is the module as
# first shipped; builds/fixed is a fixed build put on disk later, with a new
# static helper, klpc_probe_b(). A host may run either. Both are real .ko
# files built for 6.1.0-56-amd64 (scripts/make-modbuild-fixtures.sh).

kernel "deb12-56" {
  release  = "6.1.0-56-amd64"
  kallsyms = "../../kernels/6.1.0-56-amd64/kallsyms.gz"
  ftrace   = "../../kernels/6.1.0-56-amd64/available_filter_functions.gz"
  symvers  = "../../kernels/6.1.0-56-amd64/Module.symvers.gz"
  modules  = "../../kernels/6.1.0-56-amd64/modules"
  headers  = "/usr/src/linux-headers-6.1.0-56-amd64"

  module_build "probe-1.0" {
    module = "klpc_probe"
    path   = "builds/1.0"
  }

  module_build "probe-fixed" {
    module = "klpc_probe"
    path   = "builds/fixed/klpc_probe.ko"
  }
}

fix "beta-log" {
  description = "klpc_probe_beta: answer with the release's name"
  source      = "src/beta.c"

  object "klpc_probe" {
    func "klpc_probe_beta" {
      new = "klpc_beta_log"
    }
  }
}

fix "beta-b" {
  description = "klpc_probe_beta: call the fixed build's klpc_probe_b()"
  source      = "src/beta_b.c"

  object "klpc_probe" {
    func "klpc_probe_beta" {
      new = "klpc_beta_b"
    }
    symbol "klpc_probe_b" {}
  }
}

# Resolved against both builds: the function is the same in each.
livepatch "lp-beta" {
  kernels = [kernel.deb12-56]
  fixes   = [fix.beta-log]
}

# Made for the fixed build only: klpc_probe_b is in no other build.
livepatch "lp-beta-b" {
  kernels       = [kernel.deb12-56]
  fixes         = [fix.beta-b]
  module_builds = ["probe-fixed"]
}

# A host running the first build: lp-beta loads, lp-beta-b is refused
# (klp_find_object_symbol finds no klpc_probe_b: EINVAL).
deploy "on-first-build" {
  kernel = kernel.deb12-56

  step "module_load" {
    module = "klpc_probe"
    build  = "probe-1.0"
  }
  step "load" {
    livepatch = livepatch.lp-beta
  }
  step "load" {
    livepatch = livepatch.lp-beta-b
    expect    = "refused"
  }
}

# A host running the fixed build: both load, lp-beta-b replacing lp-beta.
deploy "on-fixed" {
  kernel = kernel.deb12-56

  step "module_load" {
    module = "klpc_probe"
    build  = "probe-fixed"
  }
  step "load" {
    livepatch = livepatch.lp-beta
  }
  step "load" {
    livepatch = livepatch.lp-beta-b
  }
}

# lp-beta-b loaded before the module: the kernel refuses the first build
# when it comes (klp_module_coming), and patches the fixed build as it
# loads.
deploy "livepatch-first" {
  kernel = kernel.deb12-56

  step "load" {
    livepatch = livepatch.lp-beta-b
  }
  step "module_load" {
    module = "klpc_probe"
    build  = "probe-1.0"
    expect = "refused"
  }
  step "module_load" {
    module = "klpc_probe"
    build  = "probe-fixed"
  }
}
