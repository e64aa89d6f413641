// SPDX-License-Identifier: GPL-2.0
/*
 * klpc_probe - an ordinary kernel module that gives livepatches something to patch
 * and makes the result observable.
 *
 * The module has four functions, klpc_probe_alpha() to klpc_probe_delta(), each of
 * them
 *
 *	const char *klpc_probe_<name>(void);
 *
 * returning the string "original". Reading /proc/klpc_probe calls each of them and
 * prints one line per function:
 *
 *	klpc_probe_alpha original
 *	klpc_probe_beta original
 *	...
 *
 * A livepatch replacing one of them returns an identity instead, by convention
 * "<livepatch module>:<replacement function>" (KBUILD_MODNAME ":" __func__), so
 * the reader learns which livepatch module, and which of its functions, answered:
 *
 *	static const char *livepatch_klpc_probe_alpha(void)
 *	{
 *		static char id[128];
 *
 *		snprintf(id, sizeof(id), "%s:%s", KBUILD_MODNAME, __func__);
 *		return id;
 *	}
 *
 * The functions are global and noinline, so that the compiler keeps each of them
 * as a symbol of its own with an ftrace call site at its entry (the livepatch core
 * redirects them through ftrace), and calls them instead of inlining them. Each
 * counts its calls in a counter of its own: without that, the four bodies would be
 * identical and the compiler could fold them into one.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/compiler.h>
#include <linux/kernel.h>
#include <linux/module.h>
#include <linux/proc_fs.h>
#include <linux/seq_file.h>

/* Calls of each function, kept only to make the four bodies differ. */
static unsigned long klpc_probe_calls[4];

#define KLPC_PROBE_FUNC(name, index)					\
	noinline const char *klpc_probe_##name(void)			\
	{								\
		WRITE_ONCE(klpc_probe_calls[index],			\
			   READ_ONCE(klpc_probe_calls[index]) + 1);	\
		return "original";					\
	}

/* Declarations keep -Wmissing-prototypes quiet; nothing outside calls them. */
const char *klpc_probe_alpha(void);
const char *klpc_probe_beta(void);
const char *klpc_probe_gamma(void);
const char *klpc_probe_delta(void);

KLPC_PROBE_FUNC(alpha, 0)
KLPC_PROBE_FUNC(beta, 1)
KLPC_PROBE_FUNC(gamma, 2)
KLPC_PROBE_FUNC(delta, 3)

static const struct {
	const char *name;
	const char *(*fn)(void);
} klpc_probe_funcs[] = {
	{ "klpc_probe_alpha", klpc_probe_alpha },
	{ "klpc_probe_beta", klpc_probe_beta },
	{ "klpc_probe_gamma", klpc_probe_gamma },
	{ "klpc_probe_delta", klpc_probe_delta },
};

static int klpc_probe_show(struct seq_file *m, void *v)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(klpc_probe_funcs); i++)
		seq_printf(m, "%s %s\n", klpc_probe_funcs[i].name,
			   klpc_probe_funcs[i].fn());
	return 0;
}

static int __init klpc_probe_init(void)
{
	if (!proc_create_single("klpc_probe", 0444, NULL, klpc_probe_show))
		return -ENOMEM;
	return 0;
}

static void __exit klpc_probe_exit(void)
{
	remove_proc_entry("klpc_probe", NULL);
}

module_init(klpc_probe_init);
module_exit(klpc_probe_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("Functions for livepatches to replace, observable in /proc/klpc_probe");
