// SPDX-License-Identifier: GPL-2.0
/*
 * Replacement for fs/proc/cmdline.c:cmdline_proc_show that prints the
 * command line behind a marker. saved_command_line is not exported: the
 * reference is resolved by the livepatch core through .klp.sym.
 */
#include <linux/seq_file.h>

extern char *saved_command_line;

int klpc_cmdline_proc_show(struct seq_file *m, void *v);

int klpc_cmdline_proc_show(struct seq_file *m, void *v)
{
	seq_printf(m, "[livepatched] %s\n", saved_command_line);
	return 0;
}
