# klp-build inputs: emitted for the 7.x kernel only, with --no-replace for
# the non-replace release; the release whose patch touches lib/ and an
# assembly file, and the one with a klp_state, are refused for klp-build
# (warnings: the Kbuild output still builds them). The 7.2 headers live in
# a build chroot, not on the host: emit/klpbuild_test.go sets the headers
# folder of "sid" on the plan.

kernel "sid" {
  release = "7.2.13+deb14-amd64"
  source  = "/usr/src/linux-source-7.2"
}

kernel "deb12" {
  release = "6.1.0-56-amd64"
  headers = "/usr/src/linux-headers-6.1.0-56-amd64"
}

fix "cmdline" {
  source = "src/cmdline.c"
  patch  = "patches/cmdline.patch"
  object "vmlinux" {
    func "cmdline_proc_show" {
      new = "klpc_cmdline_proc_show"
    }
  }
}

fix "strscpy" {
  source = "src/strscpy.c"
  patch  = "patches/strscpy.patch"
  object "vmlinux" {
    func "sized_strscpy" {
      new = "klpc_sized_strscpy"
    }
  }
}

fix "cmdline-state" {
  source = "src/cmdline.c"
  patch  = "patches/cmdline.patch"
  object "vmlinux" {
    func "cmdline_proc_show" {
      new = "klpc_cmdline_proc_show"
    }
  }
  state "cmdline-shadow" {
    id      = 1
    version = 1
  }
}

livepatch "lp-cmdline" {
  replace = false
  kernels = [kernel.sid, kernel.deb12]
  fixes   = [fix.cmdline]
}

livepatch "lp-lib" {
  kernels = [kernel.sid]
  fixes   = [fix.strscpy]
}

livepatch "lp-state" {
  kernels = [kernel.sid]
  fixes   = [fix.cmdline-state]
}
