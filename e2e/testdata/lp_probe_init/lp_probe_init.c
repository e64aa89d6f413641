// SPDX-License-Identifier: GPL-2.0
/*
 * lp_probe_init - livepatch (not a replace) of klpc_probe's __init function
 * klpc_probe_init_fn. The function's symbol exists only while the module
 * loads, so the patch applies only when klpc_probe loads after it
 * (klp_module_coming); with klpc_probe already live, klp_find_object_symbol
 * does not find it and the load fails.
 */

#include <linux/kernel.h>
#include <linux/livepatch.h>
#include <linux/module.h>

static const char *livepatch_klpc_probe_init_fn(void)
{
	static char id[128];

	snprintf(id, sizeof(id), "%s:%s", KBUILD_MODNAME, __func__);
	return id;
}

static struct klp_func probe_funcs[] = {
	{
		.old_name = "klpc_probe_init_fn",
		.new_func = livepatch_klpc_probe_init_fn,
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
