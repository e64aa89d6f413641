# The same release on the three kernel lines klpc models, with the same
# deployment: a livepatch for a module, whose replacement uses a static
# object of that module (a `symbol` block, written as a .klp.rela
# relocation when the module loads), stays loaded while the module is
# unloaded and loaded again.
#
# - 6.1 writes the module's klp relocations once and never clears them:
#   the reload is refused with ENOEXEC for as long as the livepatch is
#   loaded (a warning on the release, the refusal expected at the step).
# - 6.12 and 7.2 clear them when the module goes
#   (klp_cleanup_module_patches_limited -> clear_relocate_add): the module
#   comes back patched.
# - /sys/kernel/livepatch shows replace from 6.12 on, stack_order on 7.x.
#
# Each kernel's line is chosen from its release; `line = "..."` in a kernel
# block would choose another.

kernel "deb12-6-1" {
  release  = "6.1.0-56-amd64"
  kallsyms = "../../kernels/6.1.0-56-amd64/kallsyms.gz"
  ftrace   = "../../kernels/6.1.0-56-amd64/available_filter_functions.gz"
  symvers  = "../../kernels/6.1.0-56-amd64/Module.symvers.gz"
  modules  = "../../kernels/6.1.0-56-amd64/modules"
}

kernel "deb13-6-12" {
  release  = "6.12.117+deb12-amd64"
  kallsyms = "../../kernels/6.12.117+deb12-amd64/kallsyms.gz"
  ftrace   = "../../kernels/6.12.117+deb12-amd64/available_filter_functions.gz"
  symvers  = "../../kernels/6.12.117+deb12-amd64/Module.symvers.gz"
  modules  = "../../kernels/6.12.117+deb12-amd64/modules"
}

kernel "sid-7-2" {
  release  = "7.2.13+deb14-amd64"
  kallsyms = "../../kernels/7.2.13+deb14-amd64/kallsyms.gz"
  ftrace   = "../../kernels/7.2.13+deb14-amd64/available_filter_functions.gz"
  symvers  = "../../kernels/7.2.13+deb14-amd64/Module.symvers.gz"
  modules  = "../../kernels/7.2.13+deb14-amd64/modules"
}

fix "scalable-ssthresh" {
  description = "tcp_scalable: keep ssthresh at two segments or more"
  source      = "src/ssthresh.c"

  object "tcp_scalable" {
    func "tcp_scalable_ssthresh" {
      new = "klpc_tcp_scalable_ssthresh"
    }
    symbol "tcp_scalable" {}
  }
}

livepatch "lp-scalable" {
  replace = false
  kernels = [kernel.deb12-6-1, kernel.deb13-6-12, kernel.sid-7-2]
  fixes   = [fix.scalable-ssthresh]
}

deploy "reload-6-1" {
  kernel  = kernel.deb12-6-1
  modules = ["tcp_scalable"]

  step "load" {
    livepatch = livepatch.lp-scalable
  }
  step "module_unload" {
    module = "tcp_scalable"
  }
  step "module_load" {
    module = "tcp_scalable"
    expect = "refused"
  }
}

deploy "reload-6-12" {
  kernel  = kernel.deb13-6-12
  modules = ["tcp_scalable"]

  step "load" {
    livepatch = livepatch.lp-scalable
  }
  step "module_unload" {
    module = "tcp_scalable"
  }
  step "module_load" {
    module = "tcp_scalable"
  }
}

deploy "reload-7-2" {
  kernel  = kernel.sid-7-2
  modules = ["tcp_scalable"]

  step "load" {
    livepatch = livepatch.lp-scalable
  }
  step "module_unload" {
    module = "tcp_scalable"
  }
  step "module_load" {
    module = "tcp_scalable"
  }
}
