# A per-object release for two modules, deployed while they come and go:
# each object's module follows its target (modprobe softdep).

kernel "k" {
  release = "6.1.0-56-amd64"
}

fix "a" {
  object "nfsd" {
    func "nfsd_open" {
      new = "a_nfsd_open"
    }
  }
  object "xfs" {
    func "xfs_open" {
      new = "a_xfs_open"
    }
  }
}

livepatch "po" {
  replace = false
  layout  = "per-object"
  kernels = [kernel.k]
  fixes   = [fix.a]
}

deploy "modules-come-and-go" {
  kernel  = kernel.k
  modules = ["xfs"]
  step "load" {
    livepatch = livepatch.po
  }
  step "module_load" {
    module = "nfsd"
  }
  step "disable" {
    livepatch = livepatch.po
  }
  step "unload" {
    livepatch = livepatch.po
  }
}

deploy "no-target-loaded" {
  kernel = kernel.k
  step "load" {
    livepatch = livepatch.po
  }
  step "disable" {
    livepatch = livepatch.po
  }
}
