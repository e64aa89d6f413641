// SPDX-License-Identifier: GPL-2.0
/*
 * Replacement of klpc_probe's __init function klpc_probe_init_fn that returns
 * its identity; /proc/klpc_probe shows what the module's init ran.
 */
#include <linux/kernel.h>

const char *klpc_init_a(void);

const char *klpc_init_a(void)
{
	static char id[128];

	snprintf(id, sizeof(id), "%s:%s", KBUILD_MODNAME, __func__);
	return id;
}
