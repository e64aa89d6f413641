// SPDX-License-Identifier: GPL-2.0
/*
 * Replacement of klpc_probe's klpc_probe_beta made for the probe's fixed
 * build: it calls klpc_probe_b(), a static function only that build has,
 * through a .klp.rela.klpc_probe section. It returns its identity only if
 * the call reached the fixed build's function.
 */
#include <linux/kernel.h>
#include <linux/string.h>

const char *klpc_probe_b(void);
const char *klpc_beta_b(void);

const char *klpc_beta_b(void)
{
	static char id[128];

	if (strcmp(klpc_probe_b(), "fixed"))
		return "klpc_probe_b did not answer";
	snprintf(id, sizeof(id), "%s:%s", KBUILD_MODNAME, __func__);
	return id;
}
