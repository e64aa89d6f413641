# Module builds: the two real builds of klpc_probe of examples/module-builds,
# which the kernel's modules folder lacks, and a file of another module.

kernel "k" { # WARNING: no-vmlinux-symbols
  release = "6.1.0-56-amd64"
  modules = "../../../../kernels/6.1.0-56-amd64/modules"
  module_build "first" { # WARNING: module-build-differs | module-build-differs | module-build-differs | module-build-differs
    module = "klpc_probe"
    path   = "../../../../examples/module-builds/builds/1.0"
  }
  module_build "fixed" {
    module = "klpc_probe"
    path   = "../../../../examples/module-builds/builds/fixed/klpc_probe.ko"
  }
  module_build "wrong" { # ERROR: module-build-unreadable
    module = "klpc_probe"
    path   = "../../../../kernels/6.1.0-56-amd64/modules/virtio_pci.ko.xz"
  }
}

fix "b" {
  object "klpc_probe" {
    func "klpc_probe_beta" {
      new = "beta_b"
    }
    symbol "klpc_probe_b" {} # ERROR: symbol-not-found | symbol-not-found
  }
}

# The same, for the releases restricted to the fixed build.
fix "b-fixed" {
  object "klpc_probe" {
    func "klpc_probe_beta" {
      new = "beta_b"
    }
    symbol "klpc_probe_b" {} # WARNING: relocations-once | relocations-once | relocations-once
  }
}

# Not restricted: resolved in the first build, which lacks klpc_probe_b.
livepatch "any" {
  kernels = [kernel.k]
  fixes   = [fix.b]
}

livepatch "for-fixed" {
  kernels       = [kernel.k]
  fixes         = [fix.b-fixed]
  module_builds = ["fixed"]
}

livepatch "unknown" {
  kernels       = [kernel.k]
  fixes         = [fix.b]
  module_builds = ["nope"] # ERROR: unknown-module-build
}

livepatch "both" {
  kernels       = [kernel.k]
  fixes         = [fix.b-fixed]
  module_builds = ["fixed", "first"] # ERROR: module-builds-conflict
}

deploy "d" {
  kernel = kernel.k
  step "module_load" {
    module = "klpc_probe"
    build  = "elsewhere" # ERROR: unknown-module-build
  }
}

# A kernel whose own build of klpc_probe is the first build: a release made
# for the fixed build is refused on it.
kernel "own" { # WARNING: no-vmlinux-symbols
  release = "6.1.0-56-amd64"
  modules = "../../../../examples/module-builds/builds/1.0"
  module_build "fixed" {
    module = "klpc_probe"
    path   = "../../../../examples/module-builds/builds/fixed"
  }
}

livepatch "own-fixed" {
  kernels       = [kernel.own]
  fixes         = [fix.b-fixed]
  module_builds = ["fixed"] # WARNING: module-build-differs
}
