// SPDX-License-Identifier: GPL-2.0
/*
 * lp_dup_func - livepatch listing cmdline_proc_show twice. Both klp_funcs get the
 * sysfs name "cmdline_proc_show,1", so kobject_add (klp_init_func) fails with
 * -EEXIST and klp_enable_patch with it. How insmod reports that differs between
 * kernel lines: 7.x's do_init_module turns an init function's -EEXIST into
 * -EBUSY, so that it cannot be mistaken for "module already loaded".
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/kernel.h>
#include <linux/livepatch.h>
#include <linux/module.h>
#include <linux/seq_file.h>

/* Prints this replacement's identity, "<module>:<function>", as the whole file. */
static int livepatch_cmdline_proc_show(struct seq_file *m, void *v)
{
	seq_printf(m, "%s:%s\n", KBUILD_MODNAME, __func__);
	return 0;
}

static struct klp_func vmlinux_funcs[] = {
	{
		.old_name = "cmdline_proc_show",
		.new_func = livepatch_cmdline_proc_show,
	},
	{
		.old_name = "cmdline_proc_show",
		.new_func = livepatch_cmdline_proc_show,
	},
	{ }
};

static struct klp_object objs[] = {
	{
		/* name being NULL means vmlinux */
		.funcs = vmlinux_funcs,
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
