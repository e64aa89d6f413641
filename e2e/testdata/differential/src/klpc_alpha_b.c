// SPDX-License-Identifier: GPL-2.0
/* Replacement of klpc_probe's klpc_probe_alpha that returns its identity, "<module>:<function>". */
#include <linux/kernel.h>

const char *klpc_alpha_b(void);

const char *klpc_alpha_b(void)
{
	static char id[128];

	snprintf(id, sizeof(id), "%s:%s", KBUILD_MODNAME, __func__);
	return id;
}
