# One fix, one release, one deployment on Debian 12's 6.1.0-56-amd64 kernel,
# whose real symbols ship in ../../kernels.

kernel "deb12-56" {
  release  = "6.1.0-56-amd64"
  arch     = "x86_64"
  kallsyms = "../../kernels/6.1.0-56-amd64/kallsyms.gz"
  ftrace   = "../../kernels/6.1.0-56-amd64/available_filter_functions.gz"
  modules  = "../../kernels/6.1.0-56-amd64/modules"
  symvers  = "../../kernels/6.1.0-56-amd64/Module.symvers.gz"
  headers  = "/usr/src/linux-headers-6.1.0-56-amd64"
}

fix "cmdline-banner" {
  description = "/proc/cmdline: say that the kernel is live patched"
  source      = "src/cmdline.c"
  patch       = "patches/cmdline-banner.patch"

  object "vmlinux" {
    func "cmdline_proc_show" {
      new = "klpc_cmdline_proc_show"
    }
  }
}

livepatch "lp-quickstart" {
  description = "The first release"
  kernels     = [kernel.deb12-56]
  fixes       = [fix.cmdline-banner]
}

deploy "lab" {
  kernel = kernel.deb12-56

  step "load" {
    livepatch = livepatch.lp-quickstart
  }
  step "disable" {
    livepatch = livepatch.lp-quickstart
  }
  step "unload" {
    livepatch = livepatch.lp-quickstart
  }
}
