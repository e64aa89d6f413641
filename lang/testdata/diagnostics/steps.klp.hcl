kernel "k" {
  release = "6.1.0-56-amd64"
}

fix "f" {
  object "vmlinux" {
    func "cmdline_proc_show" {
      new = "klpc_cmdline"
    }
  }
}

livepatch "lp" {
  kernels = [kernel.k]
  fixes   = [fix.f]
}

deploy "d" {
  kernel = kernel.k
  step "block" {
    task     = "t1"
    function = "klpc_probe:klpc_probe_sleep"
  }
  step "block" { # ERROR: missing-argument
    task = "t2"
  }
  step "block" {
    task     = "t-3" # ERROR: invalid-name
    function = "no_colon" # ERROR: invalid-symbol-name
  }
  step "release" {
    task      = "t1"
    livepatch = livepatch.lp # ERROR: unexpected-argument
  }
  step "load" {
    livepatch         = livepatch.lp
    pre_patch_returns = "ENODEV"
  }
  step "load" {
    livepatch         = livepatch.lp
    pre_patch_returns = "ENOSUCH" # ERROR: invalid-number
  }
  step "disable" {
    livepatch         = livepatch.lp
    pre_patch_returns = "0" # ERROR: unexpected-argument
  }
  step "enable" {
    livepatch = livepatch.lp
  }
  step "force" { # ERROR: missing-argument
  }
  step "module_load" {
    module            = "nfsd"
    pre_patch_returns = "0"
  }
}
