kernel "k" {
  release = "6.1.0-56-amd64"
}

kernel "a/b" { # ERROR: Invalid kernel name
  release = "6.1.0-56-amd64"
}

fix "f" {
  object "nfs-server" { # ERROR: Invalid object name
    func "nfsd_open" {
      new = "a"
    }
  }
  object "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx" { # ERROR: Invalid object name
    func "x" {
      new = "a"
    }
  }
  object "vmlinux" {
    func "1st_func" { # ERROR: Invalid function name
      new = "a"
    }
    func "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" { # ERROR: Invalid function name
      new = "b"
    }
    func "memcpy.isra.0" {
      new = "c-d" # ERROR: Invalid C function name
    }
    func "foo,1" { # ERROR: Invalid function name
      new = "e"
    }
  }
}

livepatch "lp.v2" { # ERROR: Invalid livepatch name
  kernels = [kernel.k]
  fixes   = [fix.f]
}

livepatch "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx" { # ERROR: Invalid livepatch name
  kernels = [kernel.k]
  fixes   = [fix.f]
}
