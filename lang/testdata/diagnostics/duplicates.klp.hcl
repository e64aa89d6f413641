kernel "k" {
  release = "6.1.0-56-amd64"
}

kernel "k" { # ERROR: duplicate-declaration
  release = "6.1.0-47-amd64"
}

fix "f" {
  object "vmlinux" {
    func "cmdline_proc_show" {
      new = "a"
    }
    func "cmdline_proc_show" { # ERROR: duplicate-function
      new    = "b"
      sympos = 1
    }
  }
  object "vmlinux" { # ERROR: duplicate-object
    func "version_proc_show" {
      new = "c"
    }
  }
  state "s1" {
    id      = 1
    version = 1
  }
  state "s2" {
    id      = 1 # ERROR: duplicate-state-id
    version = 2
  }
}

fix "f" { # ERROR: duplicate-declaration
  object "vmlinux" {
    func "meminfo_proc_show" {
      new = "d"
    }
  }
}

livepatch "lp-a" {
  kernels = [kernel.k, kernel.k] # ERROR: duplicate-reference
  fixes   = [fix.f]
}

livepatch "lp_a" { # ERROR: module-name-collision
  kernels = [kernel.k]
  fixes   = [fix.f]
  drops   = [fix.f] # ERROR: fix-carried-and-dropped
}

livepatch "lp-a" { # ERROR: duplicate-declaration
  kernels = [kernel.k]
  fixes   = [fix.f]
}

deploy "d" {
  kernel = kernel.k
}

deploy "d" { # ERROR: duplicate-declaration
  kernel = kernel.k
}
