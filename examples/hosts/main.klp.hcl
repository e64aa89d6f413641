# Hosts that already run releases: deployments and a fleet pre-flight that
# start from host snapshots (hosts/*.json), taken on the real 6.1.0-56-amd64
# kernel under qemu by the e2e suite (see hosts/README.md). The fixes and
# releases are those of e2e/testdata/differential, so that the MODULE_VERSION
# of every module the snapshots show matches this plan.

kernel "deb12-56" {
  release  = "6.1.0-56-amd64"
  arch     = "x86_64"
  kallsyms = "../../kernels/6.1.0-56-amd64/kallsyms.gz"
  ftrace   = "../../kernels/6.1.0-56-amd64/available_filter_functions.gz"
  symvers  = "../../kernels/6.1.0-56-amd64/Module.symvers.gz"
}

fix "cmd-a" {
  source = "src/klpc_cmd_a.c"
  object "vmlinux" {
    func "cmdline_proc_show" {
      new = "klpc_cmd_a"
    }
  }
}

fix "cmd-b" {
  source = "src/klpc_cmd_b.c"
  object "vmlinux" {
    func "cmdline_proc_show" {
      new = "klpc_cmd_b"
    }
  }
}

fix "ver-a" {
  source = "src/klpc_ver_a.c"
  object "vmlinux" {
    func "version_proc_show" {
      new = "klpc_ver_a"
    }
  }
}

fix "mem-a" {
  source = "src/klpc_mem_a.c"
  object "vmlinux" {
    func "meminfo_proc_show" {
      new = "klpc_mem_a"
    }
  }
}

livepatch "ns1" {
  replace = false
  kernels = [kernel.deb12-56]
  fixes   = [fix.cmd-a]
}

livepatch "ns2" {
  replace = false
  kernels = [kernel.deb12-56]
  fixes   = [fix.cmd-b]
}

livepatch "ns3" {
  replace = false
  kernels = [kernel.deb12-56]
  fixes   = [fix.cmd-a, fix.ver-a]
}

livepatch "multi-2" {
  replace = false
  kernels = [kernel.deb12-56]
  fixes   = [fix.mem-a]
}

# web-17 runs ns1 and ns2 stacked on cmdline_proc_show: finish the rollout.
deploy "web-17" {
  kernel = kernel.deb12-56
  from   = "hosts/web-17.json"
  step "load" {
    livepatch = livepatch.ns3
  }
  step "disable" {
    livepatch = livepatch.ns2
  }
  step "unload" {
    livepatch = livepatch.ns2
  }
}
