# test-livepatch.sh "basic function patching", and what a disabled patch
# needs before it can come back.
deploy "single" {
  kernel = kernel.deb12-56
  step "load" {
    livepatch = livepatch.basic
  }
  step "unload" {
    livepatch = livepatch.basic
    expect    = "refused"
  }
  step "disable" {
    livepatch = livepatch.basic
  }
  step "load" {
    livepatch = livepatch.basic
    expect    = "refused"
  }
  step "disable" {
    livepatch = livepatch.basic
    expect    = "refused"
  }
  step "unload" {
    livepatch = livepatch.basic
  }
  step "load" {
    livepatch = livepatch.basic
  }
  step "disable" {
    livepatch = livepatch.basic
  }
  step "unload" {
    livepatch = livepatch.basic
  }
}

# test-livepatch.sh "multiple livepatches".
deploy "multiple" {
  kernel = kernel.deb12-56
  step "load" {
    livepatch = livepatch.multi-1
  }
  step "load" {
    livepatch = livepatch.multi-2
  }
  step "disable" {
    livepatch = livepatch.multi-2
  }
  step "unload" {
    livepatch = livepatch.multi-2
  }
  step "disable" {
    livepatch = livepatch.multi-1
  }
  step "unload" {
    livepatch = livepatch.multi-1
  }
}

# Non-replace patches stacked on one function, disabled out of order.
deploy "disable-order" {
  kernel = kernel.deb12-56
  step "load" {
    livepatch = livepatch.ns1
  }
  step "load" {
    livepatch = livepatch.ns2
  }
  step "load" {
    livepatch = livepatch.ns3
  }
  step "disable" {
    livepatch = livepatch.ns2
  }
  step "unload" {
    livepatch = livepatch.ns2
  }
  step "disable" {
    livepatch = livepatch.ns3
  }
  step "disable" {
    livepatch = livepatch.ns1
  }
  step "unload" {
    livepatch = livepatch.ns1
  }
  step "unload" {
    livepatch = livepatch.ns3
  }
}

# test-livepatch.sh "atomic replace livepatch", a module object included.
deploy "atomic-replace" {
  kernel  = kernel.deb12-56
  modules = ["klpc_probe"]
  step "load" {
    livepatch = livepatch.ar-1
  }
  step "load" {
    livepatch = livepatch.ar-2
  }
  step "load" {
    livepatch = livepatch.ar-3
  }
  step "disable" {
    livepatch = livepatch.ar-1
    expect    = "refused"
  }
  step "unload" {
    livepatch = livepatch.ar-2
  }
  step "unload" {
    livepatch = livepatch.ar-1
  }
  step "disable" {
    livepatch = livepatch.ar-3
  }
  step "unload" {
    livepatch = livepatch.ar-3
  }
}

# test-state.sh "taking over system state modification".
deploy "state-takeover" {
  kernel  = kernel.deb12-56
  modules = ["klpc_probe"]
  step "load" {
    livepatch = livepatch.st-v1
  }
  step "load" {
    livepatch = livepatch.st-v2
  }
  step "unload" {
    livepatch = livepatch.st-v1
  }
  step "disable" {
    livepatch = livepatch.st-v2
  }
  step "unload" {
    livepatch = livepatch.st-v2
  }
}

# test-state.sh "compatible cumulative livepatches".
deploy "state-compatible" {
  kernel  = kernel.deb12-56
  modules = ["klpc_probe"]
  step "load" {
    livepatch = livepatch.st-v2
  }
  step "load" {
    livepatch = livepatch.st-v2b
  }
  step "unload" {
    livepatch = livepatch.st-v2
  }
  step "load" {
    livepatch = livepatch.st-v2
  }
  step "disable" {
    livepatch = livepatch.st-v2
  }
  step "unload" {
    livepatch = livepatch.st-v2
  }
  step "unload" {
    livepatch = livepatch.st-v2b
  }
}

# test-state.sh "incompatible cumulative livepatches".
deploy "state-incompatible" {
  kernel  = kernel.deb12-56
  modules = ["klpc_probe"]
  step "load" {
    livepatch = livepatch.st-v2
  }
  step "load" {
    livepatch = livepatch.st-v1
    expect    = "refused"
  }
  step "disable" {
    livepatch = livepatch.st-v2
  }
  step "unload" {
    livepatch = livepatch.st-v2
  }
}

# A livepatch for a module loaded after it (klp_module_coming), unloaded
# (klp_module_going) and loaded again.
deploy "late" {
  kernel = kernel.deb12-56
  step "load" {
    livepatch = livepatch.late
  }
  step "module_load" {
    module = "klpc_probe"
  }
  step "module_unload" {
    module = "klpc_probe"
  }
  step "module_load" {
    module = "klpc_probe"
  }
  step "disable" {
    livepatch = livepatch.late
  }
  step "unload" {
    livepatch = livepatch.late
  }
  step "module_unload" {
    module = "klpc_probe"
  }
}

# examples/stacking.
deploy "stacking" {
  kernel = kernel.deb12-56
  step "load" {
    livepatch = livepatch.lp1
  }
  step "load" {
    livepatch = livepatch.lp2
  }
  step "load" {
    livepatch = livepatch.lp3
  }
}

# sympos 0 and 1 name the same function: stacked as non-replace they
# share one func_stack, and a replace patch spelled (f, 1) replaces an
# installed (f, 0) without a nop of its own for f (klp_find_func counts
# 0 and 1 as one).
deploy "sympos-spelling" {
  kernel = kernel.deb12-56
  step "load" {
    livepatch = livepatch.spell-0
  }
  step "load" {
    livepatch = livepatch.spell-1nr
  }
  step "disable" {
    livepatch = livepatch.spell-1nr
  }
  step "load" {
    livepatch = livepatch.spell-1
  }
  step "disable" {
    livepatch = livepatch.spell-0
    expect    = "refused"
  }
  step "disable" {
    livepatch = livepatch.spell-1
  }
  step "unload" {
    livepatch = livepatch.spell-0
  }
}

# A module whose replacement uses a non-exported symbol, converted by klpc
# klp-convert into the livepatch ELF format.
deploy "klp-symbols" {
  kernel = kernel.deb12-56
  step "load" {
    livepatch = livepatch.klpsym
  }
  step "disable" {
    livepatch = livepatch.klpsym
  }
  step "unload" {
    livepatch = livepatch.klpsym
  }
}

# The same for a symbol of a module that loads after the livepatch: its
# .klp.rela section is written when the module comes. 6.1 does not clear
# it when the module goes, so the module cannot come back while the
# livepatch is loaded (ENOEXEC), and can once the livepatch is gone.
deploy "module-symbols" {
  kernel = kernel.deb12-56
  step "load" {
    livepatch = livepatch.modsym
  }
  step "module_load" {
    module = "klpc_probe"
  }
  step "module_unload" {
    module = "klpc_probe"
  }
  step "module_load" {
    module = "klpc_probe"
    expect = "refused"
  }
  step "disable" {
    livepatch = livepatch.modsym
  }
  step "unload" {
    livepatch = livepatch.modsym
  }
  step "module_load" {
    module = "klpc_probe"
  }
}

# A per-object release deployed while its module target comes and goes:
# the module of each object follows its target (modprobe softdep, done by
# the suite with insmod).
deploy "per-object" {
  kernel = kernel.deb12-56
  step "load" {
    livepatch = livepatch.po-deploy
  }
  step "module_load" {
    module = "klpc_probe"
  }
  step "module_unload" {
    module = "klpc_probe"
  }
  step "disable" {
    livepatch = livepatch.po-deploy
  }
  step "unload" {
    livepatch = livepatch.po-deploy
  }
}
