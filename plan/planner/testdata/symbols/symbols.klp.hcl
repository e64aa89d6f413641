# Resolution against the real symbols of Debian's 6.1.0-56-amd64 (the
# fixtures in kernels/6.1.0-56-amd64).

kernel "deb12-56" {
  release  = "6.1.0-56-amd64"
  kallsyms = "../../../../kernels/6.1.0-56-amd64/kallsyms.gz"
  ftrace   = "../../../../kernels/6.1.0-56-amd64/available_filter_functions.gz"
  modules  = "../../../../kernels/6.1.0-56-amd64/modules"
  symvers  = "../../../../kernels/6.1.0-56-amd64/Module.symvers.gz"
}

kernel "modules-only" { # WARNING: no-vmlinux-symbols
  release = "6.1.0-56-amd64"
  modules = "../../../../kernels/6.1.0-56-amd64/modules"
}

kernel "broken" {
  release  = "6.1.0-56-amd64"
  kallsyms = "no-such-kallsyms.gz" # ERROR: kernel-unreadable
}

fix "good" {
  object "vmlinux" {
    func "cmdline_proc_show" {
      new = "a"
    }
    func "__send_ipi_mask" {
      new    = "b"
      sympos = 2
    }
    symbol "saved_command_line" {}
    symbol "_printk" {} # WARNING: symbol-exported
  }
}

fix "bad" {
  object "vmlinux" {
    func "cmdline_proc_shw" { # ERROR: symbol-not-found
      new = "a"
    }
    func "__send_ipi_mask" { # ERROR: symbol-ambiguous
      new = "b"
    }
    func "__x2apic_send_IPI_mask" { # ERROR: sympos-not-found
      new    = "c"
      sympos = 3
    }
    func "saved_command_line" { # ERROR: not-a-function
      new = "d"
    }
    func "native_write_cr0" { # ERROR: not-traceable
      new = "e"
    }
    func "version_proc_show" {
      new  = "f"
      file = "fs/proc/version.c" # ERROR: file-select-failed
    }
  }
}

fix "nfsd" {
  object "nfsd" {
    func "nfsd_open" {
      new = "n"
    }
  }
}

livepatch "lp-good" {
  kernels = [kernel.deb12-56]
  fixes   = [fix.good]
}

livepatch "lp-bad" {
  kernels = [kernel.deb12-56]
  fixes   = [fix.bad]
}

livepatch "lp-nfsd" {
  kernels = [kernel.deb12-56] # ERROR: object-not-in-kernel
  fixes   = [fix.nfsd]
}

deploy "good" {
  kernel  = kernel.deb12-56
  modules = ["nfsd"] # ERROR: module-not-in-kernel
  step "load" {
    livepatch = livepatch.lp-good
  }
}

deploy "bad" {
  kernel = kernel.deb12-56
  step "load" { # ERROR: step-refused
    livepatch = livepatch.lp-bad
  }
  step "load" {
    livepatch = livepatch.lp-bad
    expect    = "refused"
  }
  step "module_load" {
    module = "nfsd"
    expect = "refused"
  }
}

fix "virtio" {
  object "virtio_pci" {
    func "vp_get" {
      new    = "klpc_vp_get"
      sympos = 2
    }
    symbol "virtio_pci_config_ops" { # WARNING: relocations-once
      sympos = 1
    }
  }
}

livepatch "lp-virtio" {
  replace = false
  kernels = [kernel.deb12-56]
  fixes   = [fix.virtio]
}

# The module's relocations were written when it first loaded: 6.1 refuses
# to write them again.
deploy "virtio-reload" {
  kernel = kernel.deb12-56
  step "load" {
    livepatch = livepatch.lp-virtio
  }
  step "module_load" {
    module = "virtio_pci"
  }
  step "module_unload" {
    module = "virtio_pci"
  }
  step "module_load" {
    module = "virtio_pci"
    expect = "refused"
  }
  step "disable" {
    livepatch = livepatch.lp-virtio
  }
  step "module_load" {
    module = "virtio_pci"
  }
}
