kernel "k" {
  release = "6.1.0-56-amd64"
}

kernel "k" { # ERROR: Duplicate kernel
  release = "6.1.0-47-amd64"
}

fix "f" {
  object "vmlinux" {
    func "cmdline_proc_show" {
      new = "a"
    }
    func "cmdline_proc_show" { # ERROR: Duplicate function
      new    = "b"
      sympos = 1
    }
  }
  object "vmlinux" { # ERROR: Duplicate object
    func "version_proc_show" {
      new = "c"
    }
  }
  state "s1" {
    id      = 1
    version = 1
  }
  state "s2" {
    id      = 1 # ERROR: Duplicate state id
    version = 2
  }
}

fix "f" { # ERROR: Duplicate fix
  object "vmlinux" {
    func "meminfo_proc_show" {
      new = "d"
    }
  }
}

livepatch "lp-a" {
  kernels = [kernel.k, kernel.k] # ERROR: Duplicate reference
  fixes   = [fix.f]
}

livepatch "lp_a" { # ERROR: Livepatch module names collide
  kernels = [kernel.k]
  fixes   = [fix.f]
  drops   = [fix.f] # ERROR: Fix both carried and dropped
}

livepatch "lp-a" { # ERROR: Duplicate livepatch
  kernels = [kernel.k]
  fixes   = [fix.f]
}

deploy "d" {
  kernel = kernel.k
}

deploy "d" { # ERROR: Duplicate deploy
  kernel = kernel.k
}
