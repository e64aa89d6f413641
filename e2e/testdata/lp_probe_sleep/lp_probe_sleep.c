// SPDX-License-Identifier: GPL-2.0
/*
 * lp_probe_sleep - livepatch (not a replace) of klpc_probe's klpc_probe_sleep,
 * with the four klp_callbacks,
 * each logging "klpc-cb <module>: <callback> <object> (<module state>)";
 * pre_patch returns the module parameter pre_patch_ret, as the kernel's
 * test_klp_callbacks_demo does.
 */

#include <linux/kernel.h>
#include <linux/livepatch.h>
#include <linux/module.h>

static int pre_patch_ret;
module_param(pre_patch_ret, int, 0644);
MODULE_PARM_DESC(pre_patch_ret, "pre_patch_ret (default=0)");

static const char *const module_state[] = {
	[MODULE_STATE_LIVE]	= "MODULE_STATE_LIVE",
	[MODULE_STATE_COMING]	= "MODULE_STATE_COMING",
	[MODULE_STATE_GOING]	= "MODULE_STATE_GOING",
	[MODULE_STATE_UNFORMED]	= "MODULE_STATE_UNFORMED",
};

static void callback_info(const char *callback, struct klp_object *obj)
{
	if (obj->mod)
		pr_info("klpc-cb %s: %s %s (%s)\n", KBUILD_MODNAME, callback,
			obj->mod->name, module_state[obj->mod->state]);
	else
		pr_info("klpc-cb %s: %s vmlinux\n", KBUILD_MODNAME, callback);
}

static int pre_patch(struct klp_object *obj)
{
	callback_info("pre_patch", obj);
	return pre_patch_ret;
}

static void post_patch(struct klp_object *obj)
{
	callback_info("post_patch", obj);
}

static void pre_unpatch(struct klp_object *obj)
{
	callback_info("pre_unpatch", obj);
}

static void post_unpatch(struct klp_object *obj)
{
	callback_info("post_unpatch", obj);
}

/* klpc_probe_sleep's replacement: sleeps (when asked) under its own identity. */
static const char *livepatch_klpc_probe_sleep(void (*wait)(void *arg, const char *who), void *arg)
{
	static char id[128];

	snprintf(id, sizeof(id), "%s:%s", KBUILD_MODNAME, __func__);
	if (wait)
		wait(arg, id);
	return id;
}

static struct klp_func probe_funcs[] = {
	{
		.old_name = "klpc_probe_sleep",
		.new_func = livepatch_klpc_probe_sleep,
	},
	{ }
};

static struct klp_object objs[] = {
	{
		.name = "klpc_probe",
		.funcs = probe_funcs,
		.callbacks = {
			.pre_patch = pre_patch,
			.post_patch = post_patch,
			.pre_unpatch = pre_unpatch,
			.post_unpatch = post_unpatch,
		},
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
