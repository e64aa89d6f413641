// SPDX-License-Identifier: GPL-2.0
/*
 * Replacement of klpc_probe's klpc_probe_alpha that counts its calls in the
 * probe's own static array klpc_probe_calls: a symbol of the patched module,
 * reached through a .klp.rela.klpc_probe section that the livepatch core
 * applies when the module loads (klp_module_coming).
 */
#include <linux/kernel.h>

extern unsigned long klpc_probe_calls[4];

const char *klpc_alpha_sym(void);

const char *klpc_alpha_sym(void)
{
	static char id[128];

	klpc_probe_calls[0]++;
	snprintf(id, sizeof(id), "%s:%s", KBUILD_MODNAME, __func__);
	return id;
}
