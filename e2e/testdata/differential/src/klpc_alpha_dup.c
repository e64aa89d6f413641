// SPDX-License-Identifier: GPL-2.0
/*
 * A second replacement of klpc_probe_alpha, for a fix that spells the
 * function with sympos 1 in the release where klpc_alpha_a spells it with 0.
 */
#include <linux/kernel.h>

const char *klpc_alpha_dup(void);

const char *klpc_alpha_dup(void)
{
	static char id[128];

	snprintf(id, sizeof(id), "%s:%s", KBUILD_MODNAME, __func__);
	return id;
}
