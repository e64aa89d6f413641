# Three fixes, shipped by cumulative releases.

fix "cve-cmdline" {
  description = "/proc/cmdline"
  source      = "src/cmdline.c"
  object "vmlinux" {
    func "cmdline_proc_show" {
      new = "klpc_cmdline_proc_show"
    }
  }
}

fix "cve-version" {
  description = "/proc/version"
  source      = "src/version.c"
  object "vmlinux" {
    func "version_proc_show" {
      new = "klpc_version_proc_show"
    }
  }
}

fix "cve-meminfo" {
  description = "/proc/meminfo"
  source      = "src/meminfo.c"
  object "vmlinux" {
    func "meminfo_proc_show" {
      new = "klpc_meminfo_proc_show"
    }
  }
}
