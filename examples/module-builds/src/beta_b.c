// SPDX-License-Identifier: GPL-2.0
/*
 * klpc_probe_b() is a static function of the fixed build of klpc_probe: the
 * emitted Makefile's klp-convert turns the call into a .klp.sym relocation
 * that the livepatch core resolves in the loaded module.
 */
#include <linux/kernel.h>

const char *klpc_probe_b(void);
const char *klpc_beta_b(void);

const char *klpc_beta_b(void)
{
	return klpc_probe_b();
}
