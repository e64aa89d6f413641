// SPDX-License-Identifier: GPL-2.0
/* Replacement of klpc_probe's klpc_probe_sleep that sleeps (when asked) under its identity. */
#include <linux/kernel.h>

const char *klpc_sleep_a(void (*wait)(void *arg, const char *who), void *arg);

const char *klpc_sleep_a(void (*wait)(void *arg, const char *who), void *arg)
{
	static char id[128];

	snprintf(id, sizeof(id), "%s:%s", KBUILD_MODNAME, __func__);
	if (wait)
		wait(arg, id);
	return id;
}
