livepatch "basic" {
  replace = false
  kernels = [kernel.deb12-56]
  fixes   = [fix.cmd-a]
}

livepatch "multi-1" {
  replace = false
  kernels = [kernel.deb12-56]
  fixes   = [fix.cmd-a]
}

livepatch "multi-2" {
  replace = false
  kernels = [kernel.deb12-56]
  fixes   = [fix.mem-a]
}

livepatch "ns1" {
  replace = false
  kernels = [kernel.deb12-56]
  fixes   = [fix.cmd-a]
}

livepatch "ns2" {
  replace = false
  kernels = [kernel.deb12-56]
  fixes   = [fix.cmd-b]
}

livepatch "ns3" {
  replace = false
  kernels = [kernel.deb12-56]
  fixes   = [fix.cmd-a, fix.ver-a]
}

livepatch "ar-1" {
  replace = false
  kernels = [kernel.deb12-56]
  fixes   = [fix.cmd-a]
}

livepatch "ar-2" {
  replace = false
  kernels = [kernel.deb12-56]
  fixes   = [fix.alpha-a]
}

livepatch "ar-3" {
  kernels = [kernel.deb12-56]
  fixes   = [fix.mem-a]
  drops   = [fix.cmd-a, fix.alpha-a]
}

livepatch "st-v1" {
  kernels = [kernel.deb12-56]
  fixes   = [fix.state-v1]
}

livepatch "st-v2" {
  kernels = [kernel.deb12-56]
  fixes   = [fix.state-v2]
}

livepatch "st-v2b" {
  kernels = [kernel.deb12-56]
  fixes   = [fix.state-v2]
}

livepatch "late" {
  replace = false
  kernels = [kernel.deb12-56]
  fixes   = [fix.alpha-a, fix.gamma-a]
}

# examples/stacking, with lp3's dropped fixes declared.
livepatch "lp1" {
  replace = false
  kernels = [kernel.deb12-56]
  fixes   = [fix.cmd-a]
}

livepatch "lp2" {
  replace = false
  kernels = [kernel.deb12-56]
  fixes   = [fix.cmd-b, fix.ver-a]
}

livepatch "lp3" {
  kernels = [kernel.deb12-56]
  fixes   = [fix.ver-b]
  drops   = [fix.cmd-a, fix.cmd-b]
}

# Two per-object releases: the second carries the first's fixes and one
# more; klpc plans and verifies the upgrade between them.
livepatch "po1" {
  replace = false
  layout  = "per-object"
  kernels = [kernel.deb12-56]
  fixes   = [fix.cmd-a, fix.alpha-a]
}

livepatch "po2" {
  replace = false
  layout  = "per-object"
  kernels = [kernel.deb12-56]
  fixes   = [fix.cmd-a, fix.alpha-a, fix.gamma-a]
}

livepatch "spell-0" {
  replace = false
  kernels = [kernel.deb12-56]
  fixes   = [fix.cmd-a]
}

livepatch "spell-1" {
  kernels = [kernel.deb12-56]
  fixes   = [fix.cmd-a1]
}

livepatch "spell-1nr" {
  replace = false
  kernels = [kernel.deb12-56]
  fixes   = [fix.cmd-a1]
}

livepatch "klpsym" {
  kernels = [kernel.deb12-56]
  fixes   = [fix.cmd-sym]
}

livepatch "modsym" {
  replace = false
  kernels = [kernel.deb12-56]
  fixes   = [fix.alpha-sym]
}

livepatch "po-deploy" {
  replace = false
  layout  = "per-object"
  kernels = [kernel.deb12-56]
  fixes   = [fix.cmd-a, fix.alpha-a]
}
