// SPDX-License-Identifier: GPL-2.0
/* Replacement for fs/proc/meminfo.c:meminfo_proc_show. */
#include <linux/mm.h>
#include <linux/seq_file.h>

int klpc_meminfo_proc_show(struct seq_file *m, void *v)
{
	seq_printf(m, "MemTotal:       %8lu kB (live patched)\n", totalram_pages() << (PAGE_SHIFT - 10));
	return 0;
}
