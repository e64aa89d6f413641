// SPDX-License-Identifier: GPL-2.0
/* Replacement for fs/proc/cmdline.c:cmdline_proc_show. */
#include <linux/seq_file.h>

int klpc_cmdline_proc_show(struct seq_file *m, void *v)
{
	seq_printf(m, "%s\n", "this kernel has been live patched");
	return 0;
}
