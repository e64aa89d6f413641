// SPDX-License-Identifier: GPL-2.0
/*
 * permanent - an ordinary module without an exit function, which the kernel
 * therefore never unloads: it leaves the kernel dirty after a scenario.
 */

#include <linux/module.h>

static int __init permanent_init(void)
{
	return 0;
}

module_init(permanent_init);
MODULE_LICENSE("GPL");
