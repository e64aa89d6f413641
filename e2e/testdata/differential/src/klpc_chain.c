// SPDX-License-Identifier: GPL-2.0
/*
 * Replacement of klpc_alpha_a, the replacement function inside another
 * release's livepatch module: klpc_probe_alpha runs klpc_alpha_a, which runs
 * this, the end of the chain.
 */
#include <linux/kernel.h>

const char *klpc_alpha_chain(void);

const char *klpc_alpha_chain(void)
{
	static char id[128];

	snprintf(id, sizeof(id), "%s:%s", KBUILD_MODNAME, __func__);
	return id;
}
