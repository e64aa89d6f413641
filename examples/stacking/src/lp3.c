// SPDX-License-Identifier: GPL-2.0
#include <linux/seq_file.h>

int lp3_funcB(struct seq_file *m, void *v)
{
	seq_printf(m, "%s\n", KBUILD_MODNAME ":" "lp3_funcB");
	return 0;
}
