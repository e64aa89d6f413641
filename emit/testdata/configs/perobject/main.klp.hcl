# Per-object releases: one module per patched object, non-replace, and the
# upgrade from the first release to the second.

kernel "deb12-56" {
  release = "6.1.0-56-amd64"
  arch    = "x86_64"
  headers = "/usr/src/linux-headers-6.1.0-56-amd64"
  source  = "/usr/src/linux-source-6.1"
  config  = "/boot/config-6.1.0-56-amd64"
}

fix "cmdline" {
  description = "/proc/cmdline"
  source      = "src/cmdline.c"
  patch       = "patches/cmdline.patch"

  object "vmlinux" {
    func "cmdline_proc_show" {
      new = "klpc_cmdline_proc_show"
    }
    symbol "saved_command_line" {}
  }
  state "banner" {
    id      = 1
    version = 1
  }
}

fix "nfsd-stats" {
  source = "src/nfsd.c"
  patch  = "patches/nfsd-stats.patch"

  object "nfsd" {
    pre_patch    = "klpc_nfsd_pre_patch"
    post_unpatch = "klpc_nfsd_post_unpatch"
    func "nfsd_reply_cache_stats_show" {
      new = "klpc_nfsd_reply_cache_stats_show"
    }
    symbol "nfsd_net_id" {
      sympos = 1
    }
  }
}

fix "version" {
  source = "src/version.c"
  patch  = "patches/version.patch"

  object "vmlinux" {
    func "version_proc_show" {
      new = "klpc_version_proc_show"
    }
  }
}

livepatch "po-1" {
  description = "First per-object release"
  replace     = false
  layout      = "per-object"
  kernels     = [kernel.deb12-56]
  fixes       = [fix.cmdline, fix.nfsd-stats]
}

livepatch "combined" {
  kernels = [kernel.deb12-56]
  fixes   = [fix.cmdline]
}

livepatch "po-2" {
  replace = false
  layout  = "per-object"
  kernels = [kernel.deb12-56]
  fixes   = [fix.cmdline, fix.nfsd-stats, fix.version]
}
