# Each release replaces the one before. The third one forgets cve-version:
# loading it would put /proc/version back on the original, unfixed code.

livepatch "lp-2024-05" {
  kernels = [kernel.deb12-56]
  fixes   = [fix.cve-cmdline]
}

livepatch "lp-2024-06" {
  kernels = [kernel.deb12-56]
  fixes   = [fix.cve-cmdline, fix.cve-version]
}

livepatch "lp-2024-07" {
  kernels = [kernel.deb12-56]
  fixes   = [fix.cve-cmdline, fix.cve-meminfo]
}

deploy "fleet" {
  kernel = kernel.deb12-56

  step "load" {
    livepatch = livepatch.lp-2024-05
  }
  step "load" {
    livepatch = livepatch.lp-2024-06
  }
  step "unload" {
    livepatch = livepatch.lp-2024-05
  }
  step "load" {
    livepatch = livepatch.lp-2024-07
  }
  step "unload" {
    livepatch = livepatch.lp-2024-06
  }
}
