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
  kernels = [kernel.deb13] # ERROR: undeclared-reference
  fixes   = [fix.cve-2]    # ERROR: undeclared-reference
  drops   = [kernel.deb12] # ERROR: invalid-reference
}

livepatch "lp2" {
  kernels = kernel.deb12 # ERROR: invalid-reference
  fixes   = []           # ERROR: no-fixes
}

deploy "d" {
  kernel = "deb12" # ERROR: invalid-reference
  step "load" {
    livepatch = livepatch.lp3 # ERROR: undeclared-reference
  }
}
