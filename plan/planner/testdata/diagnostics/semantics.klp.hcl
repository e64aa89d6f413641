# Each check of the planner, triggered once. No symbol files: sympos is
# taken as written.

kernel "k" { # WARNING: kernel-without-symbols
  release = "6.1.0-56-amd64"
}

kernel "other" { # WARNING: kernel-without-symbols
  release = "6.1.0-47-amd64"
}

fix "a" {
  object "vmlinux" {
    func "cmdline_proc_show" {
      new = "a_cmdline"
    }
  }
  state "loglevel" {
    id      = 1
    version = 2
  }
}

fix "b" {
  object "vmlinux" {
    func "version_proc_show" {
      new = "b_version"
    }
  }
}

fix "a-again" {
  object "vmlinux" {
    func "cmdline_proc_show" { # ERROR: function-patched-twice
      new = "other_cmdline"
    }
  }
}

fix "a-same" {
  object "vmlinux" {
    func "cmdline_proc_show" {
      new = "a_cmdline"
    }
  }
}

fix "old-state" {
  object "vmlinux" {
    func "meminfo_proc_show" {
      new = "m"
    }
  }
  state "loglevel" {
    id      = 1
    version = 1
  }
}

fix "mod" {
  object "nfsd" {
    func "nfsd_open" {
      new = "n"
    }
  }
}

fix "by-file" {
  object "vmlinux" {
    func "loadavg_proc_show" {
      new  = "l"
      file = "fs/proc/loadavg.c" # ERROR: file-select-failed
    }
  }
}

livepatch "lp1" {
  kernels = [kernel.k]
  fixes   = [fix.a, fix.b]
}

# Forgets fix b: the replace regression.
livepatch "lp2" {
  kernels = [kernel.k]
  fixes   = [fix.a] # ERROR: replace-drops-fix
}

# Drops fix b on purpose: no error.
livepatch "lp3" {
  kernels = [kernel.k]
  fixes   = [fix.a, fix.a-same]
  drops   = [fix.b]
}

# Two fixes, two replacements for one function.
livepatch "lp4" {
  kernels = [kernel.k]
  fixes   = [fix.a, fix.a-again]
}

# Carries state 1 at version 1 only.
livepatch "lp-old-state" {
  kernels = [kernel.k]
  fixes   = [fix.old-state]
}

livepatch "nr1" {
  replace = false
  kernels = [kernel.k]
  fixes   = [fix.b]
}

livepatch "nr2" {
  replace = false
  kernels = [kernel.k]
  fixes   = [fix.b]
}

livepatch "split" {
  layout  = "per-object" # ERROR: per-object-replace
  kernels = [kernel.k]
  fixes   = [fix.a, fix.mod]
}

livepatch "only-other" {
  kernels = [kernel.other]
  fixes   = [fix.by-file]
}

deploy "regression" {
  kernel = kernel.k
  step "load" {
    livepatch = livepatch.lp1
  }
  step "load" {
    livepatch = livepatch.lp2
  }
}

deploy "dropped-on-purpose" {
  kernel = kernel.k
  step "load" {
    livepatch = livepatch.lp1
  }
  step "load" {
    livepatch = livepatch.lp3
  }
}

deploy "states" {
  kernel = kernel.k
  step "load" {
    livepatch = livepatch.lp1
  }
  step "load" { # ERROR: state-incompatible
    livepatch = livepatch.lp-old-state
  }
  step "load" {
    livepatch = livepatch.lp-old-state
    expect    = "refused"
  }
  step "disable" {
    livepatch = livepatch.lp1
    expect    = "refused" # ERROR: step-not-refused
  }
}

deploy "stacking" {
  kernel = kernel.k
  step "load" {
    livepatch = livepatch.nr1
  }
  step "load" { # WARNING: stacked-non-replace
    livepatch = livepatch.nr2
  }
}

deploy "wrong-kernel" {
  kernel = kernel.k
  step "load" {
    livepatch = livepatch.only-other # ERROR: not-built-for-kernel
  }
}

livepatch "lp-mod" {
  replace = false
  kernels = [kernel.k]
  fixes   = [fix.mod]
}

livepatch "lp-mod2" {
  replace = false
  kernels = [kernel.k]
  fixes   = [fix.mod]
}

# Patches for a module that is not loaded yet: applied when it comes.
deploy "late" {
  kernel = kernel.k
  step "load" {
    livepatch = livepatch.lp-mod
  }
  step "load" {
    livepatch = livepatch.lp-mod2
  }
  step "module_load" {
    module = "nfsd"
  }
  step "module_unload" {
    module = "nfsd"
  }
  step "module_unload" { # ERROR: step-refused
    module = "nfsd"
  }
}

fix "cb-1" {
  object "vmlinux" {
    pre_patch = "cb1_pre"
    func "loadavg_proc_show" {
      new = "l1"
    }
  }
}

fix "cb-2" {
  object "vmlinux" { # ERROR: conflicting-callbacks
    post_patch = "cb2_post"
    func "uptime_proc_show" {
      new = "u2"
    }
  }
}

livepatch "callbacks" {
  kernels = [kernel.k]
  fixes   = [fix.cb-1, fix.cb-2]
}

fix "state-again" {
  object "vmlinux" {
    func "uptime_proc_show" {
      new = "u3"
    }
  }
  state "other-name" {
    id      = 1
    version = 2
  }
}

livepatch "two-states" {
  kernels = [kernel.k]
  fixes   = [fix.a, fix.state-again] # ERROR: state-declared-twice
}

livepatch "a-release-name-long-enough-to-overflow-the-module" { # ERROR: per-object-name-too-long | unsafe-upgrade
  replace = false
  layout  = "per-object"
  kernels = [kernel.k]
  fixes   = [fix.a, fix.mod]
}
