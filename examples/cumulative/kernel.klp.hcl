kernel "deb12-56" {
  release  = "6.1.0-56-amd64"
  kallsyms = "../../kernels/6.1.0-56-amd64/kallsyms.gz"
  ftrace   = "../../kernels/6.1.0-56-amd64/available_filter_functions.gz"
  modules  = "../../kernels/6.1.0-56-amd64/modules"
  symvers  = "../../kernels/6.1.0-56-amd64/Module.symvers.gz"
  headers  = "/usr/src/linux-headers-6.1.0-56-amd64"
}
