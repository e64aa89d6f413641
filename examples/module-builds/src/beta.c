// SPDX-License-Identifier: GPL-2.0
#include <linux/kernel.h>

const char *klpc_beta_log(void);

const char *klpc_beta_log(void)
{
	return "lp-beta";
}
