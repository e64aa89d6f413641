// SPDX-License-Identifier: GPL-2.0
/*
 * lp_probe_ag - livepatch replacing klpc_probe_alpha and klpc_probe_gamma in the
 * klpc_probe module, which may be loaded before or after it.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/kernel.h>
#include <linux/livepatch.h>
#include <linux/module.h>
#include <linux/seq_file.h>

/* Returns this replacement's identity, "<module>:<function>". */
static const char *livepatch_klpc_probe_alpha(void)
{
	static char id[128];

	snprintf(id, sizeof(id), "%s:%s", KBUILD_MODNAME, __func__);
	return id;
}

/* Returns this replacement's identity, "<module>:<function>". */
static const char *livepatch_klpc_probe_gamma(void)
{
	static char id[128];

	snprintf(id, sizeof(id), "%s:%s", KBUILD_MODNAME, __func__);
	return id;
}

static struct klp_func probe_funcs[] = {
	{
		.old_name = "klpc_probe_alpha",
		.new_func = livepatch_klpc_probe_alpha,
	},
	{
		.old_name = "klpc_probe_gamma",
		.new_func = livepatch_klpc_probe_gamma,
	},
	{ }
};

static struct klp_object objs[] = {
	{
		.name = "klpc_probe",
		.funcs = probe_funcs,
	},
	{ }
};

static struct klp_patch patch = {
	.mod = THIS_MODULE,
	.objs = objs,
};

static int livepatch_init(void)
{
	return klp_enable_patch(&patch);
}

static void livepatch_exit(void)
{
}

module_init(livepatch_init);
module_exit(livepatch_exit);
MODULE_LICENSE("GPL");
MODULE_INFO(livepatch, "Y");
