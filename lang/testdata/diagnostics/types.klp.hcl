kernel "k" {
  release = "" # ERROR: Invalid kernel release
  arch    = "aarch64" # ERROR: Unsupported architecture
}

fix "f" {
  object "vmlinux" {
    func "cmdline_proc_show" {
      new    = "a"
      sympos = -1 # ERROR: Invalid sympos
    }
    func "version_proc_show" {
      new    = "b"
      sympos = 1.5 # ERROR: Invalid sympos
    }
    func "meminfo_proc_show" {
      new    = "c"
      sympos = "two" # ERROR: Incorrect attribute value type
    }
    func "loadavg_proc_show" {
      new    = "d"
      sympos = 1
      file   = "fs/proc/loadavg.c" # ERROR: Conflicting symbol selectors
    }
  }
  state "zero" {
    id      = 0 # ERROR: Invalid state id
    version = -2 # ERROR: Invalid version
  }
}

fix "empty" { # ERROR: Fix changes nothing
}

fix "empty-object" {
  object "vmlinux" { # ERROR: Empty object
  }
}

livepatch "lp" {
  replace = "yes please" # ERROR: Unsuitable value type
  layout  = "split" # ERROR: Invalid layout
  kernels = [kernel.k]
  fixes   = [fix.f]
}

deploy "d" {
  kernel  = kernel.k
  modules = ["nfsd", "vmlinux"] # ERROR: Invalid module name
  step "load" {
    livepatch = livepatch.lp
    expect    = "maybe" # ERROR: Invalid expect value
    module    = "nfsd" # ERROR: Unexpected argument
  }
  step "module_unload" {
    module    = "nfs-server" # ERROR: Invalid module name
    livepatch = livepatch.lp # ERROR: Unexpected argument
  }
}

fix "more" {
  source = "" # ERROR: Empty path
  object "vmlinux" {
    func "version_proc_show" {
      new  = "v"
      file = "" # ERROR: Empty file selector
    }
    symbol "saved_command_line" {}
    symbol "saved_command_line" {} # ERROR: Duplicate symbol
    symbol "9lives" {} # ERROR: Invalid symbol name
  }
}

livepatch "no-kernels" {
  kernels = [] # ERROR: No kernels
  fixes   = [fix.more]
}

fix "bad-expressions" {
  object "vmlinux" {
    func "uptime_proc_show" {
      new = "u"
    }
  }
  state "s" {
    id      = 3
    version = !2 # ERROR: Invalid operand
  }
}
