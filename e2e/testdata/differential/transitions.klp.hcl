# Transitions a sleeping task keeps pending (test-livepatch.sh and
# test-sysfs.sh: the transition and force attributes; docs/selftests.md).
fix "sleep-a" {
  source = "src/klpc_sleep_a.c"
  object "klpc_probe" {
    func "klpc_probe_sleep" {
      new = "klpc_sleep_a"
    }
  }
}

fix "sleep-b" {
  source = "src/klpc_sleep_b.c"
  object "klpc_probe" {
    func "klpc_probe_sleep" {
      new = "klpc_sleep_b"
    }
  }
}

livepatch "tr-a" {
  replace = false
  kernels = [kernel.deb12-56]
  fixes   = [fix.sleep-a]
}

livepatch "tr-b" {
  replace = false
  kernels = [kernel.deb12-56]
  fixes   = [fix.sleep-b]
}

# A task asleep in the original keeps the enabling transition pending: a
# second patch is refused (EBUSY), enabled cannot be written 1 again
# (EINVAL), and writing 0 reverses the transition, which then completes.
deploy "tr-pending" {
  kernel  = kernel.deb12-56
  modules = ["klpc_probe"]
  step "block" {
    task     = "t1"
    function = "klpc_probe:klpc_probe_sleep"
  }
  step "load" {
    livepatch = livepatch.tr-a
  }
  step "load" {
    livepatch = livepatch.tr-b
    expect    = "refused"
  }
  step "enable" {
    livepatch = livepatch.tr-a
    expect    = "refused"
  }
  step "disable" {
    livepatch = livepatch.tr-a
  }
  step "unload" {
    livepatch = livepatch.tr-a
  }
  step "release" {
    task = "t1"
  }
}

# Releasing the task completes the transition; a task asleep in the
# replacement keeps the unpatching transition pending, and writing 1 to
# enabled reverses it.
deploy "tr-release" {
  kernel  = kernel.deb12-56
  modules = ["klpc_probe"]
  step "block" {
    task     = "t1"
    function = "klpc_probe:klpc_probe_sleep"
  }
  step "load" {
    livepatch = livepatch.tr-a
  }
  step "release" {
    task = "t1"
  }
  step "block" {
    task     = "t2"
    function = "klpc_probe:klpc_probe_sleep"
  }
  step "disable" {
    livepatch = livepatch.tr-a
  }
  step "enable" {
    livepatch = livepatch.tr-a
  }
  step "release" {
    task = "t2"
  }
  step "disable" {
    livepatch = livepatch.tr-a
  }
  step "unload" {
    livepatch = livepatch.tr-a
  }
}

# force completes the transition with the task still asleep in the
# original. (A forced patch's module stays for good: the guest boots
# afresh for the scenarios after it.)
deploy "tr-force" {
  kernel  = kernel.deb12-56
  modules = ["klpc_probe"]
  step "block" {
    task     = "t1"
    function = "klpc_probe:klpc_probe_sleep"
  }
  step "load" {
    livepatch = livepatch.tr-a
  }
  step "force" {
    livepatch = livepatch.tr-a
  }
  step "release" {
    task = "t1"
  }
}
