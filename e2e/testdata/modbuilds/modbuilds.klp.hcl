# Two builds of the probe module (e2e/modbuilds_test.go): the kernel's own,
# and "fixed", which the test adds to the kernel block as a module_build:
# the probe with a new static function, klpc_probe_b(). The release below
# is made for the fixed build: its replacement calls klpc_probe_b() through
# a klp relocation, which klp_resolve_symbols looks up in whichever build
# is loaded.

fix "beta-b" {
  source = "src/klpc_beta_b.c"
  object "klpc_probe" {
    func "klpc_probe_beta" {
      new = "klpc_beta_b"
    }
    symbol "klpc_probe_b" {}
  }
}

livepatch "mb-b" {
  kernels       = [kernel.deb12-56]
  fixes         = [fix.beta-b]
  module_builds = ["fixed"]
}

# The livepatch first, the module after: the kernel's own build is refused
# when it comes (klp_module_coming -> klp_init_object_loaded cannot resolve
# klpc_probe_b: EINVAL), the fixed build is patched as it loads.
deploy "module-builds" {
  kernel = kernel.deb12-56
  step "load" {
    livepatch = livepatch.mb-b
  }
  step "module_load" {
    module = "klpc_probe"
    expect = "refused"
  }
  step "module_load" {
    module = "klpc_probe"
    build  = "fixed"
  }
  step "disable" {
    livepatch = livepatch.mb-b
  }
  step "unload" {
    livepatch = livepatch.mb-b
  }
  step "module_unload" {
    module = "klpc_probe"
  }
}

# The module first: on the kernel's own build the livepatch is refused
# (klp_enable_patch -> klp_init_object_loaded: EINVAL); on the fixed build
# it loads and its replacement calls klpc_probe_b().
deploy "module-builds-order" {
  kernel = kernel.deb12-56
  step "module_load" {
    module = "klpc_probe"
  }
  step "load" {
    livepatch = livepatch.mb-b
    expect    = "refused"
  }
  step "module_unload" {
    module = "klpc_probe"
  }
  step "module_load" {
    module = "klpc_probe"
    build  = "fixed"
  }
  step "load" {
    livepatch = livepatch.mb-b
  }
  step "disable" {
    livepatch = livepatch.mb-b
  }
  step "unload" {
    livepatch = livepatch.mb-b
  }
  step "module_unload" {
    module = "klpc_probe"
  }
}
