// SPDX-License-Identifier: GPL-2.0
/*
 * Replacement of cmdline_proc_show that reads saved_command_line, which
 * vmlinux does not export: the reference reaches it through a .klp.sym
 * symbol the livepatch core resolves. It prints its identity,
 * "<module>:<function>", only when that symbol led to the real command line.
 */
#include <linux/seq_file.h>
#include <linux/string.h>

extern char *saved_command_line;

int klpc_cmd_sym(struct seq_file *m, void *v);

int klpc_cmd_sym(struct seq_file *m, void *v)
{
	if (saved_command_line && strstr(saved_command_line, "console="))
		seq_printf(m, "%s:%s\n", KBUILD_MODNAME, __func__);
	else
		seq_puts(m, "saved_command_line did not resolve\n");
	return 0;
}
