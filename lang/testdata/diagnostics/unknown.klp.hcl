kernel "k" {
  release = "6.1.0-56-amd64"
  flavour = "cloud" # ERROR: unsupported-argument
}

kernels "k2" { # ERROR: unsupported-block
}

fix "f" {
  object "vmlinux" {
    func "cmdline_proc_show" { # ERROR: missing-argument
      sympos = 0
    }
  }
}

livepatch "lp" { # ERROR: missing-argument
  kernels = [kernel.k]
}

deploy "d" {
  kernel = kernel.k
  step "load" { # ERROR: missing-argument
  }
  step "module_load" { # ERROR: missing-argument
  }
  step "reboot" { # ERROR: unknown-action
  }
}
