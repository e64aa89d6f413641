# A fix whose replacement code uses a symbol vmlinux does not export:
# saved_command_line. kbuild cannot link it, so the emitted Makefile runs
# `klpc klp-convert`, which turns the reference into a .klp.sym symbol in a
# .klp.rela.vmlinux section that the livepatch core resolves at load time.

kernel "deb12-56" {
  release  = "6.1.0-56-amd64"
  kallsyms = "../../kernels/6.1.0-56-amd64/kallsyms.gz"
  ftrace   = "../../kernels/6.1.0-56-amd64/available_filter_functions.gz"
  symvers  = "../../kernels/6.1.0-56-amd64/Module.symvers.gz"
  headers  = "/usr/src/linux-headers-6.1.0-56-amd64"
}

fix "cmdline-marker" {
  description = "/proc/cmdline: mark the command line as served by the livepatch"
  source      = "src/cmdline.c"

  object "vmlinux" {
    func "cmdline_proc_show" {
      new = "klpc_cmdline_proc_show"
    }
    symbol "saved_command_line" {}
  }
}

livepatch "lp-marker" {
  kernels = [kernel.deb12-56]
  fixes   = [fix.cmdline-marker]
}

deploy "lab" {
  kernel = kernel.deb12-56

  step "load" {
    livepatch = livepatch.lp-marker
  }
}
