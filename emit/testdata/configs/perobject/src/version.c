// SPDX-License-Identifier: GPL-2.0
/* Replacement for fs/proc/version.c:version_proc_show. */
#include <linux/seq_file.h>
#include <linux/utsname.h>

int klpc_version_proc_show(struct seq_file *m, void *v)
{
	seq_printf(m, "Linux version %s (live patched)\n", utsname()->release);
	return 0;
}
