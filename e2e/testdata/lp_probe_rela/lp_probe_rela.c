// SPDX-License-Identifier: GPL-2.0
/*
 * lp_probe_rela - livepatch replacing klpc_probe_alpha with a function that
 * counts its calls in klpc_probe's own static array klpc_probe_calls. The
 * module loader cannot resolve that symbol: manifest.json names it, and the
 * build turns the reference into a .klp.rela.klpc_probe relocation against
 * .klp.sym.klpc_probe.klpc_probe_calls,0 (klpc klp-convert), which the
 * livepatch core applies whenever klpc_probe loads (klp_module_coming).
 *
 * What happens to that relocation when klpc_probe goes is where the kernel
 * lines differ: 6.1 leaves it in place, so klpc_probe cannot load again while
 * this patch is loaded; 6.12 and 7.x clear it (clear_relocate_add).
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/kernel.h>
#include <linux/livepatch.h>
#include <linux/module.h>

extern unsigned long klpc_probe_calls[4];

/* Returns this replacement's identity, "<module>:<function>". */
static const char *livepatch_klpc_probe_alpha(void)
{
	static char id[128];

	klpc_probe_calls[0]++;
	snprintf(id, sizeof(id), "%s:%s", KBUILD_MODNAME, __func__);
	return id;
}

static struct klp_func probe_funcs[] = {
	{
		.old_name = "klpc_probe_alpha",
		.new_func = livepatch_klpc_probe_alpha,
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
