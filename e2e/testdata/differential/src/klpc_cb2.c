// SPDX-License-Identifier: GPL-2.0
/*
 * The callbacks of klpc_cb.c under other names, for a second release: callbacks in the manner of the kernel's test_klp_callbacks_demo, for every
 * object of the release that includes this fix: each logs
 * "klpc-cb <module>: <callback> <object>", followed for a module object by
 * " (<module state>)", and pre_patch returns the module parameter
 * pre_patch_ret (the differential suite sets it for pre_patch_returns).
 * Replacements of version_proc_show and klpc_probe_gamma that report their
 * identity.
 */
#include <linux/kernel.h>
#include <linux/livepatch.h>
#include <linux/module.h>
#include <linux/seq_file.h>

static int pre_patch_ret;
module_param(pre_patch_ret, int, 0644);
MODULE_PARM_DESC(pre_patch_ret, "what the pre_patch callbacks return (default 0)");

static const char *const klpc_cb2_state[] = {
	[MODULE_STATE_LIVE]	= "MODULE_STATE_LIVE",
	[MODULE_STATE_COMING]	= "MODULE_STATE_COMING",
	[MODULE_STATE_GOING]	= "MODULE_STATE_GOING",
	[MODULE_STATE_UNFORMED]	= "MODULE_STATE_UNFORMED",
};

static void klpc_cb2_log(const char *callback, struct klp_object *obj)
{
	if (obj->mod)
		pr_info("klpc-cb %s: %s %s (%s)\n", KBUILD_MODNAME, callback,
			obj->mod->name, klpc_cb2_state[obj->mod->state]);
	else
		pr_info("klpc-cb %s: %s vmlinux\n", KBUILD_MODNAME, callback);
}

int klpc_cb2_pre_patch(struct klp_object *obj);
void klpc_cb2_post_patch(struct klp_object *obj);
void klpc_cb2_pre_unpatch(struct klp_object *obj);
void klpc_cb2_post_unpatch(struct klp_object *obj);

int klpc_cb2_pre_patch(struct klp_object *obj)
{
	klpc_cb2_log("pre_patch", obj);
	return pre_patch_ret;
}

void klpc_cb2_post_patch(struct klp_object *obj)
{
	klpc_cb2_log("post_patch", obj);
}

void klpc_cb2_pre_unpatch(struct klp_object *obj)
{
	klpc_cb2_log("pre_unpatch", obj);
}

void klpc_cb2_post_unpatch(struct klp_object *obj)
{
	klpc_cb2_log("post_unpatch", obj);
}

int klpc_ver_cb2(struct seq_file *m, void *v);

int klpc_ver_cb2(struct seq_file *m, void *v)
{
	seq_printf(m, "%s:%s\n", KBUILD_MODNAME, __func__);
	return 0;
}

const char *klpc_gamma_cb2(void);

const char *klpc_gamma_cb2(void)
{
	static char id[128];

	snprintf(id, sizeof(id), "%s:%s", KBUILD_MODNAME, __func__);
	return id;
}
