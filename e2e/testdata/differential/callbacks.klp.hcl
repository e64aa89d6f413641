# The scenarios of the kernel's tools/testing/selftests/livepatch/test-callbacks.sh
# (docs/selftests.md): the fixes' callbacks log what ran (src/klpc_cb.c), and
# pre_patch returns what pre_patch_returns says.
fix "cb" {
  source = "src/klpc_cb.c"
  object "vmlinux" {
    func "cmdline_proc_show" {
      new = "klpc_cmd_cb"
    }
    pre_patch    = "klpc_cb_pre_patch"
    post_patch   = "klpc_cb_post_patch"
    pre_unpatch  = "klpc_cb_pre_unpatch"
    post_unpatch = "klpc_cb_post_unpatch"
  }
  object "klpc_probe" {
    func "klpc_probe_sleep" {
      new = "klpc_sleep_cb"
    }
    pre_patch    = "klpc_cb_pre_patch"
    post_patch   = "klpc_cb_post_patch"
    pre_unpatch  = "klpc_cb_pre_unpatch"
    post_unpatch = "klpc_cb_post_unpatch"
  }
}

fix "cb2" {
  source = "src/klpc_cb2.c"
  object "vmlinux" {
    func "version_proc_show" {
      new = "klpc_ver_cb2"
    }
    pre_patch    = "klpc_cb2_pre_patch"
    post_patch   = "klpc_cb2_post_patch"
    pre_unpatch  = "klpc_cb2_pre_unpatch"
    post_unpatch = "klpc_cb2_post_unpatch"
  }
  object "klpc_probe" {
    func "klpc_probe_gamma" {
      new = "klpc_gamma_cb2"
    }
    pre_patch    = "klpc_cb2_pre_patch"
    post_patch   = "klpc_cb2_post_patch"
    pre_unpatch  = "klpc_cb2_pre_unpatch"
    post_unpatch = "klpc_cb2_post_unpatch"
  }
}

livepatch "cb-1" {
  replace = false
  kernels = [kernel.deb12-56]
  fixes   = [fix.cb]
}

livepatch "cb-2" {
  replace = false
  kernels = [kernel.deb12-56]
  fixes   = [fix.cb2]
}

# Replaces cb-1: cb-1's unpatch callbacks do not run.
livepatch "cb-r" {
  kernels = [kernel.deb12-56]
  fixes   = [fix.cb2]
  drops   = [fix.cb]
}

# "target module before livepatch"
deploy "cb-target-before" {
  kernel  = kernel.deb12-56
  modules = ["klpc_probe"]
  step "load" {
    livepatch = livepatch.cb-1
  }
  step "disable" {
    livepatch = livepatch.cb-1
  }
  step "unload" {
    livepatch = livepatch.cb-1
  }
  step "module_unload" {
    module = "klpc_probe"
  }
}

# "module_coming notifier"
deploy "cb-module-coming" {
  kernel = kernel.deb12-56
  step "load" {
    livepatch = livepatch.cb-1
  }
  step "module_load" {
    module = "klpc_probe"
  }
  step "disable" {
    livepatch = livepatch.cb-1
  }
  step "unload" {
    livepatch = livepatch.cb-1
  }
  step "module_unload" {
    module = "klpc_probe"
  }
}

# "module_going notifier"
deploy "cb-module-going" {
  kernel  = kernel.deb12-56
  modules = ["klpc_probe"]
  step "load" {
    livepatch = livepatch.cb-1
  }
  step "module_unload" {
    module = "klpc_probe"
  }
  step "disable" {
    livepatch = livepatch.cb-1
  }
  step "unload" {
    livepatch = livepatch.cb-1
  }
}

# "module_coming and module_going notifiers"
deploy "cb-coming-going" {
  kernel = kernel.deb12-56
  step "load" {
    livepatch = livepatch.cb-1
  }
  step "module_load" {
    module = "klpc_probe"
  }
  step "module_unload" {
    module = "klpc_probe"
  }
  step "disable" {
    livepatch = livepatch.cb-1
  }
  step "unload" {
    livepatch = livepatch.cb-1
  }
}

# "target module not present"
deploy "cb-no-target" {
  kernel = kernel.deb12-56
  step "load" {
    livepatch = livepatch.cb-1
  }
  step "disable" {
    livepatch = livepatch.cb-1
  }
  step "unload" {
    livepatch = livepatch.cb-1
  }
}

# "pre-patch callback -ENODEV"
deploy "cb-pre-patch-enodev" {
  kernel  = kernel.deb12-56
  modules = ["klpc_probe"]
  step "load" {
    livepatch         = livepatch.cb-1
    pre_patch_returns = "ENODEV"
    expect            = "refused"
  }
  step "module_unload" {
    module = "klpc_probe"
  }
}

# "module_coming + pre-patch callback -ENODEV"
deploy "cb-coming-enodev" {
  kernel = kernel.deb12-56
  step "load" {
    livepatch = livepatch.cb-1
  }
  step "module_load" {
    module            = "klpc_probe"
    pre_patch_returns = "ENODEV"
    expect            = "refused"
  }
  step "disable" {
    livepatch = livepatch.cb-1
  }
  step "unload" {
    livepatch = livepatch.cb-1
  }
}

# "busy target module": a task asleep in a function the patch changes keeps
# the transition pending; disabling reverses it, and the skipped post_patch
# callbacks mean no pre_unpatch ones either.
deploy "cb-busy" {
  kernel  = kernel.deb12-56
  modules = ["klpc_probe"]
  step "block" {
    task     = "busy"
    function = "klpc_probe:klpc_probe_sleep"
  }
  step "load" {
    livepatch = livepatch.cb-1
  }
  step "disable" {
    livepatch = livepatch.cb-1
  }
  step "unload" {
    livepatch = livepatch.cb-1
  }
  step "release" {
    task = "busy"
  }
}

# "multiple livepatches"
deploy "cb-multiple" {
  kernel  = kernel.deb12-56
  modules = ["klpc_probe"]
  step "load" {
    livepatch = livepatch.cb-1
  }
  step "load" {
    livepatch = livepatch.cb-2
  }
  step "disable" {
    livepatch = livepatch.cb-2
  }
  step "unload" {
    livepatch = livepatch.cb-2
  }
  step "disable" {
    livepatch = livepatch.cb-1
  }
  step "unload" {
    livepatch = livepatch.cb-1
  }
}

# "atomic replace"
deploy "cb-replace" {
  kernel  = kernel.deb12-56
  modules = ["klpc_probe"]
  step "load" {
    livepatch = livepatch.cb-1
  }
  step "load" {
    livepatch = livepatch.cb-r
  }
  step "unload" {
    livepatch = livepatch.cb-1
  }
  step "disable" {
    livepatch = livepatch.cb-r
  }
  step "unload" {
    livepatch = livepatch.cb-r
  }
}
