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

fix "ver-b" {
  source = "src/klpc_ver_b.c"
  object "vmlinux" {
    func "version_proc_show" {
      new = "klpc_ver_b"
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

fix "alpha-a" {
  source = "src/klpc_alpha_a.c"
  object "klpc_probe" {
    func "klpc_probe_alpha" {
      new = "klpc_alpha_a"
    }
  }
}

fix "alpha-b" {
  source = "src/klpc_alpha_b.c"
  object "klpc_probe" {
    func "klpc_probe_alpha" {
      new = "klpc_alpha_b"
    }
  }
}

fix "gamma-a" {
  source = "src/klpc_gamma_a.c"
  object "klpc_probe" {
    func "klpc_probe_gamma" {
      new = "klpc_gamma_a"
    }
  }
}

# test_klp_state: state id 1 at version 1, then 2.
fix "state-v1" {
  source = "src/klpc_beta_s1.c"
  object "klpc_probe" {
    func "klpc_probe_beta" {
      new = "klpc_beta_s1"
    }
  }
  state "loglevel" {
    id      = 1
    version = 1
  }
}

fix "state-v2" {
  source = "src/klpc_beta_s2.c"
  object "klpc_probe" {
    func "klpc_probe_beta" {
      new = "klpc_beta_s2"
    }
  }
  state "loglevel" {
    id      = 1
    version = 2
  }
}

# cmd-a with sympos written as 1 instead of 0: the same function.
fix "cmd-a1" {
  source = "src/klpc_cmd_a1.c"
  object "vmlinux" {
    func "cmdline_proc_show" {
      new    = "klpc_cmd_a1"
      sympos = 1
    }
  }
}

# Uses saved_command_line, which vmlinux does not export (.klp.sym).
fix "cmd-sym" {
  source = "src/klpc_cmd_sym.c"
  object "vmlinux" {
    func "cmdline_proc_show" {
      new = "klpc_cmd_sym"
    }
    symbol "saved_command_line" {}
  }
}

# Uses klpc_probe_calls, a static array of the patched module itself.
fix "alpha-sym" {
  source = "src/klpc_alpha_sym.c"
  object "klpc_probe" {
    func "klpc_probe_alpha" {
      new = "klpc_alpha_sym"
    }
    symbol "klpc_probe_calls" {}
  }
}
