kernel "k" {
  release = "6.1.0-56-amd64"
  flavour = "cloud" # ERROR: Unsupported argument
}

kernels "k2" { # ERROR: Unsupported block type
}

fix "f" {
  object "vmlinux" {
    func "cmdline_proc_show" { # ERROR: Missing required argument
      sympos = 0
    }
  }
}

livepatch "lp" { # ERROR: Missing required argument
  kernels = [kernel.k]
}

deploy "d" {
  kernel = kernel.k
  step "load" { # ERROR: Missing required argument
  }
  step "module_load" { # ERROR: Missing required argument
  }
  step "reboot" { # ERROR: Unknown step action
  }
}
