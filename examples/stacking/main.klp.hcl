# The sequence from the "hybrid mode" discussion on the livepatching list,
# under the kernel's actual rules: lp1 and lp2 are non-replace and stack on
# funcA (here cmdline_proc_show); lp3 is a replace patch for funcB only
# (version_proc_show). Loading lp3 replaces BOTH older patches, so funcA
# silently returns to the original code: the plan reports the dropped fixes.

kernel "deb12-56" {
  release  = "6.1.0-56-amd64"
  kallsyms = "../../kernels/6.1.0-56-amd64/kallsyms.gz"
  ftrace   = "../../kernels/6.1.0-56-amd64/available_filter_functions.gz"
}

fix "lp1-funcA" {
  source = "src/lp1.c"
  object "vmlinux" {
    func "cmdline_proc_show" {
      new = "lp1_funcA"
    }
  }
}

fix "lp2-funcA" {
  source = "src/lp2.c"
  object "vmlinux" {
    func "cmdline_proc_show" {
      new = "lp2_funcA"
    }
  }
}

fix "lp2-funcB" {
  source = "src/lp2.c"
  object "vmlinux" {
    func "version_proc_show" {
      new = "lp2_funcB"
    }
  }
}

fix "lp3-funcB" {
  source = "src/lp3.c"
  object "vmlinux" {
    func "version_proc_show" {
      new = "lp3_funcB"
    }
  }
}

livepatch "lp1" {
  replace = false
  kernels = [kernel.deb12-56]
  fixes   = [fix.lp1-funcA]
}

livepatch "lp2" {
  replace = false
  kernels = [kernel.deb12-56]
  fixes   = [fix.lp2-funcA, fix.lp2-funcB]
}

livepatch "lp3" {
  replace = true
  kernels = [kernel.deb12-56]
  fixes   = [fix.lp3-funcB]
}

deploy "seed" {
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
