// SPDX-License-Identifier: GPL-2.0
/* Replacement for fs/proc/loadavg.c:loadavg_proc_show. */
#include <linux/seq_file.h>
#include <linux/sched/loadavg.h>

/* get_avenrun is in vmlinux but not exported: it needs a symbol block. */
extern void get_avenrun(unsigned long *loads, unsigned long offset, int shift);
extern unsigned int nr_running(void);

static const char *label = "loadavg"; /* defined here: not a kernel symbol */

int klpc_loadavg_proc_show(struct seq_file *m, void *v);

int klpc_loadavg_proc_show(struct seq_file *m, void *v)
{
	unsigned long avnrun[3];
	int count = 0;

	get_avenrun(avnrun, FIXED_1/200, 0);
	seq_printf(m, "%s %lu %u %d %lu\n", label, avnrun[0], nr_running(), count, avenrun[0]);
	return 0;
}
