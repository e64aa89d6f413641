kernel "k" {
  release = "6.1.0-56-amd64"
}

kernel "a/b" { # ERROR: invalid-name
  release = "6.1.0-56-amd64"
}

fix "f" {
  object "nfs-server" { # ERROR: invalid-object-name
    func "nfsd_open" {
      new = "a"
    }
  }
  object "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx" { # ERROR: invalid-object-name
    func "x" {
      new = "a"
    }
  }
  object "vmlinux" {
    func "1st_func" { # ERROR: invalid-symbol-name
      new = "a"
    }
    func "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" { # ERROR: invalid-symbol-name
      new = "b"
    }
    func "memcpy.isra.0" {
      new = "c-d" # ERROR: invalid-c-name
    }
    func "foo,1" { # ERROR: invalid-symbol-name
      new = "e"
    }
  }
}

livepatch "lp.v2" { # ERROR: invalid-name
  kernels = [kernel.k]
  fixes   = [fix.f]
}

livepatch "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx" { # ERROR: invalid-name
  kernels = [kernel.k]
  fixes   = [fix.f]
}
