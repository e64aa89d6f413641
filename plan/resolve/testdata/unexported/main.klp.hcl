# The replacement of loadavg_proc_show calls get_avenrun and nr_running,
# which vmlinux defines but does not export, and uses avenrun, which it
# exports. Only nr_running has a symbol block: get_avenrun is the error.

kernel "deb12-56" {
  release  = "6.1.0-56-amd64"
  kallsyms = "../../../../kernels/6.1.0-56-amd64/kallsyms.gz"
  ftrace   = "../../../../kernels/6.1.0-56-amd64/available_filter_functions.gz"
  symvers  = "../../../../kernels/6.1.0-56-amd64/Module.symvers.gz"
}

fix "loadavg" {
  source = "src/loadavg.c" # ERROR: unexported-symbol-used
  object "vmlinux" {
    func "loadavg_proc_show" {
      new = "klpc_loadavg_proc_show"
    }
    symbol "nr_running" {}
  }
}

livepatch "lp-loadavg" {
  kernels = [kernel.deb12-56]
  fixes   = [fix.loadavg]
}
