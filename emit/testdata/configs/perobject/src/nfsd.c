// SPDX-License-Identifier: GPL-2.0
/* Replacement for fs/nfsd/nfscache.c:nfsd_reply_cache_stats_show, with callbacks. */
#include <linux/livepatch.h>
#include <linux/printk.h>
#include <linux/seq_file.h>

int klpc_nfsd_reply_cache_stats_show(struct seq_file *m, void *v)
{
	seq_puts(m, "live patched\n");
	return 0;
}

int klpc_nfsd_pre_patch(struct klp_object *obj)
{
	pr_info("patching %s\n", obj->name);
	return 0;
}

void klpc_nfsd_post_unpatch(struct klp_object *obj)
{
	pr_info("unpatched %s\n", obj->name);
}
