# The model's fidelity rules (issue 11; docs/selftests.md).

# A livepatch module as an object: ch-b patches klpc_alpha_a inside ch-a's
# module ch_a; klpc_probe_alpha runs the end of the chain.
livepatch "ch-a" {
  replace = false
  kernels = [kernel.deb12-56]
  fixes   = [fix.alpha-a]
}

fix "chain" {
  source = "src/klpc_chain.c"
  object "ch_a" {
    func "klpc_alpha_a" {
      new = "klpc_alpha_chain"
    }
  }
}

livepatch "ch-b" {
  replace = false
  kernels = [kernel.deb12-56]
  fixes   = [fix.chain]
}

deploy "chain" {
  kernel  = kernel.deb12-56
  modules = ["klpc_probe"]
  step "load" {
    livepatch = livepatch.ch-b
  }
  step "load" {
    livepatch = livepatch.ch-a
  }
  step "disable" {
    livepatch = livepatch.ch-b
  }
  step "unload" {
    livepatch = livepatch.ch-b
  }
  step "load" {
    livepatch = livepatch.ch-b
  }
  step "disable" {
    livepatch = livepatch.ch-a
  }
  step "unload" {
    livepatch = livepatch.ch-a
  }
  step "disable" {
    livepatch = livepatch.ch-b
  }
  step "unload" {
    livepatch = livepatch.ch-b
  }
}

# A patch of the __init function klpc_probe_init_fn applies while the
# module loads (klp_module_coming finds the init symbol), and a later
# replace's nop for it finds no symbol.
fix "init-a" {
  source = "src/klpc_init_a.c"
  object "klpc_probe" {
    func "klpc_probe_init_fn" {
      new = "klpc_init_a"
    }
  }
}

livepatch "in-a" {
  replace = false
  kernels = [kernel.deb12-56]
  fixes   = [fix.init-a]
}

livepatch "in-r" {
  kernels = [kernel.deb12-56]
  fixes   = [fix.gamma-a]
  drops   = [fix.init-a]
}

deploy "init-fn" {
  kernel = kernel.deb12-56
  step "load" {
    livepatch = livepatch.in-a
  }
  step "module_load" {
    module = "klpc_probe"
  }
  step "load" {
    livepatch = livepatch.in-r
    expect    = "refused"
  }
}

# One function spelled as sympos 0 and 1 by two fixes of one release: two
# klp_funcs with one sysfs name, "klpc_probe_alpha,1".
fix "alpha-dup" {
  source = "src/klpc_alpha_dup.c"
  object "klpc_probe" {
    func "klpc_probe_alpha" {
      new    = "klpc_alpha_dup"
      sympos = 1
    }
  }
}

livepatch "dup" {
  replace = false
  kernels = [kernel.deb12-56]
  fixes   = [fix.alpha-a, fix.alpha-dup]
}

deploy "dup-func" {
  kernel  = kernel.deb12-56
  modules = ["klpc_probe"]
  step "load" {
    livepatch = livepatch.dup
    expect    = "refused"
  }
}

# A klp_state version at the limit of its unsigned int.
fix "state-max" {
  source = "src/klpc_beta_s2.c"
  object "klpc_probe" {
    func "klpc_probe_beta" {
      new = "klpc_beta_s2"
    }
  }
  state "loglevel" {
    id      = 1
    version = 4294967295
  }
}

livepatch "st-max" {
  kernels = [kernel.deb12-56]
  fixes   = [fix.state-max]
}

deploy "state-max" {
  kernel  = kernel.deb12-56
  modules = ["klpc_probe"]
  step "load" {
    livepatch = livepatch.st-max
  }
  step "disable" {
    livepatch = livepatch.st-max
  }
  step "unload" {
    livepatch = livepatch.st-max
  }
}
