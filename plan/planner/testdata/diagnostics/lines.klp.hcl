# Kernel lines, livepatch modules as objects and sympos spellings. No
# symbol files: sympos is taken as written.

kernel "old" { # WARNING: kernel-without-symbols
  release = "6.5.0-1-amd64" # WARNING: line-not-verified
}

kernel "named" { # WARNING: kernel-without-symbols
  release = "6.1.0-56-amd64"
  line    = "5.4" # ERROR: unknown-line
}

kernel "k" { # WARNING: kernel-without-symbols
  release = "6.12.117+deb12-amd64"
}

fix "base" {
  object "vmlinux" {
    func "cmdline_proc_show" { new = "base_cmdline" }
  }
}

fix "spelled-1" {
  object "vmlinux" {
    func "cmdline_proc_show" { # WARNING: duplicate-sysfs-name
      new    = "other_cmdline"
      sympos = 1
    }
  }
}

fix "on-base" {
  object "lp_base" {
    func "base_cmdline" { new = "better_cmdline" } # WARNING: livepatch-module-object
  }
}

livepatch "lp-base" {
  kernels = [kernel.k, kernel.old, kernel.named]
  fixes   = [fix.base]
}

livepatch "lp-on" {
  replace = false
  kernels = [kernel.k]
  fixes   = [fix.on-base]
}

livepatch "both-spellings" {
  kernels = [kernel.k]
  fixes   = [fix.base, fix.spelled-1]
}

deploy "spellings" {
  kernel = kernel.k
  step "load" {
    livepatch = livepatch.both-spellings
    expect    = "refused"
  }
}
