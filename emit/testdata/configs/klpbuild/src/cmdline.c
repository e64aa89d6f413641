// SPDX-License-Identifier: GPL-2.0
#include <linux/seq_file.h>

int klpc_cmdline_proc_show(struct seq_file *m, void *v);

int klpc_cmdline_proc_show(struct seq_file *m, void *v)
{
	seq_puts(m, "livepatched\n");
	return 0;
}
