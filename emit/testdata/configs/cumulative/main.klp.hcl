# Cumulative releases without errors: each replaces the one before and
# carries every fix, or says which one it drops. Two kernels, one without
# headers; one fix without a patch file.

kernel "deb12-56" {
  release = "6.1.0-56-amd64"
  headers = "/usr/src/linux-headers-6.1.0-56-amd64"
  config  = "/srv/kernels/6.1.0-56-amd64/config"
}

kernel "deb12-50" {
  release = "6.1.0-50-amd64"
}

fix "cve-cmdline" {
  source = "src/cmdline.c"
  patch  = "patches/cve-cmdline.patch"
  object "vmlinux" {
    func "cmdline_proc_show" {
      new = "klpc_cmdline_proc_show"
    }
  }
}

fix "cve-version" {
  source = "src/version.c"
  patch  = "patches/cve-version.patch"
  object "vmlinux" {
    func "version_proc_show" {
      new = "klpc_version_proc_show"
    }
  }
}

fix "cve-meminfo" {
  source = "src/meminfo.c"
  object "vmlinux" {
    func "meminfo_proc_show" {
      new = "klpc_meminfo_proc_show"
    }
  }
}

livepatch "lp-2024-05" {
  kernels = [kernel.deb12-56, kernel.deb12-50]
  fixes   = [fix.cve-cmdline]
}

livepatch "lp-2024-06" {
  kernels = [kernel.deb12-56, kernel.deb12-50]
  fixes   = [fix.cve-cmdline, fix.cve-version]
}

livepatch "lp-2024-07" {
  description = "Drops \"cve-version\" on purpose"
  license     = "GPL v2"
  kernels     = [kernel.deb12-56]
  fixes       = [fix.cve-cmdline, fix.cve-meminfo]
  drops       = [fix.cve-version]
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
