# Three real Debian kernel builds, read from their packages alone (the
# kernel image and the modules; `scripts/fetch-kernels.sh 6.1.0-47 6.1.0-56
# 6.12.117+deb12` unpacks them into the git-ignored .cache), and three
# cumulative releases for all of them.
# What differs per build is what the plan reports:
#
# - __flush_work is a plain function on 6.1.0-56 and 6.12.117, but GCC made
#   it an IPA-SRA clone, __flush_work.isra.0, on 6.1.0-47: lp-3 cannot
#   patch it there (found by diffing the kallsyms of the two builds with
#   scripts/fleetdiff);
# - acpi_attr_is_visible is unique on 6.1 and has two copies on 6.12: its
#   sympos moves from 0 to 1 or 2, sympos 0 is ambiguous there, and the
#   plan lists both candidates with their addresses.

kernel "deb12-47" {
  release = "6.1.0-47-amd64"
  arch    = "x86_64"
  vmlinuz = "../../.cache/kernels/6.1.0-47-amd64/boot/vmlinuz-6.1.0-47-amd64"
  modules = "../../.cache/kernels/6.1.0-47-amd64/lib/modules/6.1.0-47-amd64"
  config  = "../../.cache/kernels/6.1.0-47-amd64/boot/config-6.1.0-47-amd64"
}

kernel "deb12-56" {
  release = "6.1.0-56-amd64"
  arch    = "x86_64"
  vmlinuz = "../../.cache/kernels/6.1.0-56-amd64/boot/vmlinuz-6.1.0-56-amd64"
  modules = "../../.cache/kernels/6.1.0-56-amd64/lib/modules/6.1.0-56-amd64"
  config  = "../../.cache/kernels/6.1.0-56-amd64/boot/config-6.1.0-56-amd64"
}

kernel "deb12-612" {
  release = "6.12.117+deb12-amd64"
  arch    = "x86_64"
  vmlinuz = "../../.cache/kernels/6.12.117+deb12-amd64/boot/vmlinuz-6.12.117+deb12-amd64"
  modules = "../../.cache/kernels/6.12.117+deb12-amd64/lib/modules/6.12.117+deb12-amd64"
  config  = "../../.cache/kernels/6.12.117+deb12-amd64/boot/config-6.12.117+deb12-amd64"
}

fix "cmdline-banner" {
  description = "/proc/cmdline: say that the kernel is live patched"
  source      = "src/cmdline.c"

  object "vmlinux" {
    func "cmdline_proc_show" {
      new = "klpc_cmdline_proc_show"
    }
  }
}

fix "acpi-attr" {
  description = "ACPI sysfs: hide an attribute"
  source      = "src/acpi.c"

  object "vmlinux" {
    func "acpi_attr_is_visible" {
      new = "klpc_acpi_attr_is_visible"
    }
  }
}

fix "flush-work" {
  description = "workqueue: a fix in __flush_work"
  source      = "src/workqueue.c"

  object "vmlinux" {
    func "__flush_work" {
      new = "klpc_flush_work"
    }
  }
}

livepatch "lp-1" {
  kernels = [kernel.deb12-47, kernel.deb12-56, kernel.deb12-612]
  fixes   = [fix.cmdline-banner]
}

livepatch "lp-2" {
  kernels = [kernel.deb12-47, kernel.deb12-56, kernel.deb12-612]
  fixes   = [fix.cmdline-banner, fix.acpi-attr]
}

livepatch "lp-3" {
  kernels = [kernel.deb12-47, kernel.deb12-56, kernel.deb12-612]
  fixes   = [fix.cmdline-banner, fix.acpi-attr, fix.flush-work]
}

deploy "deb12-56" {
  kernel = kernel.deb12-56

  step "load" {
    livepatch = livepatch.lp-1
  }
  step "load" {
    livepatch = livepatch.lp-2
  }
  step "load" {
    livepatch = livepatch.lp-3
  }
}
