kernel "k" {
  release = "6.1.0-56-amd64"
  module_build "a" {
    module = "klpc_probe"
    path   = "a.ko"
  }
  module_build "a" { # ERROR: duplicate-module-build
    module = "klpc_probe"
    path   = "b.ko"
  }
  module_build "v" {
    module = "vmlinux" # ERROR: invalid-module-name
    path   = "v.ko"
  }
  module_build "m" { # ERROR: missing-argument
    module = "klpc_probe"
  }
  module_build "n" {
    module = "klpc_probe"
    path   = "n.ko"
    build  = "x" # ERROR: unsupported-argument
  }
}

fix "f" {
  object "klpc_probe" {
    func "klpc_probe_alpha" {
      new = "a"
    }
  }
}

livepatch "lp" {
  kernels       = [kernel.k]
  fixes         = [fix.f]
  module_builds = ["a", "a"] # ERROR: duplicate-reference
}

livepatch "lp2" {
  kernels       = [kernel.k]
  fixes         = [fix.f]
  module_builds = "a" # ERROR: type-mismatch
}

deploy "d" {
  kernel = kernel.k
  step "load" {
    livepatch = livepatch.lp
    build     = "a" # ERROR: unexpected-argument
  }
  step "module_load" {
    module = "klpc_probe"
    build  = ["a"] # ERROR: type-mismatch
  }
}
