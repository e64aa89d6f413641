// SPDX-License-Identifier: GPL-2.0
#include <linux/seq_file.h>

int lp1_funcA(struct seq_file *m, void *v)
{
	seq_printf(m, "%s\n", KBUILD_MODNAME ":" "lp1_funcA");
	return 0;
}
