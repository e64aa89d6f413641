kernel "deb12" {
  release = "6.1.0-56-amd64"
}

fix "cve-1" {
  object "vmlinux" {
    func "cmdline_proc_show" {
      new = "a"
    }
  }
}

livepatch "lp" {
  kernels = [kernel.deb13] # ERROR: Reference to undeclared kernel
  fixes   = [fix.cve-2]    # ERROR: Reference to undeclared fix
  drops   = [kernel.deb12] # ERROR: Invalid reference
}

livepatch "lp2" {
  kernels = kernel.deb12 # ERROR: Invalid reference list
  fixes   = []           # ERROR: No fixes
}

deploy "d" {
  kernel = "deb12" # ERROR: Invalid reference
  step "load" {
    livepatch = livepatch.lp3 # ERROR: Reference to undeclared livepatch
  }
}
