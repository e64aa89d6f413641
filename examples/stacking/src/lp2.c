// SPDX-License-Identifier: GPL-2.0
#include <linux/seq_file.h>

int lp2_funcA(struct seq_file *m, void *v)
{
	seq_printf(m, "%s\n", KBUILD_MODNAME ":" "lp2_funcA");
	return 0;
}

int lp2_funcB(struct seq_file *m, void *v)
{
	seq_printf(m, "%s\n", KBUILD_MODNAME ":" "lp2_funcB");
	return 0;
}
