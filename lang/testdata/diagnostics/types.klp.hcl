kernel "k" {
  release = "" # ERROR: invalid-release
  arch    = "aarch64" # ERROR: unsupported-arch
}

fix "f" {
  object "vmlinux" {
    func "cmdline_proc_show" {
      new    = "a"
      sympos = -1 # ERROR: invalid-number
    }
    func "version_proc_show" {
      new    = "b"
      sympos = 1.5 # ERROR: invalid-number
    }
    func "meminfo_proc_show" {
      new    = "c"
      sympos = "two" # ERROR: type-mismatch
    }
    func "loadavg_proc_show" {
      new    = "d"
      sympos = 1
      file   = "fs/proc/loadavg.c" # ERROR: conflicting-selectors
    }
  }
  state "zero" {
    id      = 0 # ERROR: invalid-number
    version = -2 # ERROR: invalid-number
  }
  state "truncated" {
    id      = 7
    version = 4294967296 # ERROR: invalid-number
  }
  state "widest" {
    id      = 8
    version = 4294967295
  }
}

fix "empty" { # ERROR: fix-changes-nothing
}

fix "empty-object" {
  object "vmlinux" { # ERROR: empty-object
  }
}

livepatch "lp" {
  replace = "yes please" # ERROR: type-mismatch
  layout  = "split" # ERROR: invalid-layout
  kernels = [kernel.k]
  fixes   = [fix.f]
}

deploy "d" {
  kernel  = kernel.k
  modules = ["nfsd", "vmlinux"] # ERROR: invalid-module-name
  step "load" {
    livepatch = livepatch.lp
    expect    = "maybe" # ERROR: invalid-expect
    module    = "nfsd" # ERROR: unexpected-argument
  }
  step "module_unload" {
    module    = "nfs-server" # ERROR: invalid-module-name
    livepatch = livepatch.lp # ERROR: unexpected-argument
  }
}

fix "more" {
  source = "" # ERROR: empty-path
  object "vmlinux" {
    func "version_proc_show" {
      new  = "v"
      file = "" # ERROR: empty-file-selector
    }
    symbol "saved_command_line" {}
    symbol "saved_command_line" {} # ERROR: duplicate-symbol
    symbol "9lives" {} # ERROR: invalid-symbol-name
  }
}

livepatch "no-kernels" {
  kernels = [] # ERROR: no-kernels
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
    version = !2 # ERROR: invalid-expression
  }
}
